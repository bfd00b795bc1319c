"""``annotator bench gate --rules``: which selection rules the benchmark compares."""

from __future__ import annotations

import pytest

from annotator.bench.gate import _rules
from annotator.errors import UsageError
from annotator.propagation.gate_select import DEFAULT_RULE


def test_default_is_the_apps_rule_and_lists_keep_their_order() -> None:
    assert _rules(None) == [DEFAULT_RULE]
    assert _rules("spaced, top,spaced") == ["spaced", "top"]


@pytest.mark.parametrize("spec", ["best", "top,bogus", ","])
def test_unknown_rules_are_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError, match="--rules"):
        _rules(spec)
