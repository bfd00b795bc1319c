"""The skeleton editor's logic: edits, refused edits, and JSON that loads back equal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.core.skeleton import PENN_ACTION, Skeleton, load_skeleton
from annotator.core.skeleton_edit import SkeletonDraft
from annotator.errors import SkeletonError


def test_edits_saved_as_json_load_back_equal(tmp_path: Path) -> None:
    draft = SkeletonDraft.of(PENN_ACTION)
    draft.set_name("penn_plus")
    neck = draft.add_joint("neck")
    draft.add_edge(0, neck)
    draft.rename_joint(0, "head_top")
    draft.delete_pair(0)
    draft.add_pair(1, 2)
    out = draft.save(tmp_path / "penn_plus")
    assert out == tmp_path / "penn_plus.json"
    back = load_skeleton(out)
    assert back == draft.to_skeleton()
    assert back.joints[0] == "head_top" and back.joints[-1] == "neck"
    assert (0, 13) in back.edges
    assert SkeletonDraft.load(out) == draft


def test_deleting_a_joint_renumbers_edges_and_pairs() -> None:
    draft = SkeletonDraft("s", ["a", "L-b", "R-b", "c"], [(0, 1), (1, 3), (2, 3)], [(1, 2)])
    draft.colors = ["#f2c94c", "#2f80ed", "#eb5757", "#f2c94c"]
    draft.delete_joint(1)
    assert draft.joints == ["a", "R-b", "c"]
    assert draft.edges == [(1, 2)]  # (0,1) and (1,3) touched the deleted joint
    assert draft.symmetry == []
    assert draft.colors == ["#f2c94c", "#eb5757", "#f2c94c"]
    draft.to_skeleton()  # still a valid template


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.add_joint("head"), "already a joint named 'head'"),
        (lambda d: d.add_joint("  "), "needs a name"),
        (lambda d: d.rename_joint(1, "head"), "already a joint named 'head'"),
        (lambda d: d.rename_joint(99, "x"), "joint 99 does not exist"),
        (lambda d: d.add_edge(0, 13), "joint 13, which does not exist"),
        (lambda d: d.add_edge(2, 2), "two different joints"),
        (lambda d: d.add_edge(2, 1), "already joined"),
        (lambda d: d.add_pair(1, 5), "already paired"),
        (lambda d: d.delete_edge(50), "edge 50 does not exist"),
        (lambda d: d.set_name(""), "needs a name"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    draft = SkeletonDraft.of(PENN_ACTION)
    before = SkeletonDraft.of(PENN_ACTION)
    with pytest.raises(SkeletonError, match=message):
        edit(draft)
    assert draft == before


def test_the_last_joint_cannot_be_deleted() -> None:
    draft = SkeletonDraft.of(Skeleton("one", ("a",)))
    with pytest.raises(SkeletonError, match="at least one joint"):
        draft.delete_joint(0)


def test_renaming_moves_a_default_colour_to_the_new_side() -> None:
    draft = SkeletonDraft.of(Skeleton("s", ("L-hand", "tail"), colors=("#2f80ed", "#123456")))
    draft.rename_joint(0, "R-hand")
    draft.rename_joint(1, "left_tail")
    assert draft.colors == ["#eb5757", "#123456"]  # a chosen colour stays


def test_saved_file_is_the_documented_template_format(tmp_path: Path) -> None:
    draft = SkeletonDraft("mouse", ["nose", "tail"], [(0, 1)])
    draft.colors = ["#e6194b", "#3cb44b"]
    data = json.loads(draft.save(tmp_path / "mouse.json").read_text())
    assert data == {
        "name": "mouse",
        "joints": ["nose", "tail"],
        "edges": [[0, 1]],
        "symmetry": [],
        "colors": ["#e6194b", "#3cb44b"],
    }
