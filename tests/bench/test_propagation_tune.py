"""``annotator bench propagation --sections tune``: a setting counts only when it gains in the
mean and loses no budget, one parameter changes at a time, and only a training render is
accepted (settings chosen on the validation set could not be checked on it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.bench.propagation_tune import GRID, Trial, better, tune_section
from annotator.errors import UsageError
from annotator.propagation.fuse import CORRELATION
from annotator.propagation.mv import DEFAULT_SETTINGS


def test_a_setting_is_better_only_when_it_loses_no_budget() -> None:
    assert better([80.0, 91.0, 97.0, 99.0], [79.0, 90.0, 97.0, 99.0])
    assert not better([82.0, 92.0, 96.0, 99.0], [79.0, 90.0, 97.0, 99.0])  # 20 % lost a point
    assert not better([79.02, 90.0, 97.0, 99.0], [79.0, 90.0, 97.0, 99.0])  # noise


def test_a_trial_changes_one_parameter_at_a_time() -> None:
    base = Trial(DEFAULT_SETTINGS, CORRELATION)
    for name in GRID:
        assert base.value(name) in GRID[name]  # every grid holds today's value
        other = next(v for v in GRID[name] if v != base.value(name))
        moved = base.with_value(name, other)
        assert moved.value(name) == other
        assert [moved.value(n) for n in GRID if n != name] == [
            base.value(n) for n in GRID if n != name
        ]


def test_tuning_refuses_a_validation_set(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"split": "val"}')
    with pytest.raises(UsageError, match="training render"):
        tune_section(tmp_path)
    with pytest.raises(UsageError, match="unknown split"):
        tune_section(tmp_path / "nothing")
