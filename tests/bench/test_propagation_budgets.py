"""``annotator bench propagation --budgets``: fractions and key frame counts, as in
``--keep-frames uniform:B``; a malformed one is a one-line usage error."""

from __future__ import annotations

import pytest

from annotator.bench.propagation import REAL_BUDGETS, parse_budgets
from annotator.errors import UsageError


def test_budgets_take_fractions_and_counts() -> None:
    assert parse_budgets("3, 0.02,0.1") == ["3", "0.02", "0.1"]
    assert parse_budgets(",".join(REAL_BUDGETS)) == list(REAL_BUDGETS)


@pytest.mark.parametrize("spec", ["", "x", "1", "0", "1.5", "-0.1"])
def test_a_bad_budget_is_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_budgets(spec)
