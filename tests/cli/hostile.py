"""The hostile-input corpus: malformed or hostile files for every loader and writer, made by code.

Each case builds its files in a fresh folder and returns the command line to run. The runner
(``tests/cli/test_hostile_corpus.py``) runs it in a child forked from a warm server and checks
what a user must see: one line on stderr, exit 2, nothing written or changed (or, for a cache,
exit 0 and the right answer), bounded memory and time. No large file is committed or even
written: size bombs are declared sizes (npz/MAT/video headers) or sparse files.
"""

from __future__ import annotations

import io
import json
import os
import resource
import struct
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator.core.codes import Source, Visibility
from annotator.core.document import Document
from annotator.core.poseset import PoseInstance, PoseSet
from annotator.core.schema import MAX_FILE_BYTES as PROJECT_LIMIT
from annotator.core.skeleton import JHMDB, PENN_ACTION
from annotator.core.store import save_project
from annotator.formats import registry
from annotator.formats._common import MAX_FILE_BYTES as LABEL_LIMIT

FRAMES = 12
Build = Callable[[Path, "Assets"], list[str]]
Check = Callable[[Path, "Assets"], None]


@dataclass(frozen=True)
class Assets:
    """Shared, read-only inputs made once: a small video and a good project on it."""

    video: Path
    project: Path


@dataclass(frozen=True)
class Case:
    id: str
    klass: int  # the class (1-8)
    build: Build
    expect: str = "refused"  # or "ok": exit 0 (a cache rebuilt); then ``check`` runs
    check: Check | None = None
    words: tuple[str, ...] = ()  # the error line must contain each (case-insensitive)


# ---------------------------------------------------------------------------- file makers
def pose_set(coord: float | None = None, people: int = 1) -> PoseSet:
    """Manual labels on three frames; ``coord`` replaces one x coordinate (a hostile value)."""
    instances = []
    for t in range(people):
        inst = PoseInstance.empty(t, FRAMES, PENN_ACTION.num_joints)
        for f in (0, 5, 11):
            inst.poses[f, :, 0] = 10.0 + np.arange(PENN_ACTION.num_joints) + t
            inst.poses[f, :, 1] = 20.0 + f
            inst.poses[f, :, 2] = Visibility.VISIBLE
            inst.source[f] = Source.MANUAL
        if coord is not None:
            inst.poses[5, 3, 0] = coord
        instances.append(inst)
    return PoseSet(PENN_ACTION, FRAMES, instances, 30.0, None, 320, 240)


def write_format(name: str, path: Path, ps: PoseSet) -> Path:
    options: dict[str, object] = {"images": False} if name == "dlc" else {}
    registry.get(name).write(ps, path, frames="manual", **options)
    return path


def penn_mat(path: Path, x_value: float = 10.0, **extra: object) -> Path:
    from scipy.io import savemat

    x = np.full((FRAMES, 13), 10.0)
    x[5, 3] = x_value
    data: dict[str, object] = {
        "x": x,
        "y": np.full((FRAMES, 13), 20.0),
        "visibility": np.ones((FRAMES, 13)),
        "dimensions": np.array([[240, 320, FRAMES]]),
    }
    data.update(extra)
    savemat(str(path), data)
    return path


def jhmdb_mat(path: Path, value: complex | float = 10.0) -> Path:
    from scipy.io import savemat

    pos = np.full((2, JHMDB.num_joints, FRAMES), 10.0, dtype=type(value) if value else float)
    pos[0, 3, 5] = value
    savemat(str(path), {"pos_img": pos})
    return path


def mat_declaring(path: Path, rows: int) -> Path:
    """A Penn ``.mat`` whose ``x`` header declares ``rows`` x 13 doubles (data absent)."""
    penn_mat(path)
    raw = bytearray(path.read_bytes())
    dims = struct.pack("<IIii", 5, 8, FRAMES, 13)  # miINT32 tag, 8 bytes: the dimensions
    at = raw.find(dims)
    assert at > 0
    raw[at + 8 : at + 12] = struct.pack("<i", rows)
    path.write_bytes(bytes(raw))
    return path


def npz_declaring(path: Path, shapes: dict[str, tuple[int, ...]], dtype: str = "<f4") -> Path:
    """An ``.npz`` whose members' headers declare ``shapes`` (a few bytes of data each)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, shape in shapes.items():
            buf = io.BytesIO()
            header = {"descr": dtype, "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(buf, header)
            zf.writestr(f"{name}.npy", buf.getvalue() + bytes(64))
    return path


def npz(path: Path, **arrays: object) -> Path:
    with path.open("wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]
    return path


def good_poses() -> np.ndarray:
    return pose_set().instances[0].poses


def truncated(path: Path, keep: float = 0.5) -> Path:
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    return path


def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def deep_json(levels: int = 100_000) -> str:
    return "[" * levels + "]" * levels


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def dev_zero(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


def hpim_model(path: Path, **override: object) -> Path:
    fields: dict[str, object] = {
        "variogram": np.array([0.0, 1.0, 2.0, 3.0]),
        "fps": 30.0,
        "reach": 2,
        "trend": 0,
        "nugget": 0.0,
        "hold_below": 0.0,
        "pchip_mix": np.zeros(5),
    }
    fields.update(override)
    return npz(path, **{k: v for k, v in fields.items() if v is not None})


def dyan_model(path: Path, **override: object) -> Path:
    fields: dict[str, object] = {"r": np.full(8, 0.9), "theta": np.linspace(0.1, 1.0, 8)}
    fields.update(override)
    return npz(path, **{k: v for k, v in fields.items() if v is not None})


def y4m_declaring(path: Path, width: int, height: int) -> Path:
    """A raw YUV4MPEG video whose header declares ``width`` x ``height`` (data truncated)."""
    head = f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\nFRAME\n".encode()
    path.write_bytes(head + bytes(560_000))
    return path


def make_project(path: Path, video: Path) -> Path:
    from annotator.video import open_video

    with open_video(video) as v:
        v.wait_for_index()
        from annotator.core.document import VideoRef

        ref = VideoRef(str(video), v.fingerprint, v.frame_count, float(v.fps), v.width, v.height)
        ts = v.timestamps
    ps = pose_set()
    ps = PoseSet(ps.skeleton, ref.frame_count, _pad(ps, ref.frame_count), 30.0, ts, 96, 64)
    save_project(Document.from_pose_set(ps, ref), path)
    return path


def _pad(ps: PoseSet, frames: int) -> list[PoseInstance]:
    out = []
    for inst in ps.instances:
        full = PoseInstance.empty(inst.track_id, frames, ps.skeleton.num_joints)
        full.poses[: ps.frame_count] = inst.poses
        full.source[: ps.frame_count] = inst.source
        out.append(full)
    return out


def project_text(assets: Assets) -> str:
    return assets.project.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- the cases
def _coco_images(project: Path, d: Path, images: str) -> list[str]:
    """``export PROJECT --format coco --images IMAGES --out d/o.json``."""
    return [
        "export",
        str(project),
        "--format",
        "coco",
        "--images",
        images,
        "--out",
        str(d / "o.json"),
    ]


def _imp(path: Path, a: Assets, *extra: str) -> list[str]:
    return [
        "import",
        str(path),
        "--video",
        str(a.video),
        "--out",
        str(path.parent / "o.annot.json"),
        *extra,
    ]


CASES: list[Case] = []


def case(
    id: str, klass: int, *words: str, expect: str = "refused", check: Check | None = None
) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        CASES.append(Case(id, klass, build, expect, check, words))
        return build

    return register


# Class 1: import accepts what load refuses. A coordinate beyond 1e7 px in every format.
_FILE_FORMATS = {
    "coco": "l.json",
    "cvat-video": "l.xml",
    "dlc-csv": "l.csv",
    "csv": "t.csv",
    "npz": "l.npz",
}
for _fmt, _name in _FILE_FORMATS.items():
    for _value in (1e8, 1e30):

        def _build(
            d: Path, a: Assets, fmt: str = _fmt, name: str = _name, v: float = _value
        ) -> list[str]:
            return _imp(write_format(fmt, d / name, pose_set(v)), a, "--format", fmt)

        CASES.append(Case(f"c1-{_fmt}-{_value:g}", 1, _build, words=("beyond 1e+07",)))


@case("c1-dlc-folder-1e8", 1, "beyond 1e+07")
def _(d: Path, a: Assets) -> list[str]:
    out = d / "dlcproj"
    write_format("dlc", out, pose_set(1e8))
    return _imp(out, a, "--format", "dlc")


@case("c1-penn-mat-1e8", 1, "beyond 1e+07")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(penn_mat(d / "0001.mat", 1e8), a, "--format", "penn-mat")


@case("c1-jhmdb-mat-1e30", 1, "beyond 1e+07")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(jhmdb_mat(d / "joint_positions.mat", 1e30), a, "--format", "jhmdb-mat")


@case("c1-npz-300-people", 1, "people")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(write_format("npz", d / "l.npz", pose_set(people=300)), a, "--format", "npz")


@case("c1-fill-input-1e30", 1, "beyond 1e+07")
def _(d: Path, a: Assets) -> list[str]:
    src = write_format("npz", d / "l.npz", pose_set(1e30))
    return [
        "fill",
        str(src),
        "--keep-frames",
        "0,11",
        "--method",
        "linear",
        "--out",
        str(d / "f.npz"),
    ]


# Class 2: memory and time bombs, refused from declared sizes.
@case("c2-npz-three-1GiB-arrays", 2, "declares")
def _(d: Path, a: Assets) -> list[str]:
    shapes = {"poses": (1 << 28,), "source": (1 << 28,), "boxes": (1 << 28,)}
    return _imp(npz_declaring(d / "l.npz", shapes), a, "--format", "npz")


@case("c2-npz-one-huge-poses", 2, "declares")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(npz_declaring(d / "l.npz", {"poses": (10**7, 1000, 3)}), a, "--format", "npz")


@case("c2-penn-mat-declares-1e9-rows", 2, "declares")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(mat_declaring(d / "0001.mat", 10**9), a, "--format", "penn-mat")


@case("c2-penn-mat-guessed-1e9-rows", 2)
def _(d: Path, a: Assets) -> list[str]:
    return _imp(mat_declaring(d / "0001.mat", 10**9), a)


@case("c2-dlc-csv-over-limit", 2, "too large")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(sparse(d / "big.csv", LABEL_LIMIT + 1, b"scorer,a,a\n"), a, "--format", "dlc-csv")


@case("c2-dlc-csv-40M-empty-fields", 2, "fields")
def _(d: Path, a: Assets) -> list[str]:
    row = b"," * 20_000 + b"\n"  # 40 MB of commas: 40 million empty strings once parsed
    (d / "wide.csv").write_bytes(b"scorer" + row + row * 2000)
    return _imp(d / "wide.csv", a, "--format", "dlc-csv")


@case("c2-csv-40M-empty-fields", 2, "fields")
def _(d: Path, a: Assets) -> list[str]:
    row = b"," * 20_000 + b"\n"
    (d / "wide.csv").write_bytes(b"frame" + row + row * 2000)
    return _imp(d / "wide.csv", a, "--format", "csv")


@case("c2-coco-over-limit", 2, "too large")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(sparse(d / "big.json", LABEL_LIMIT + 1, b'{"images": ['), a, "--format", "coco")


@case("c2-project-over-limit", 2, "too large")
def _(d: Path, a: Assets) -> list[str]:
    p = sparse(d / "big.annot.json", PROJECT_LIMIT + 1, b'{"schema":')
    return ["export", str(p), "--format", "csv", "--out", str(d / "o.csv")]


@case("c2-video-16000x16000-info", 2, "larger than")
def _(d: Path, a: Assets) -> list[str]:
    return ["info", str(y4m_declaring(d / "v.y4m", 16000, 16000)), "--json"]


@case("c2-video-16000x16000-frame", 2, "larger than")
def _(d: Path, a: Assets) -> list[str]:
    return ["frame", str(y4m_declaring(d / "v.y4m", 16000, 16000)), "0", "--out", str(d / "f.png")]


@case("c2-hpim-model-declares-huge-variogram", 2, "declares")
def _(d: Path, a: Assets) -> list[str]:
    model = npz_declaring(d / "m.npz", {"variogram": (1 << 30,)}, "<f8")
    return _fill(d, a, "hpim", model)


# Class 3: files that are not files.
def _not_files(prefix: str, make: Callable[[Path], Path], word: str) -> None:
    def lab(fmt: str, name: str) -> Build:
        return lambda d, a: _imp(make(d / name), a, "--format", fmt)

    for fmt, name in (
        ("coco", "l.json"),
        ("csv", "l.csv"),
        ("npz", "l.npz"),
        ("penn-mat", "l.mat"),
        ("cvat-video", "l.xml"),
        ("dlc-csv", "d.csv"),
    ):
        CASES.append(Case(f"c3-{prefix}-{fmt}", 3, lab(fmt, name), words=(word,)))
    CASES.append(Case(f"c3-{prefix}-label-guessed", 3, lambda d, a: _imp(make(d / "l.json"), a)))
    CASES.append(
        Case(
            f"c3-{prefix}-project",
            3,
            lambda d, a: [
                "export",
                str(make(d / "p.annot.json")),
                "--format",
                "csv",
                "--out",
                str(d / "o.csv"),
            ],
            words=(word,),
        )
    )
    CASES.append(
        Case(f"c3-{prefix}-video", 3, lambda d, a: ["info", str(make(d / "v.mp4"))], words=(word,))
    )
    CASES.append(
        Case(
            f"c3-{prefix}-hpim-model",
            3,
            lambda d, a: _fill(d, a, "hpim", make(d / "m.npz")),
            words=(word,),
        )
    )
    CASES.append(
        Case(
            f"c3-{prefix}-dyan-mat",
            3,
            lambda d, a: _fill(d, a, "eq17", make(d / "m.mat")),
            words=(word,),
        )
    )
    CASES.append(
        Case(
            f"c3-{prefix}-proposals",
            3,
            lambda d, a: _fill(d, a, "linear", None, keep=f"@{make(d / 'p.json')}"),
            words=(word,),
        )
    )
    CASES.append(
        Case(
            f"c3-{prefix}-skeleton",
            3,
            lambda d, a: _imp(
                write_format("csv", d / "t.csv", pose_set()),
                a,
                "--skeleton",
                str(make(d / "s.json")),
            ),
            words=(word,),
        )
    )


_not_files("fifo", fifo, "not a regular file")
_not_files("dev-zero", dev_zero, "not a regular file")


def _fill(d: Path, a: Assets, method: str, model: Path | None, keep: str = "0,11") -> list[str]:
    src = write_format("npz", d / "in.npz", pose_set())
    argv = [
        "fill",
        str(src),
        "--keep-frames",
        keep,
        "--method",
        method,
        "--out",
        str(d / "out.npz"),
    ]
    return argv + (["--dictionary", str(model)] if model is not None else [])


# Class 4: internal errors become one line.
@case("c4-coco-deep-nesting", 4, "nested")
def _(d: Path, a: Assets) -> list[str]:
    (d / "l.json").write_text('{"images": ' + deep_json() + "}")
    return _imp(d / "l.json", a, "--format", "coco")


@case("c4-project-deep-nesting", 4, "nested")
def _(d: Path, a: Assets) -> list[str]:
    (d / "p.annot.json").write_text(
        '{"schema": "annotator.project/1", "settings": ' + deep_json() + "}"
    )
    return ["export", str(d / "p.annot.json"), "--format", "csv", "--out", str(d / "o.csv")]


@case("c4-skeleton-deep-nesting", 4, "nested")
def _(d: Path, a: Assets) -> list[str]:
    (d / "s.json").write_text(deep_json())
    return _imp(write_format("csv", d / "t.csv", pose_set()), a, "--skeleton", str(d / "s.json"))


@case("c4-proposals-deep-nesting", 4, "nested")
def _(d: Path, a: Assets) -> list[str]:
    (d / "p.json").write_text('{"frames": ' + deep_json() + "}")
    return _fill(d, a, "linear", None, keep=f"@{d / 'p.json'}")


@case("c4-coco-5000-digit-integer", 4, "digits")
def _(d: Path, a: Assets) -> list[str]:
    text = (write_format("coco", d / "l.json", pose_set())).read_text()
    (d / "l.json").write_text(text.replace('"frame_index":5', '"frame_index":' + "9" * 5000, 1))
    return _imp(d / "l.json", a, "--format", "coco")


@case("c4-project-5000-digit-integer", 4)
def _(d: Path, a: Assets) -> list[str]:
    text = project_text(a).replace('"frame_count":', '"frame_count":' + "9" * 5000 + ',"x":', 1)
    (d / "p.annot.json").write_text(text)
    return ["export", str(d / "p.annot.json"), "--format", "csv", "--out", str(d / "o.csv")]


@case("c4-project-nan-literal", 4)
def _(d: Path, a: Assets) -> list[str]:
    (d / "p.annot.json").write_text(project_text(a).replace('"fps":', '"fps":NaN,"y":', 1))
    return ["export", str(d / "p.annot.json"), "--format", "csv", "--out", str(d / "o.csv")]


@case("c4-project-array-for-scalar", 4, "must be")
def _(d: Path, a: Assets) -> list[str]:
    data = json.loads(project_text(a))
    data["video"]["fps"] = [1, 2, 3]
    (d / "p.annot.json").write_text(json.dumps(data))
    return ["export", str(d / "p.annot.json"), "--format", "csv", "--out", str(d / "o.csv")]


@case("c4-npz-fps-abc", 4, "fps")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(npz(d / "l.npz", poses=good_poses(), fps=np.array("abc")), a, "--format", "npz")


@case("c4-npz-fps-array", 4, "fps")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(npz(d / "l.npz", poses=good_poses(), fps=np.arange(5.0)), a, "--format", "npz")


@case("c4-npz-width-nan", 4, "width")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(npz(d / "l.npz", poses=good_poses(), width=np.nan), a, "--format", "npz")


@case("c4-npz-nan-track-ids", 4, "track_ids")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(
        npz(d / "l.npz", poses=good_poses(), track_ids=np.array([np.nan])), a, "--format", "npz"
    )


@case("c4-npz-string-timestamps", 4, "timestamps")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(
        npz(d / "l.npz", poses=good_poses(), timestamps=np.array(["a"] * FRAMES)),
        a,
        "--format",
        "npz",
    )


@case("c4-npz-truncated-zip", 4, "npz")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(truncated(write_format("npz", d / "l.npz", pose_set())), a, "--format", "npz")


@case("c4-npz-complex-poses", 4)
def _(d: Path, a: Assets) -> list[str]:
    return _imp(npz(d / "l.npz", poses=good_poses().astype(np.complex64)), a, "--format", "npz")


@case("c4-penn-mat-complex", 4, "complex")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(
        penn_mat(d / "0001.mat", 10.0, x=np.full((FRAMES, 13), 1 + 2j)), a, "--format", "penn-mat"
    )


@case("c4-jhmdb-mat-complex", 4, "complex")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(jhmdb_mat(d / "joint_positions.mat", 3 + 4j), a, "--format", "jhmdb-mat")


@case("c4-penn-mat-nan-dimensions", 4, "dimensions")
def _(d: Path, a: Assets) -> list[str]:
    return _imp(
        penn_mat(d / "0001.mat", dimensions=np.array([[np.nan, 2, 3]])), a, "--format", "penn-mat"
    )


@case("c4-penn-mat-truncated", 4)
def _(d: Path, a: Assets) -> list[str]:
    return _imp(truncated(penn_mat(d / "0001.mat"), 0.6), a, "--format", "penn-mat")


@case("c4-hpim-truncated-zip", 4)
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "hpim", truncated(hpim_model(d / "m.npz")))


@case("c4-hpim-missing-key", 4, "reach")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "hpim", hpim_model(d / "m.npz", reach=None))


@case("c4-hpim-fps-zero", 4, "fps")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "hpim", hpim_model(d / "m.npz", fps=0.0))


@case("c4-hpim-negative-reach", 4, "reach")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "hpim", hpim_model(d / "m.npz", reach=-3))


@case("c4-hpim-nan-variogram", 4, "variogram")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "hpim", hpim_model(d / "m.npz", variogram=np.full(4, np.nan)))


@case("c4-hpim-empty-variogram", 4, "variogram")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "hpim", hpim_model(d / "m.npz", variogram=np.zeros(0)))


@case("c4-hpim-array-fps", 4, "fps")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "hpim", hpim_model(d / "m.npz", fps=np.arange(3.0)))


@case("c4-dyan-all-nan-poles", 4, "poles")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "eq17", dyan_model(d / "m.npz", r=np.full(8, np.nan)))


@case("c4-dyan-empty-poles", 4, "poles")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "eq17", dyan_model(d / "m.npz", r=np.zeros(0), theta=np.zeros(0)))


@case("c4-dyan-fps-zero", 4, "fps")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "eq17", dyan_model(d / "m.npz", fps=0.0))


@case("c4-dyan-missing-theta", 4, "theta")
def _(d: Path, a: Assets) -> list[str]:
    return _fill(d, a, "eq17", dyan_model(d / "m.npz", theta=None))


@case("c4-dyan-mat-all-nan", 4, "nan")
def _(d: Path, a: Assets) -> list[str]:
    from scipy.io import savemat

    savemat(str(d / "m.mat"), {"Dictionary": np.full((40, 8), np.nan)})
    return _fill(d, a, "eq17", d / "m.mat")


@case("c4-dyan-mat-complex", 4, "complex")
def _(d: Path, a: Assets) -> list[str]:
    from scipy.io import savemat

    savemat(str(d / "m.mat"), {"Dictionary": np.full((40, 8), 1 + 1j)})
    return _fill(d, a, "eq17", d / "m.mat")


@case("c4-kfpn-garbage-model", 4, "k-fpn")
def _(d: Path, a: Assets) -> list[str]:
    (d / "k.pt").write_bytes(b"PK\x03\x04" + bytes(100))
    return [
        "propose",
        str(a.video),
        "--out",
        str(d / "p.json"),
        "--model",
        str(d / "k.pt"),
        "--device",
        "cpu",
    ]


@case("c4-kfpn-nan-weights", 4, "nan")
def _(d: Path, a: Assets) -> list[str]:
    import torch

    from annotator.proposal.kfpn import save_model
    from annotator.proposal.network import Kfpn, KfpnConfig

    net = Kfpn(KfpnConfig(hidden=8, reduced=8, poles=4))
    with torch.no_grad():
        next(p for p in net.parameters() if p.is_floating_point()).fill_(float("nan"))
    save_model(d / "k.pt", net, rho=0.5)
    return ["propose", str(a.video), "--out", str(d / "p.json"), "--model", str(d / "k.pt")]


@case("c2-propose-on-a-folder", 2, "is a folder, not a video file")
def _(d: Path, a: Assets) -> list[str]:
    (d / "v.mp4").mkdir()
    return ["propose", str(d / "v.mp4"), "--method", "uniform", "--out", str(d / "p.json")]


@case("c2-estimate-on-a-folder", 2, "is a folder, not a video file")
def _(d: Path, a: Assets) -> list[str]:
    (d / "v.mp4").mkdir()
    return ["estimate", str(d / "v.mp4"), "--out", str(d / "e.npz")]


@case("c2-gate-on-a-damaged-video", 2, "damaged or truncated")
def _(d: Path, a: Assets) -> list[str]:
    import av

    from tests.video.videomaker import make_video

    # one H.264 packet overwritten mid-file: the header opens, decoding stops at that frame
    video = make_video(d / "v.mp4", n=40, gop=10)
    with av.open(str(video)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
        pos, size = packets[15].pos, packets[15].size
    data = bytearray(video.read_bytes())
    data[pos + 4 : pos + size] = b"\xff" * (size - 4)
    video.write_bytes(bytes(data))
    return ["propose", str(video), "--method", "gate", "--out", str(d / "p.json")]


for _method, _what in (("kfpn", "a k-fpn model"), ("gate", "a gate model"), ("online", "online")):
    CASES.append(
        Case(
            f"c4-{_method}-model-is-text",
            4,
            lambda d, a, m=_method: [
                "propose",
                str(a.video),
                "--method",
                m,
                "--model",
                str(_text(d / "m.pt")),
                "--out",
                str(d / "p.json"),
            ],
            words=(_what, "not a pytorch weights file"),
        )
    )


def _text(path: Path) -> Path:
    path.write_text("hello, these are not weights\n")
    return path


@case("c3-project-schema-is-a-number", 3, "'schema' is int")
def _(d: Path, a: Assets) -> list[str]:
    (d / "p.annot.json").write_text('{"schema": 2}')
    return ["export", str(d / "p.annot.json"), "--format", "npz", "--out", str(d / "o.npz")]


@case("c3-empty-label-file", 3, "is empty")
def _(d: Path, a: Assets) -> list[str]:
    (d / "l.csv").write_bytes(b"")
    return _imp(d / "l.csv", a)


def _with_pipe(d: Path, a: Assets, argv: tuple[str, ...]) -> list[str]:
    out = fifo(d / "out.npz")
    return [w.format(video=a.video, project=a.project, out=out) for w in argv]


for _argv in (
    ("propose", "{video}", "--method", "uniform", "--out", "{out}"),
    ("fill", "{project}", "--keep-frames", "0,29", "--method", "linear", "--out", "{out}"),
    ("export", "{project}", "--format", "npz", "--out", "{out}", "--force"),
):
    CASES.append(
        Case(
            f"c5-{_argv[0]}-never-replaces-a-pipe",
            5,
            lambda d, a, argv=_argv: _with_pipe(d, a, argv),
            words=("not a regular file",),
        )
    )


# Class 5: a failing command leaves an existing output exactly as it was.
@case("c5-fill-keeps-existing-output", 5)
def _(d: Path, a: Assets) -> list[str]:
    (d / "out.npz").write_bytes(b"the user's previous fill")
    return _fill(d, a, "hpim", hpim_model(d / "m.npz", fps=0.0))


@case("c5-frame-keeps-existing-output", 5)
def _(d: Path, a: Assets) -> list[str]:
    (d / "f.png").write_bytes(b"the user's previous picture")
    return ["frame", str(a.video), "999", "--out", str(d / "f.png")]


@case("c5-propose-keeps-existing-output", 5, "k-fpn")
def _(d: Path, a: Assets) -> list[str]:
    (d / "p.json").write_bytes(b"the user's previous proposals")
    (d / "k.pt").write_bytes(bytes(1000))
    return ["propose", str(a.video), "--out", str(d / "p.json"), "--model", str(d / "k.pt")]


@case("c5-export-keeps-existing-output", 5)
def _(d: Path, a: Assets) -> list[str]:
    (d / "o.csv").write_bytes(b"the user's earlier export")
    (d / "p.annot.json").write_text(project_text(a).replace('"schema"', '"schemata"', 1))
    return [
        "export",
        str(d / "p.annot.json"),
        "--format",
        "csv",
        "--out",
        str(d / "o.csv"),
        "--force",
    ]


# Class 6: exports never delete user files.
@case("c6-coco-images-into-non-empty-folder", 6, "not an empty folder")
def _(d: Path, a: Assets) -> list[str]:
    (d / "o_images").mkdir()
    (d / "o_images" / "holiday.jpg").write_bytes(b"precious")
    return _coco_images(a.project, d, "jpg")


@case("c6-dlc-into-non-empty-folder", 6, "not an empty folder")
def _(d: Path, a: Assets) -> list[str]:
    (d / "dlc").mkdir()
    (d / "dlc" / "notes.txt").write_text("mine")
    return ["export", str(a.project), "--format", "dlc", "--out", str(d / "dlc")]


# Class 7: caches that lie or stick are rebuilt; damaged frames are never another frame.
def _index_file(video: Path) -> Path:
    from annotator.video.index import _cache_file

    return _cache_file(video, 0)


def _cache_video(d: Path, a: Assets) -> Path:
    """A private copy of the video with its index cached (in this case's cache folder)."""
    from annotator.video import open_video

    video = d / "v.mp4"
    video.write_bytes(a.video.read_bytes())
    with open_video(video) as v:
        v.wait_for_index()
    assert _index_file(video).is_file()
    return video


def _damage_cache(d: Path, a: Assets, how: str) -> list[str]:
    video = _cache_video(d, a)
    file = _index_file(video)
    if how == "truncated":
        truncated(file)
    else:
        with np.load(file) as z:
            arrays = {k: z[k] for k in z.files}
        if how == "reversed":
            arrays["pts"] = arrays["pts"][::-1].copy()
        elif how == "one-key":
            arrays["key"] = np.zeros_like(arrays["key"])
            arrays["key"][0] = True
        elif how == "short":
            arrays["key"] = arrays["key"][:3]
        with file.open("wb") as fh:
            np.savez(fh, **arrays)
    return ["frame", str(video), "20", "--out", str(d / "f.png")]


def _frame_is_right(d: Path, a: Assets) -> None:
    import cv2

    from tests.video.videomaker import sequential_frames

    got = cv2.imread(str(d / "f.png"))[:, :, ::-1]
    want = sequential_frames(a.video)[20]
    assert np.array_equal(got, want), "the frame written is not frame 20"
    from annotator.video.index import load_cached

    assert load_cached(d / "v.mp4", 0) is not None, "the cache was not rebuilt"


for _how in ("truncated", "reversed", "one-key", "short"):
    CASES.append(
        Case(
            f"c7-index-cache-{_how}",
            7,
            lambda d, a, how=_how: _damage_cache(d, a, how),
            expect="ok",
            check=_frame_is_right,
        )
    )


@case("c7-damaged-frame-is-an-error", 7, "cannot be decoded exactly")
def _(d: Path, a: Assets) -> list[str]:
    import av

    from tests.video.videomaker import make_video

    path = make_video(d / "v.avi", n=40, codec="mpeg4", fmt="avi", gop=10)
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
        pos, size = packets[15].pos, packets[15].size
    data = bytearray(path.read_bytes())
    data[pos + 4 : pos + size] = bytes(size - 4)
    path.write_bytes(bytes(data))
    return ["frame", str(path), "15", "--out", str(d / "f.png")]


@case("c6-coco-images-name-is-a-file", 6, "not an empty folder")
def _(d: Path, a: Assets) -> list[str]:
    (d / "o_images").write_bytes(b"a file of the user's that happens to have this name")
    return _coco_images(a.project, d, "png")


# Class 8: an existing export is not overwritten silently.
@case("c8-export-existing-file-needs-force", 8, "--force")
def _(d: Path, a: Assets) -> list[str]:
    (d / "o.csv").write_text("the user's earlier export")
    return ["export", str(a.project), "--format", "csv", "--out", str(d / "o.csv")]


@case("c8-import-existing-project-needs-force", 8, "--force")
def _(d: Path, a: Assets) -> list[str]:
    (d / "o.annot.json").write_text("the user's project")
    return _imp(write_format("csv", d / "t.csv", pose_set()), a)


# ---------------------------------------------------------------------------- the runner
def run_case(
    argv: list[str], cwd: str, env: dict[str, str], err: str, out: str, result: str
) -> None:
    """In a forked child: run the command, record exit code, peak memory growth and time."""
    os.chdir(cwd)
    os.environ.update(env)
    for fd, name in ((1, out), (2, err)):
        target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    from annotator import cli

    spec = cli._BY_NAME.get(argv[0])
    if spec is not None:
        cli._command_parser(spec)  # the command's own imports belong to the baseline
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    rc = cli.main(argv)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stdout.flush()
    sys.stderr.flush()
    Path(result).write_text(json.dumps({"rc": rc, "grew_kib": peak - base, "seconds": seconds}))


def snapshot(folder: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under ``folder`` with its kind and content (without opening FIFOs)."""
    import hashlib
    import stat

    out: dict[str, tuple[object, ...]] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            st = os.lstat(p)
            rel = str(p.relative_to(folder))
            if stat.S_ISREG(st.st_mode) and st.st_size <= 16 << 20:
                out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("big", st.st_size, st.st_mtime_ns)
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            else:
                out[rel] = ("other", stat.S_IFMT(st.st_mode))
    return out


@case("c8-train-online-on-a-one-frame-video", 8, "too short")
def _(d: Path, a: Assets) -> list[str]:
    from tests.video.videomaker import make_video

    video = make_video(d / "v.mp4", n=1)
    return ["train", "online", "--videos", str(video), "--out", str(d / "o.pt"), "--epochs", "1"]


@case("c8-train-kfpn-on-a-one-frame-video", 8, "single frame")
def _(d: Path, a: Assets) -> list[str]:
    """A window padded from one frame has nothing to choose between: refused (it trained and
    wrote a model, exit 0)."""
    from tests.video.videomaker import make_video

    video = make_video(d / "v.mp4", n=1)
    return ["train", "kfpn", "--videos", str(video), "--out", str(d / "k.pt"), "--epochs", "1"]


@case("c8-export-images-from-a-shorter-video", 8, "not the video this project was labelled on")
def _(d: Path, a: Assets) -> list[str]:
    """The project's video replaced by a 10-frame one: frame images are refused up front with
    what is wrong (not 'frame 10 is out of range' half-way)."""
    import shutil

    from tests.video.videomaker import make_video

    video = Path(shutil.copy(a.video, d / "v.mp4"))
    project = make_project(d / "p.annot.json", video)
    make_video(video, n=10)
    return _coco_images(project, d, "jpg")
