"""A CLIM run's configuration (the engine's ClimConfig, src/core/config.ts),
checked as ``validateConfig`` checks it.

Field types, bounds, allowed values, defaults and the cross-field rules that
can be written as data come from ``config_schema.json``, which
``scripts/gen-config-schema.ts`` generates from src/core/config-fields.ts and
DEFAULT_CONFIG (src/core/config-schema.test.ts fails when the committed file
drifts). The schema's ``manualRules`` are implemented by hand below, each
with a test in python/tests/test_config.py. Messages use validateConfig's
words: the field, the bad value (as ``describeValue`` shows it) and the
allowed range.
"""
from __future__ import annotations

import copy
import json
import math
import os
from typing import Any, Mapping, Sequence, Union

from .weights import _js_str, js_json

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config_schema.json")
with open(SCHEMA_PATH, encoding="utf-8") as _f:
    SCHEMA: dict = json.load(_f)

#: Every ClimConfig field, in DEFAULT_CONFIG's order.
FIELDS: tuple = tuple(SCHEMA["fields"])
#: Keys that reach JavaScript's object machinery; refused by name (config.ts PROTOTYPE_KEYS) so a
#: config accepted here is also accepted by the page and the Node runner.
PROTOTYPE_KEYS = ("__proto__", "constructor", "prototype")
#: Manual rules this module implements; a schema listing another one fails at import, not silently.
IMPLEMENTED_MANUAL_RULES = ("resolution-divisible-by-stride",)

_unknown_rules = [r["id"] for r in SCHEMA["manualRules"] if r["id"] not in IMPLEMENTED_MANUAL_RULES]
if _unknown_rules:
    raise ImportError(f"config_schema.json has manual rules config.py does not implement: {', '.join(_unknown_rules)}")


class ConfigError(ValueError):
    """A config that cannot be used. ``issues``: one {field, message} per
    problem (field None for a file or shape problem); the message lists them all."""

    def __init__(self, issues: list, prefix: str = "Invalid config: "):
        self.issues = issues
        super().__init__(prefix + " ".join(i["message"] for i in issues))


def require_choice(value, allowed: Sequence[str], field: str) -> str:
    """``value`` when it is one of ``allowed``; otherwise ValueError naming
    the config field. The trainer's modules check their enumerated fields
    with it: an unsupported value raises, nothing falls back silently."""
    if value not in allowed:
        raise ValueError(f"{field} must be one of {', '.join(allowed)} (got {value!r})")
    return value


def default_config() -> dict:
    """DEFAULT_CONFIG (a fresh copy)."""
    return {k: copy.deepcopy(f["default"]) for k, f in SCHEMA["fields"].items()}


def truncate_text(s: str, limit: int) -> str:
    """``s`` cut to ``limit`` characters with an ellipsis and the full length (config.ts ``truncateText``)."""
    return s if len(s) <= limit else f"{s[:limit]}… ({len(s)} characters)"


def describe_value(v: Any) -> str:
    """A value as a message shows it (config.ts ``describeValue``): strings quoted, so "32" and 32 differ."""
    if isinstance(v, str):
        return js_json(truncate_text(v, 60))
    if isinstance(v, (list, tuple)):
        if len(v) <= 8 and not any(isinstance(x, (dict, list, tuple)) for x in v):
            return truncate_text("[" + ", ".join(describe_value(x) for x in v) + "]", 120)
        return f"an array of {len(v)} items"
    if v is None:
        return "null"
    if isinstance(v, dict):
        return "an object"
    return _js_str(v)


def _is_number(v: Any) -> bool:
    """JavaScript's typeof v === 'number' for JSON data (a bool is not a number)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_whole(v: Any) -> bool:
    """Number.isInteger(v): 3 and 3.0 (JSON makes no difference) but not 3.5, NaN or Infinity."""
    return _is_number(v) and (isinstance(v, int) or (math.isfinite(v) and float(v).is_integer()))


def _fill(template: str, **values: Any) -> str:
    return template.format(**{k: v if isinstance(v, str) else _js_str(v) for k, v in values.items()})


def validate_config(c: Mapping) -> list:
    """Every problem with the complete config ``c``, each {field, message}; empty when valid (validateConfig)."""
    msgs = SCHEMA["messages"]
    issues: list = []

    def bad(field: str, message: str) -> None:
        issues.append({"field": field, "message": message})

    for key, f in SCHEMA["fields"].items():
        v = c.get(key)
        t = f["type"]
        if t == "int":
            if not _is_whole(v) or v < f["min"] or v > f["max"]:
                bad(key, _fill(msgs["int"], field=key, min=f["min"], max=f["max"], value=describe_value(v)))
        elif t == "number":
            lo_open = bool(f.get("minExclusive"))
            ok = _is_number(v) and math.isfinite(v) and v <= f["max"] and (v > f["min"] if lo_open else v >= f["min"])
            if not ok:
                template = msgs["numberMinExclusive"] if lo_open else msgs["number"]
                bad(key, _fill(template, field=key, min=f["min"], max=f["max"], value=describe_value(v)))
        elif t == "enum":
            if not isinstance(v, str) or v not in f["options"]:
                bad(key, _fill(msgs["enum"], field=key, options=", ".join(f["options"]), value=describe_value(v)))
        elif t == "bool":
            if not isinstance(v, bool):
                bad(key, _fill(msgs["bool"], field=key, value=describe_value(v)))
        elif t == "int-list":
            if not isinstance(v, (list, tuple)) or not f["minLength"] <= len(v) <= f["maxLength"]:
                bad(key, _fill(msgs["intListLength"], field=key, minLength=f["minLength"], maxLength=f["maxLength"]))
                continue
            for r in v:
                if not _is_whole(r) or r < f["min"] or r > f["max"]:
                    bad(key, _fill(msgs["intListEntry"], min=f["min"], max=f["max"], value=describe_value(r)))
                else:
                    _manual_resolution_divisible(c, key, r, bad)
        else:  # pragma: no cover - the schema's types are fixed by config-schema.ts
            raise ValueError(f"config_schema.json: field {key} has unknown type {t!r}")

    for rule in SCHEMA["rules"]:
        field = rule["field"]
        if rule["kind"] == "lessOrEqual":
            a, b = c.get(field), c.get(rule["other"])
            # Compared whenever both are numbers (even out of range), as validateConfig does.
            if _is_number(a) and _is_number(b) and a > b:
                bad(field, _fill(rule["message"], field=field, other=rule["other"], value=a, otherValue=b))
        elif rule["kind"] == "less":
            a, b = c.get(field), c.get(rule["other"])
            if _is_number(a) and _is_number(b) and a >= b:
                bad(field, _fill(rule["message"], field=field, other=rule["other"], value=a, otherValue=b))
        elif rule["kind"] == "unique":
            v = c.get(field)
            if isinstance(v, (list, tuple)) and _length_ok(field, v):
                # JavaScript's Set: 16 and 16.0 are one value, 16 and "16" two.
                keys = [("number", float(x)) if _is_number(x) else (type(x).__name__, js_json(x)) for x in v]
                if len(set(keys)) != len(keys):
                    bad(field, _fill(rule["message"], field=field))
        else:  # pragma: no cover
            raise ValueError(f"config_schema.json: unknown rule kind {rule['kind']!r}")
    return issues


def _length_ok(field: str, v: Any) -> bool:
    """Whether list field ``field`` has an allowed length (validateConfig checks repeats only then)."""
    f = SCHEMA["fields"][field]
    return f["minLength"] <= len(v) <= f["maxLength"]


def _manual_resolution_divisible(c: Mapping, field: str, r: Any, bad) -> None:
    """Manual rule 'resolution-divisible-by-stride' (config_schema.json
    manualRules): a valid resolution r must be divisible by
    stemStride·2^(stages−1) so the stem and every later stage halve it evenly
    (docs/METHOD.md §1.1); a non-numeric stemStride or stages counts as 1."""
    rule = next(m for m in SCHEMA["manualRules"] if m["id"] == "resolution-divisible-by-stride")
    stride = c.get("stemStride") if _is_number(c.get("stemStride")) else 1
    stages = c.get("stages") if _is_number(c.get("stages")) else 1
    try:
        step = stride * 2 ** max(0, stages - 1)
        if isinstance(step, int) and step > 2**1023:
            step = math.inf  # a double overflows there, as JavaScript's 2 ** n does
    except OverflowError:
        step = math.inf
    # JavaScript's r % step: r % Infinity is r, r % NaN is NaN (≠ 0), r % 0 is NaN.
    if step == 0 or (isinstance(step, float) and (math.isnan(step) or math.isinf(step))):
        divisible = False
    else:
        divisible = math.fmod(r, step) == 0
    if not divisible:
        bad(field, _fill(rule["message"], step=step, value=r))


def unwrap_config(raw: Any) -> Any:
    """The config object inside what the app writes: the export zip's
    ``config.json`` is the config itself (src/core/export/projector.ts
    ``configJson``); a run report (``npm run train -- --out``) or a weights
    file's ``info`` holds it under ``"config"``. Unwrapped only when the
    outer object has a ``config`` object and no config field of its own."""
    if isinstance(raw, dict) and isinstance(raw.get("config"), dict) and not any(k in FIELDS for k in raw):
        return raw["config"]
    return raw


def load_config(source: Union[str, os.PathLike, Mapping, None] = None) -> dict:
    """A complete, valid config from a JSON file path or a dict (or None for
    the defaults): missing fields take DEFAULT_CONFIG's value, unknown fields
    and bad values raise ``ConfigError`` listing every problem
    (mergeConfigFields + validateConfig). Whole numbers written as 3.0 come
    back as int."""
    where = ""
    if source is None:
        raw: Any = {}
    elif isinstance(source, Mapping):
        raw = source
    else:
        where = f"{os.fspath(source)}: "
        try:
            with open(source, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, ValueError) as e:
            raise ConfigError([{"field": None, "message": f"cannot read the config ({e})."}], prefix=f"{where}") from None
    raw = unwrap_config(raw)
    if not isinstance(raw, Mapping):
        raise ConfigError(
            [{"field": None, "message": f"expected an object of config fields (got {describe_value(raw)})"}],
            prefix=f"{where}Invalid config: ",
        )
    problems = []
    config = default_config()
    for key, v in raw.items():
        if key in PROTOTYPE_KEYS:
            problems.append({"field": None, "message": f'"{key}" is not a config field (it names JavaScript\'s object machinery)'})
        elif key not in SCHEMA["fields"]:
            problems.append({"field": None, "message": f'unknown field "{truncate_text(str(key), 60)}"'})
        else:
            config[key] = copy.deepcopy(list(v) if isinstance(v, tuple) else v)
    if problems:
        # As the runner's --config: unknown keys are reported before ranges are checked; joined with '; '.
        raise _merge_error(problems, where)
    issues = validate_config(config)
    if issues:
        raise ConfigError(issues, prefix=f"{where}Invalid config: ")
    for key, f in SCHEMA["fields"].items():
        if f["type"] == "int":
            config[key] = int(config[key])
        elif f["type"] == "int-list":
            config[key] = [int(r) for r in config[key]]
    return config


def _merge_error(problems: list, where: str) -> ConfigError:
    err = ConfigError(problems, prefix=f"{where}Invalid config: ")
    # mergeConfigFields' problems are phrases, joined with '; ' by the runner (src/cli/train.ts).
    err.args = (f"{where}Invalid config: " + "; ".join(p["message"] for p in problems),)
    return err


def architecture(config: Mapping) -> dict:
    """The encoder-shaping fields of a config (weights.py ARCHITECTURE_FIELDS), for ``model.Encoder``."""
    from .weights import architecture_of

    return architecture_of(config)
