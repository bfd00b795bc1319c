"""Recovery journal: every kind of change replays, torn tails are ignored, saves drop it."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core import journal as journal_module
from annotator.core.commands import (
    AcceptFill,
    AcceptProposals,
    AddInstance,
    MarkReviewed,
    PlaceJoint,
    RemoveInstance,
    ReplaceContent,
    SetFlag,
    SetGate,
    SetSceneCut,
    SetSetting,
)
from annotator.core.document import Proposals
from annotator.core.history import History
from annotator.core.journal import RecoveryJournal, find_recovery, list_recoveries
from annotator.core.skeleton import COCO, PENN_ACTION
from annotator.core.store import relocate_video, save_project
from annotator.errors import ProjectError

from .helpers import content, make_doc


def _edit_everything(history: History) -> None:
    fill = np.zeros((5, PENN_ACTION.num_joints, 3), np.float32)
    fill[:, :, 2] = 2
    history.push(PlaceJoint(3, 1, 1.25, 2.5))
    history.push(AcceptFill(10, fill))
    history.push(AcceptProposals(Proposals((1, 9), tuple(f / 60 for f in range(60)), "kfpn")))
    history.push(MarkReviewed(0, 4, "me"))
    history.push(SetFlag(2, "check"))
    history.push(SetSceneCut(30))
    history.push(SetGate(5, [1, 0]))
    history.push(SetSetting("fill", {"method": "hpim"}))
    history.push(AddInstance(skeleton=COCO))
    history.push(PlaceJoint(4, 16, 3.0, 3.0, instance=1))
    history.push(AddInstance())
    history.push(RemoveInstance(0))
    history.undo()
    history.push(SetFlag(2, None))


def test_every_change_replays(tmp_path: Path) -> None:
    doc = make_doc()
    history = History(doc)
    with RecoveryJournal(doc, directory=tmp_path) as journal:
        assert not journal.path.exists()  # nothing to recover before the first edit
        _edit_everything(history)
        found = find_recovery(doc.video.path, tmp_path, doc.video.fingerprint)
        assert found is not None and found.edits == 13
        assert found.project_path is None and found.video_path == doc.video.path
        assert content(found.restore()) == content(doc)
        history.undo()
        history.undo()
        assert content(
            find_recovery(doc.video.path, tmp_path, doc.video.fingerprint).restore()
        ) == content(doc)
    assert not journal.path.exists()  # a clean close discards it


def test_a_torn_last_record_is_ignored(tmp_path: Path) -> None:
    doc = make_doc()
    history = History(doc)
    journal = RecoveryJournal(doc, tmp_path / "p.annot.json", directory=tmp_path / "rec")
    history.push(PlaceJoint(3, 1, 1.0, 2.0))
    state = content(doc)
    history.push(PlaceJoint(4, 1, 1.0, 2.0))
    path = journal.path
    journal.close(discard=False)
    raw = path.read_bytes()
    path.write_bytes(raw[:-7])  # the process died in the middle of the last write
    found = find_recovery(tmp_path / "p.annot.json", directory=tmp_path / "rec")
    assert found is not None and found.edits == 0  # the first edit is in the snapshot
    assert content(found.restore()) == state
    path.write_bytes(raw[:-7].replace(b'"labels"', b'"labelz"', 1))  # corrupt snapshot line
    assert find_recovery(tmp_path / "p.annot.json", directory=tmp_path / "rec") is None


def test_save_drops_the_journal_and_rekeys(tmp_path: Path) -> None:
    doc = make_doc()
    history = History(doc)
    journal = RecoveryJournal(doc, directory=tmp_path / "rec")
    history.push(PlaceJoint(3, 1, 1.0, 2.0))
    unsaved = journal.path
    assert unsaved.exists()
    project = tmp_path / "p.annot.json"
    save_project(doc, project)
    journal.mark_saved(project)
    assert not unsaved.exists()
    assert find_recovery(project, directory=tmp_path / "rec") is None
    history.push(PlaceJoint(5, 1, 1.0, 2.0))
    found = find_recovery(project, directory=tmp_path / "rec")
    assert found is not None and found.project_path == str(project.resolve())
    assert content(found.restore()) == content(doc)
    assert [r.journal for r in list_recoveries(tmp_path / "rec")] == [found.journal]
    found.discard()
    assert list_recoveries(tmp_path / "rec") == []
    journal.close()


def test_a_restored_recovery_can_itself_be_recovered(tmp_path: Path) -> None:
    """A restore is the first change of the new session's journal, which snapshots the
    document half-way through it: a second crash must still find every edit (the people's
    interim track ids were negative, which the replay refused)."""
    crashed = make_doc()
    crashed_history = History(crashed)
    crashed_history.push(PlaceJoint(3, 1, 1.0, 2.0))
    crashed_history.push(AddInstance(track_id=4))
    crashed_history.push(PlaceJoint(7, 2, 5.0, 6.0, instance=1))
    doc = make_doc()
    history = History(doc)
    with RecoveryJournal(doc, directory=tmp_path):
        history.push(ReplaceContent(crashed))
        history.push(PlaceJoint(9, 0, 3.0, 3.0, instance=1))
        found = find_recovery(doc.video.path, tmp_path, doc.video.fingerprint)
        assert found is not None
        restored = found.restore()
    assert content(restored) == content(doc)
    assert [i.track_id for i in restored.instances] == [0, 4]


def test_video_relocation_is_journaled(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"abc")
    doc = make_doc(path=str(tmp_path / "old.mp4"))
    journal = RecoveryJournal(doc, tmp_path / "p.annot.json", directory=tmp_path / "rec")
    relocate_video(doc, video, accept_mismatch=True)
    restored = find_recovery(tmp_path / "p.annot.json", directory=tmp_path / "rec").restore()
    assert restored.video.path == str(video) and restored.video.fingerprint == doc.video.fingerprint
    journal.close()


def test_big_journals_are_compacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "COMPACT_MIN_BYTES", 20_000)
    doc = make_doc()
    history = History(doc)
    journal = RecoveryJournal(doc, directory=tmp_path)
    for k in range(400):
        history.push(PlaceJoint(k % 60, k % 13, float(k), 1.0))
    assert journal.path.stat().st_size < 60_000
    assert journal.records < 400
    assert content(
        find_recovery(doc.video.path, tmp_path, doc.video.fingerprint).restore()
    ) == content(doc)
    journal.close()


def test_edits_reach_the_disk_within_the_interval(tmp_path: Path) -> None:
    doc = make_doc()
    journal = RecoveryJournal(doc, directory=tmp_path, fsync_interval=0.05)
    History(doc).push(PlaceJoint(3, 1, 1.0, 2.0))
    size = journal.path.stat().st_size  # written before push returned
    History(doc).push(PlaceJoint(4, 1, 1.0, 2.0))
    assert journal.path.stat().st_size > size
    journal.flush()
    journal.close(discard=False)
    assert journal.path.exists()


def test_unusable_journal_raises_project_error(tmp_path: Path) -> None:
    doc = make_doc()
    journal = RecoveryJournal(doc, directory=tmp_path)
    History(doc).push(PlaceJoint(3, 1, 1.0, 2.0))
    found = find_recovery(doc.video.path, tmp_path, doc.video.fingerprint)
    journal.close()
    with pytest.raises(ProjectError, match="recovery journal"):
        found.restore()


def test_write_failures_are_reported_not_raised(tmp_path: Path) -> None:
    doc = make_doc()
    journal = RecoveryJournal(doc, directory=tmp_path / "gone")
    os.rmdir(tmp_path / "gone")
    History(doc).push(PlaceJoint(3, 1, 1.0, 2.0))  # the edit itself still happens
    assert doc.labelled_frames().tolist() == [3]
    assert journal.error is not None and "autosave failed" in journal.error
    journal.close()


def test_edits_after_a_failed_write_are_recovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk tears a record; once space is back, the edits after it must still replay
    (replay stops at a torn record, and appending after it lost them all)."""
    doc = make_doc()
    history = History(doc)
    journal = RecoveryJournal(doc, tmp_path / "p.annot.json", directory=tmp_path / "rec")
    history.push(PlaceJoint(3, 1, 1.0, 2.0))
    real_write = os.write

    def half_then_full(fd: int, data: object) -> int:
        real_write(fd, bytes(memoryview(data))[:9])  # type: ignore[arg-type]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", half_then_full)
    history.push(PlaceJoint(4, 1, 1.0, 2.0))
    assert journal.error is not None and "No space" in journal.error
    monkeypatch.setattr(journal_module.os, "write", real_write)  # space freed
    for f in (5, 6, 7):
        history.push(PlaceJoint(f, 1, 1.0, 2.0))
    assert journal.error is None  # working again, and said so by the window
    state = content(doc)
    journal.close(discard=False)  # then the app dies
    found = find_recovery(tmp_path / "p.annot.json", directory=tmp_path / "rec")
    assert found is not None and content(found.restore()) == state


@functools.cache
def _base_records() -> str:
    """The records of a journal that saw every kind of change (JSON text, built once)."""
    with tempfile.TemporaryDirectory() as folder:
        doc = make_doc()
        history = History(doc)
        journal = RecoveryJournal(doc, directory=folder)
        _edit_everything(history)
        raw = journal.path.read_bytes()
        journal.close()
    return json.dumps([json.loads(line.partition(b" ")[2]) for line in raw.splitlines()])


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_restore_survives_checksummed_garbage(tmp_path: Path, seed: int) -> None:
    """A journal whose records are wrong but carry valid checksums restores what it can or
    raises ProjectError; nothing else escapes."""
    rng = np.random.default_rng(seed)
    records = json.loads(_base_records())
    junk: list[object] = [None, -1, 10**400, 1e308, "x", [], {}, [1, 2], {"t": "labels"}, 3.5]
    for _ in range(int(rng.integers(1, 4))):
        record = records[int(rng.integers(len(records)))]
        key = list(record)[int(rng.integers(len(record)))]
        record[key] = junk[int(rng.integers(len(junk)))]
    path = tmp_path / "fuzz.journal"
    path.write_bytes(
        b"".join(
            b"%08x %s\n" % (zlib.crc32(body), body)
            for body in (json.dumps(r).encode() for r in records)
        )
    )
    found = journal_module.read_recovery(path)
    if found is not None:
        with contextlib.suppress(ProjectError):
            found.restore()


def test_adding_a_person_journals_that_person_only(tmp_path: Path) -> None:
    """Adding a person to a long, fully labelled document appends a small record (not a
    snapshot of every label, which blocked the GUI), and every person edit replays exactly."""
    doc = make_doc(frames=20_000)
    full = np.array(doc.manual(0))
    full[:, :, :2], full[:, :, 2] = 5.0, 1
    doc.write_labels(0, 0, full)
    history = History(doc)
    project = tmp_path / "p.annot.json"
    journal = RecoveryJournal(doc, project, directory=tmp_path / "rec")
    history.push(PlaceJoint(3, 1, 1.0, 2.0))  # the first edit writes the snapshot
    snapshot = journal.path.stat().st_size
    history.push(AddInstance())
    assert journal.path.stat().st_size - snapshot < 4096 < snapshot // 100
    history.push(PlaceJoint(7, 2, 3.0, 4.0, instance=1))
    history.push(AddInstance(skeleton=COCO))
    history.push(RemoveInstance(0))
    history.undo()  # the removed person comes back with every labelled frame
    history.undo()  # ... and the COCO person goes again
    state = content(doc)
    journal.close(discard=False)
    found = find_recovery(project, directory=tmp_path / "rec")
    assert found is not None
    restored = found.restore()
    assert content(restored) == state
    assert [i.track_id for i in restored.instances] == [0, 1]
