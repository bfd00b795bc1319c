"""Small helpers for the sentences the window shows (so "1 labelled frame" reads right)."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``noun`` for a count of one, else its plural (``many``, or ``noun`` + "s")."""
    if count == 1:
        return noun
    return many if many is not None else f"{noun}s"
