"""Kill -9 a command while it overwrites an existing output: the output is always either the
old file, byte for byte, or the complete new one, never empty or torn.

Covers ``fill``, ``propose``, ``export`` (the shared export function the GUI uses too) and the
training outputs (HPIM and DYAN model files, K-FPN weights, model cards). Each writer runs in a
forked child (the parent has imported everything, so a child starts in milliseconds) and is
killed at a random moment spread over its whole run, save included.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.core.codes import Source, Visibility
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.skeleton import PENN_ACTION
from annotator.formats import registry

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")
KILLS = 12
OLD = b"the user's previous output, which must survive a kill"


def _labels(path: Path, frames: int = 20_000) -> Path:
    inst = PoseInstance.empty(0, frames, PENN_ACTION.num_joints)
    keys = np.arange(0, frames, 5)
    inst.poses[keys, :, 0] = keys[:, None] % 300
    inst.poses[keys, :, 1] = 50.0
    inst.poses[keys, :, 2] = Visibility.VISIBLE
    inst.source[keys] = Source.MANUAL
    registry.get("npz").write(PoseSet(PENN_ACTION, frames, [inst], 30.0), path)
    return path


def _child(target: Callable[[], object]) -> int:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            if "torch" in sys.modules:
                # OpenMP's thread team does not survive fork(): a child entering a parallel
                # region that the parent had used waits forever on the missing threads.
                sys.modules["torch"].set_num_threads(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            result = target()
            code = result if isinstance(result, int) else 0
        except BaseException:
            traceback.print_exc()
            code = 3
        finally:
            os._exit(code)
    return pid


def _wait(pid: int, limit: float = 120.0) -> int:
    """The child's exit status; a child still running after ``limit`` seconds is killed and
    the test fails (a hang must not stall the suite)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"a writer did not finish within {limit:.0f} s")


def _run(target: Callable[[], object]) -> float:
    started = time.monotonic()
    pid = _child(target)
    status = _wait(pid)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    return time.monotonic() - started


def _kill_runs(
    out: Path, target: Callable[[], object], reference: bytes, same: Callable[[bytes], bool]
) -> dict[str, int]:
    """Kill ``target`` (which overwrites ``out``) at moments spread over one full run."""
    rng = np.random.default_rng(17)
    seconds = _run(target)  # how long a whole run takes here, to spread the kills over it
    assert same(out.read_bytes()) or out.read_bytes() == reference
    outcomes = {"old": 0, "new": 0}
    for delay in rng.uniform(0.0, seconds * 1.1, KILLS):
        out.write_bytes(OLD)
        pid = _child(target)
        time.sleep(float(delay))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        data = out.read_bytes()
        if data == OLD:
            outcomes["old"] += 1
        else:
            assert same(data), f"{out.name} is torn after a kill at {delay:.3f} s"
            outcomes["new"] += 1
    return outcomes


def _npz_equal(reference: bytes) -> Callable[[bytes], bool]:
    import io

    def same(data: bytes) -> bool:
        try:
            with np.load(io.BytesIO(data)) as a, np.load(io.BytesIO(reference)) as b:
                return set(a.files) == set(b.files) and all(
                    np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f") for k in a.files
                )
        except Exception:
            return False

    return same


def test_fill_output_survives_kills(tmp_path: Path) -> None:
    src, out = _labels(tmp_path / "in.npz"), tmp_path / "out.npz"
    argv = ["fill", str(src), "--keep-frames", "uniform:0.1", "--method", "linear"]
    target = lambda: main([*argv, "--out", str(out)])  # noqa: E731
    _run(target)
    reference = out.read_bytes()
    outcomes = _kill_runs(out, target, reference, _npz_equal(reference))
    assert sum(outcomes.values()) == KILLS


def test_export_output_survives_kills(tmp_path: Path) -> None:
    from annotator.core.document import Document
    from annotator.core.store import save_project

    ps = registry.get("npz").read(_labels(tmp_path / "in.npz"))
    project = tmp_path / "p.annot.json"
    save_project(Document.from_pose_set(ps), project)
    for fmt, name in (("csv", "o.csv"), ("coco", "o.json"), ("npz", "o.npz")):
        out = tmp_path / name
        argv = ["export", str(project), "--format", fmt, "--out", str(out), "--force"]
        _run(lambda argv=argv: main(argv))
        reference = out.read_bytes()
        same = _npz_equal(reference) if fmt == "npz" else reference.__eq__
        _kill_runs(out, lambda argv=argv: main(argv), reference, same)


def test_propose_output_survives_kills(tmp_path: Path) -> None:
    import json

    from tests.video.videomaker import make_video

    video = make_video(tmp_path / "v.mp4", n=60)
    out = tmp_path / "p.json"
    argv = ["propose", str(video), "--method", "uniform", "--budget", "6", "--out", str(out)]
    _run(lambda: main(argv))

    def frames(data: bytes) -> object:
        try:
            return json.loads(data)["frames"]
        except ValueError:
            return None

    expected = frames(out.read_bytes())
    assert expected
    _kill_runs(out, lambda: main(argv), out.read_bytes(), lambda d: frames(d) == expected)


def test_training_outputs_survive_kills(tmp_path: Path) -> None:
    """The writers behind ``train dictionary`` (HPIM, DYAN), ``train kfpn`` and model cards."""
    import torch

    from annotator.core.safeio import atomic_write_text
    from annotator.dynamics.hpim import HpimModel
    from annotator.proposal.kfpn import save_model
    from annotator.proposal.network import Kfpn, KfpnConfig

    hpim = HpimModel(np.linspace(0.0, 50.0, 100_000), reach=3)
    out = tmp_path / "hpim.npz"
    _run(lambda: hpim.save(out, trained="today"))
    ref = out.read_bytes()
    _kill_runs(out, lambda: hpim.save(out, trained="today"), ref, _npz_equal(ref))

    torch.manual_seed(0)
    net = Kfpn(KfpnConfig(in_channels=64, hidden=32, reduced=32))
    weights = tmp_path / "kfpn.pt"
    _run(lambda: save_model(weights, net, rho=0.5))

    def loads(data: bytes) -> bool:
        import io

        try:
            blob = torch.load(io.BytesIO(data), weights_only=True)
        except Exception:
            return False
        return set(blob["state"]) == set(net.state_dict())

    _kill_runs(weights, lambda: save_model(weights, net, rho=0.5), b"", loads)

    card = tmp_path / "hpim.md"
    text = "# model card\n" + "line\n" * 400_000
    _run(lambda: atomic_write_text(card, text))
    _kill_runs(card, lambda: atomic_write_text(card, text), text.encode(), text.encode().__eq__)
