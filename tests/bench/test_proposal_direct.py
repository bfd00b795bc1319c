"""``annotator bench proposal-direct`` on a tiny rendered set: the eq. 16 gap table, protocol A
for the four selectors, and the paired bootstrap rows; the ``direct`` selector of protocol A."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from annotator.bench import proposal_direct
from annotator.bench.efficiency_data import load_set
from annotator.bench.efficiency_oneshot import SELECTORS

from ..proposal.helpers import tiny_model_file
from .test_efficiency import tiny_set


def test_the_bench_prints_the_gap_pck_and_bootstrap_rows(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ANNOTATOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ANNOTATOR_KFPN_MODEL", str(tiny_model_file(tmp_path / "k.pt", window=8)))
    folder = tiny_set(data_dir, tmp_path / "set")
    parser = argparse.ArgumentParser()
    proposal_direct.add_arguments(parser)
    args = parser.parse_args(
        ["--set", str(folder), "--fills", "linear", "--fractions", "0.2", "--resamples", "50"]
    )
    assert proposal_direct.run(args) == 0
    out = capsys.readouterr().out
    gap = {
        r.split("|")[2].strip(): r.split("|")[4].strip()
        for r in out.splitlines()
        if r.startswith("| 20% |")
    }
    assert set(gap) == set(proposal_direct.SELECTORS) and gap["direct"] == "+0.0%"
    pck = [r for r in out.splitlines() if r.startswith("| linear | 20% |")]
    assert len(pck) == 4 + 1  # one row per selector, then the bootstrap row
    assert pck[-1].count("[") == 3

    # the same frames through protocol A's selector table
    clip = load_set(folder)[0]
    frames = SELECTORS["direct"](clip, 5, 0)
    assert len(frames) == 5 and list(frames) == sorted(set(frames.tolist()))
