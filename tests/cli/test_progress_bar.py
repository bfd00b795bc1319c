"""``annotator estimate``'s progress: redrawn in place on a terminal, plain lines (one per
tenth of the work or new stage, no carriage returns) in a log file."""

from __future__ import annotations

from annotator.cli.estimate import ProgressBar


def test_a_terminal_gets_one_line_redrawn_in_place(capsys) -> None:  # type: ignore[no-untyped-def]
    bar = ProgressBar(terminal=True)
    for i in range(101):
        bar(i / 100)
    bar.done()
    err = capsys.readouterr().err
    assert err.count("\r") == 101 and err.endswith("\n") and err.count("\n") == 1
    assert "100 %" in err


def test_a_log_file_gets_plain_lines(capsys) -> None:  # type: ignore[no-untyped-def]
    bar = ProgressBar(terminal=False)
    bar.stage = "estimating"
    for i in range(101):
        bar(i / 100)
    bar.stage = "filling"
    bar(1.0)
    bar.done()
    lines = capsys.readouterr().err.splitlines()
    assert "\r" not in "".join(lines)
    assert lines[0] == "  0 % estimating" and lines[-2:] == ["100 % estimating", "100 % filling"]
    assert len(lines) == 12  # 0, 10, ..., 100 % and the new stage


def test_no_progress_writes_nothing(capsys) -> None:  # type: ignore[no-untyped-def]
    bar = ProgressBar(enabled=False, terminal=False)
    bar(0.5)
    bar.done()
    assert capsys.readouterr().err == ""
