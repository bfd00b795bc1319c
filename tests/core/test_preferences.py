"""The preferences model: defaults, validation with one-line reasons, stored values."""

from __future__ import annotations

import pytest

from annotator.core import preferences as p
from annotator.core.preferences import Preferences, SettingError


def test_defaults_are_valid_and_round_trip() -> None:
    prefs = Preferences()
    assert p.validated(prefs) == prefs
    again, problems = p.from_mapping(p.to_mapping(prefs))
    assert again == prefs and problems == []
    assert prefs.theme == "system" and prefs.device == "auto"
    assert prefs.fill_motion == "optical flow"  # the video fills walk the flow by default


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("marker_size", 0.5, "between 2 and 20 px"),
        ("marker_size", "big", "not a number"),
        ("overlay_opacity", 1.5, "between 0.1 and 1"),
        ("frame_cache", 10.5, "whole number"),
        ("autosave_interval", float("nan"), "between"),
        ("theme", "purple", "choose one of system, light, dark"),
        ("device", "tpu", "choose one of auto, cpu, cuda"),
        ("fill_motion", "sonar", "choose one of optical flow, codec vectors"),
    ],
)
def test_bad_values_are_refused_with_a_reason(name: str, value: object, words: str) -> None:
    with pytest.raises(SettingError, match=words):
        p.check(name, value)


def test_choices_offered_here_replace_the_fields_own() -> None:
    assert p.check("device", "cpu", ["auto", "cpu"]) == "cpu"
    with pytest.raises(SettingError, match="not offered here"):
        p.check("device", "cuda", ["auto", "cpu"])  # a machine without CUDA
    with pytest.raises(SettingError, match="Fill method"):
        p.validated(Preferences(fill_method="nope"), {"fill_method": ["auto", "hpim"]})


def test_stored_strings_convert_and_bad_ones_keep_the_default() -> None:
    # QSettings' INI files give strings back.
    prefs, problems = p.from_mapping(
        {"marker_size": "8.5", "frame_cache": "128", "theme": "light", "overlay_opacity": "9"}
    )
    assert prefs.marker_size == 8.5 and prefs.frame_cache == 128 and prefs.theme == "light"
    assert prefs.overlay_opacity == Preferences().overlay_opacity
    assert len(problems) == 1 and "Overlay opacity" in problems[0] and "default" in problems[0]


def test_budget_is_a_share_of_the_frames() -> None:
    assert Preferences().budget_frames(240) is None  # the method's own count
    assert Preferences(proposal_budget=10).budget_frames(240) == 24
    assert Preferences(proposal_budget=0.1).budget_frames(40) == 1  # rounded up, at least 1
    assert Preferences(proposal_budget=100).budget_frames(40) == 40
