"""Every case of the hostile-input corpus (``tests/cli/hostile.py``) through the real program.

Each case runs ``annotator.cli.main`` in a child forked from a warm server (fast, and its own
process, so exit code, stderr and peak memory are the program's). A refused case must end with
exactly one line on stderr, exit 2, the case's folder unchanged (no file written, changed or
removed), peak memory at most 256 MiB over the child's baseline and under 5 s. A cache case
must exit 0 with the right answer and the cache rebuilt.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from tests.cli import hostile

MEMORY_KIB = 256 * 1024
SECONDS = 5.0
PRELOAD = [
    "numpy",
    "scipy.io",
    "av",
    "cv2",
    "annotator.cli",
    "annotator.cli.import_labels",
    "annotator.cli.export",
    "annotator.cli.fill",
    "annotator.cli.frame",
    "annotator.cli.info",
    "annotator.formats.registry",
    "annotator.dynamics.fill",
    "annotator.video",
    "tests.cli.hostile",
    "torch",  # propose's model loader: its import time is not the case's
    "annotator.proposal.kfpn",
]


@pytest.fixture(scope="module")
def server() -> multiprocessing.context.ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> hostile.Assets:
    from tests.video.videomaker import make_video

    folder = tmp_path_factory.mktemp("assets")
    old = os.environ.get("ANNOTATOR_CACHE_DIR")
    os.environ["ANNOTATOR_CACHE_DIR"] = str(folder / "cache")
    try:
        video = make_video(folder / "clip.mp4", n=30)
        project = hostile.make_project(folder / "good.annot.json", video)
    finally:
        if old is None:
            del os.environ["ANNOTATOR_CACHE_DIR"]
        else:
            os.environ["ANNOTATOR_CACHE_DIR"] = old
    return hostile.Assets(video, project)


def test_corpus_covers_every_class() -> None:
    classes = {c.klass for c in hostile.CASES}
    assert classes == set(range(1, 9)), classes
    assert len({c.id for c in hostile.CASES}) == len(hostile.CASES)
    assert len(hostile.CASES) >= 100


@pytest.mark.parametrize("case", hostile.CASES, ids=[c.id for c in hostile.CASES])
def test_hostile_case(
    case: hostile.Case,
    tmp_path: Path,
    assets: hostile.Assets,
    server: multiprocessing.context.ForkServerContext,
) -> None:
    work = tmp_path / "case"
    work.mkdir()
    cache = os.environ["ANNOTATOR_CACHE_DIR"]  # the private one conftest gives each test
    argv = case.build(work, assets)
    before = hostile.snapshot(work)
    err, out, result = (str(tmp_path / n) for n in ("err", "out", "result.json"))
    env = {"ANNOTATOR_CACHE_DIR": cache, "ANNOTATOR_DATA_HOME": str(tmp_path / "data-home")}
    child = server.Process(
        target=hostile.run_case, args=(argv, str(work), env, err, out, result), daemon=True
    )
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"{case.id}: the command hung (argv {argv})")
    stderr = Path(err).read_text(errors="replace")
    assert Path(result).is_file(), f"{case.id}: the child died ({child.exitcode}): {stderr}"
    outcome = json.loads(Path(result).read_text())
    assert outcome["seconds"] < SECONDS, f"{case.id} took {outcome['seconds']:.1f} s"
    assert outcome["grew_kib"] < MEMORY_KIB, f"{case.id} grew by {outcome['grew_kib']} KiB"
    if case.expect == "ok":
        assert outcome["rc"] == 0, f"{case.id}: exit {outcome['rc']}: {stderr}"
        assert case.check is not None
        case.check(work, assets)
        return
    lines = stderr.strip().splitlines()
    assert outcome["rc"] == 2, f"{case.id}: exit {outcome['rc']}: {stderr}"
    assert len(lines) == 1 and lines[0].startswith("annotator: error: "), stderr
    for word in case.words:
        assert word.lower() in lines[0].lower(), f"{case.id}: {word!r} not in {lines[0]!r}"
    assert hostile.snapshot(work) == before, f"{case.id}: files were written or changed"
