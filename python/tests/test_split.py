"""The held-out split (split.py) against values printed by the engine."""


from clim_torch.split import XoshiroRng, holdout_split


def test_xoshiro_and_holdout_split_match_the_engine():
    # Values printed by src/core/rng.ts and src/core/data/folder.ts (tsx) for these seeds.
    r = XoshiroRng(12345)
    assert [r.next_u32() for _ in range(5)] == [518667457, 440444462, 4232892992, 3757857622, 3939018813]
    train, test = holdout_split(40, [i % 3 for i in range(40)], 0.1, 7)
    assert test.tolist() == [14, 21, 31] and sorted(train.tolist() + test.tolist()) == list(range(40))
    assert holdout_split(25, None, 0.2, 3)[1].tolist() == [0, 5, 11, 14, 18]
