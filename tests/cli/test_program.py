"""The ``annotator`` program's dispatch: help, one-line errors, sub-command tables."""

from __future__ import annotations

import argparse
import sys
import types

import pytest

from annotator import cli
from annotator.cli import subcommands


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for spec in cli.COMMANDS:
        with pytest.raises(SystemExit) as stop:
            cli.main([spec.name, "--help"])
        assert stop.value.code == 0, spec.name
        assert f"annotator {spec.name}" in capsys.readouterr().out


def test_user_error_is_one_line_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["info", "/no/such/video.mp4"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("annotator: error: ")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_broken_sub_command_does_not_disable_its_siblings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = types.ModuleType("good_cmd")
    good.add_arguments = lambda p: p.add_argument("--n", type=int, default=1)
    good.run = lambda a: a.n * 7
    monkeypatch.setitem(sys.modules, "good_cmd", good)
    parser = argparse.ArgumentParser()
    subcommands.add_table(
        parser, {"good": ("good_cmd", "works"), "bad": ("no_such_module_xyz", "broken")}
    )
    assert subcommands.run_table(parser.parse_args(["good", "--n", "3"])) == 21
    with pytest.raises(cli.AnnotatorError, match="'bad' is unavailable"):
        subcommands.run_table(parser.parse_args(["bad"]))


def test_verbose_is_accepted_after_a_sub_command(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """ "run again with -v" sends users to add it at the end of ``annotator train online ...``
    too: it is accepted there and shows the details (no "unrecognized arguments")."""
    from annotator.cli import main

    argv = ["train", "online", "--videos", str(tmp_path / "none.mp4"), "--out", "o.pt"]
    assert main([*argv, "-v"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized" not in err and "annotator: error:" in err
    assert "Traceback" in err  # -v shows the details
