"""clim_torch.config: defaults, unknown fields, every kind of bad value with
validateConfig's words, the cross-field rules (data and manual), unwrapping
the app's files, and the same messages as the engine's validateConfig."""
import glob
import json
import os
import shutil
import subprocess

import pytest

from clim_torch.config import (
    FIELDS,
    SCHEMA,
    ConfigError,
    default_config,
    describe_value,
    load_config,
    unwrap_config,
    validate_config,
)
from clim_torch.weights import read_weights

from conftest import REPO_ROOT


def messages(patch):
    return [i["message"] for i in validate_config({**default_config(), **patch})]


def error_of(source):
    with pytest.raises(ConfigError) as e:
        load_config(source)
    assert isinstance(e.value, ValueError)
    return e.value


def test_defaults_fill_missing_fields_and_validate():
    c = load_config({"width": 32, "resolutions": [16]})
    assert c["width"] == 32 and c["resolutions"] == [16]
    d = default_config()
    assert set(c) == set(d) == set(FIELDS)
    assert all(c[k] == d[k] for k in FIELDS if k not in ("width", "resolutions"))
    assert load_config() == d and load_config(None)["bankSpace"] == "backbone"
    assert validate_config(d) == []
    # Defaults are fresh copies: changing one result leaves the next alone.
    c["resolutions"].append(8)
    assert load_config()["resolutions"] == [32, 24]


def test_whole_numbers_written_as_floats_are_ints():
    c = load_config({"width": 16.0, "resolutions": [32.0]})
    assert c["width"] == 16 and type(c["width"]) is int and type(c["resolutions"][0]) is int


def test_unknown_and_prototype_fields_are_refused_by_name():
    e = error_of({"widht": 8, "__proto__": {}})
    assert str(e) == (
        'Invalid config: unknown field "widht"; "__proto__" is not a config field (it names JavaScript\'s object machinery)'
    )


@pytest.mark.parametrize(
    "patch,message",
    [
        ({"width": 1}, "width must be a whole number from 2 to 256 (got 1)."),
        ({"width": "32"}, 'width must be a whole number from 2 to 256 (got "32").'),
        ({"width": 16.5}, "width must be a whole number from 2 to 256 (got 16.5)."),
        ({"width": True}, "width must be a whole number from 2 to 256 (got true)."),
        ({"seed": -1}, "seed must be a whole number from 0 to 4294967295 (got -1)."),
        ({"lr": 0}, "lr must be a number above 0 and at most 10 (got 0)."),
        ({"temperature": None}, "temperature must be a number above 0 and at most 10 (got null)."),
        ({"flipProb": 1.5}, "flipProb must be a number from 0 to 1 (got 1.5)."),
        ({"hue": float("nan")}, "hue must be a number from 0 to 0.5 (got NaN)."),
        ({"weightDecay": [1]}, "weightDecay must be a number from 0 to 1 (got [1])."),
        ({"norm": "batch"}, 'norm must be one of group, none (got "batch").'),
        ({"selection": {"a": 1}}, "selection must be one of none, knn, cluster, center-wise (got an object)."),
        ({"maskOwnKeys": 1}, "maskOwnKeys must be true or false (got 1)."),
        ({"resolutions": []}, "resolutions must list 1 to 4 crop sizes."),
        ({"resolutions": 32}, "resolutions must list 1 to 4 crop sizes."),
        ({"resolutions": [32, 16, 8, 24, 40]}, "resolutions must list 1 to 4 crop sizes."),
        ({"resolutions": [32, 256]}, "each resolution must be a whole number from 8 to 128 (got 256)."),
        ({"resolutions": ["32"]}, 'each resolution must be a whole number from 8 to 128 (got "32").'),
    ],
)
def test_bad_values_are_worded_as_validate_config(patch, message):
    assert messages(patch) == [message]
    e = error_of(patch)
    assert str(e) == f"Invalid config: {message}"
    assert e.issues[0]["field"] == next(iter(patch))


def test_every_problem_is_listed():
    e = error_of({"width": 0, "norm": "x", "lr": -1})
    assert [i["field"] for i in e.issues] == ["width", "norm", "lr"]


# ---------------------------------------------------------------- cross-field rules


def test_data_rule_crop_order():
    assert messages({"cropScaleMin": 0.9, "cropScaleMax": 0.5}) == [
        "cropScaleMin (0.9) must not exceed cropScaleMax (0.5)."
    ]
    assert messages({"cropScaleMin": 0.5, "cropScaleMax": 0.5}) == []


def test_data_rule_schedule_segment_starts_before_the_end():
    """scheduleStart < totalSteps (validateConfig; set by the app's "Train N more steps", §1.5)."""
    assert messages({"scheduleStart": 30, "totalSteps": 30}) == [
        "scheduleStart (30) must be less than totalSteps (30): the learning-rate segment it starts needs at least one step."
    ]
    assert messages({"scheduleStart": 30, "totalSteps": 50}) == [] and messages({}) == []


def test_data_rule_resolutions_do_not_repeat():
    assert messages({"resolutions": [16, 16]}) == ["resolutions must not repeat."]
    assert messages({"resolutions": [16, 16.0]}) == ["resolutions must not repeat."]  # one number in JSON


def test_manual_rule_resolution_divisible_by_stride():
    assert [r["id"] for r in SCHEMA["manualRules"]] == ["resolution-divisible-by-stride"]
    # Default encoder: stemStride 2, 3 stages → step 8.
    assert messages({"resolutions": [36, 32]}) == [
        "each resolution must be divisible by 8 (stemStride·2^(stages−1)) so every downsampling halves it evenly (got 36)."
    ]
    assert messages({"resolutions": [36], "stemStride": 1, "stages": 3}) == []  # step 4
    assert messages({"resolutions": [9], "stemStride": 1, "stages": 2})[0].startswith(
        "each resolution must be divisible by 2 "
    )
    # A bad stemStride counts as 1 for the rule (and is reported as itself).
    assert messages({"resolutions": [12], "stemStride": "2", "stages": 3}) == [
        'stemStride must be a whole number from 1 to 2 (got "2").'
    ]
    # Out-of-range resolutions are reported once, not also as indivisible.
    assert len(messages({"resolutions": [7]})) == 1


# ---------------------------------------------------------------- files and wrappers


def test_reads_the_export_config_json_and_wrapped_configs(tmp_path):
    d = default_config()
    d["width"] = 8
    d["resolutions"] = [16]
    p = tmp_path / "config.json"
    p.write_text(json.dumps(d, indent=2) + "\n")  # the export zip's config.json: the config itself
    assert load_config(p) == d
    report = {"config": d, "history": [], "backend": "wasm"}  # `npm run train -- --out` report
    assert load_config(report) == d
    # An object that has config fields of its own is not a wrapper.
    assert unwrap_config({"config": {}, "width": 8}) == {"config": {}, "width": 8}
    e = error_of({"config": {}, "width": 8})
    assert 'unknown field "config"' in str(e)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(REPO_ROOT, "public", "models", "*.climweights"))))
def test_reads_the_config_a_weights_file_records(path):
    info = read_weights(path).info
    c = load_config(info)  # {"savedAt", "trainedOn", "steps", "config": {...}, ...}
    assert c == load_config(info["config"])


def test_unreadable_files_and_non_objects(tmp_path):
    e = error_of(tmp_path / "missing.json")
    assert "missing.json: cannot read the config" in str(e)
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    assert "bad.json: cannot read the config" in str(error_of(p))
    p.write_text("[1, 2]")
    assert str(error_of(p)).endswith("expected an object of config fields (got [1, 2])")


def test_describe_value():
    assert describe_value("x" * 70) == json.dumps("x" * 60 + "… (70 characters)", ensure_ascii=False)
    assert describe_value(list(range(9))) == "an array of 9 items"
    assert describe_value([1, "a", None, False]) == '[1, "a", null, false]'
    assert describe_value(0.0005) == "0.0005" and describe_value(1e-7) == "1e-7" and describe_value(3.0) == "3"


# ---------------------------------------------------------------- against the engine itself

BAD_CONFIGS = [
    {"width": 1},
    {"width": "32", "lr": 0, "norm": "batch"},
    {"resolutions": [36, 36, 200], "cropScaleMin": 0.9, "cropScaleMax": 0.2},
    {"resolutions": [], "maskOwnKeys": None},
    {"hue": 0.75, "seed": 2**32, "evalTemperature": 1e-7, "mixAlpha": [1, 2]},
    {"resolutions": [12], "stemStride": 1, "stages": 4, "groups": 0.5},
]


@pytest.mark.skipif(
    not os.path.isdir(os.path.join(REPO_ROOT, "node_modules")) or shutil.which("npx") is None,
    reason="node_modules is absent (run `npm ci`): cannot run the engine's validateConfig",
)
def test_same_messages_as_the_engines_validate_config(tmp_path):
    script = tmp_path / "validate.ts"
    config_ts = os.path.join(REPO_ROOT, "src", "core", "config.ts")
    script.write_text(
        f"import {{ readFileSync }} from 'node:fs';\n"
        f"import {{ defaultConfig, validateConfig }} from {json.dumps(config_ts)};\n"
        "const cases = JSON.parse(readFileSync(0, 'utf8'));\n"
        "process.stdout.write(JSON.stringify(cases.map((p) => validateConfig({ ...defaultConfig(), ...p }))));\n"
    )
    r = subprocess.run(
        ["npx", "tsx", str(script)], cwd=REPO_ROOT, input=json.dumps(BAD_CONFIGS), capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr[-2000:]
    engine = json.loads(r.stdout)
    for patch, want in zip(BAD_CONFIGS, engine):
        got = validate_config({**default_config(), **patch})
        # Same issues; the order may differ (cross-field rules come last here).
        assert sorted((i["field"], i["message"]) for i in got) == sorted((i["field"], i["message"]) for i in want), patch
