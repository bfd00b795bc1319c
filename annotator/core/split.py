"""The one train/validation split of the shared data (CONTRACTS.md).

Penn Action: sort the train-split ``.mat`` files by name; the first 1000 are training, the
rest (258) validation. JHMDB: split 1's train list for training, its test list for validation.
Dictionaries, K-FPN weights and every tuned number use the training part only.
"""

from __future__ import annotations

from pathlib import Path

PENN_TRAIN_COUNT = 1000


def penn_action_split(labels_dir: str | Path) -> tuple[list[Path], list[Path]]:
    """(training files, validation files) of a Penn Action ``labels`` folder."""
    files = sorted(Path(labels_dir).glob("*.mat"), key=lambda p: p.name)
    if not files:
        raise FileNotFoundError(f"no Penn Action .mat files in {labels_dir}")
    return files[:PENN_TRAIN_COUNT], files[PENN_TRAIN_COUNT:]


def jhmdb_split(jhmdb_dir: str | Path) -> tuple[Path, Path]:
    """(training pickle, validation pickle) of split 1 in a JHMDB folder."""
    root = Path(jhmdb_dir)
    train, val = root / "GT_train_1.pkl", root / "GT_test_1.pkl"
    for p in (train, val):
        if not p.is_file():
            raise FileNotFoundError(f"JHMDB split file missing: {p}")
    return train, val
