"""Layering rules: core stays pure, and only ``annotator.gui`` may import Qt.

Checked on the source (every import statement, including ones inside functions) and by
importing ``annotator.core`` in a fresh interpreter where the forbidden modules are blocked.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "annotator"
QT = ("PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6")
CORE_FORBIDDEN = (*QT, "torch", "av", "cv2")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _violations(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{f.relative_to(PACKAGE.parent)} imports {name}"
        for f in files
        for name in sorted(_imports(f) & set(forbidden))
    ]


def test_core_imports_nothing_heavy() -> None:
    files = sorted((PACKAGE / "core").rglob("*.py"))
    assert files, "annotator/core has no modules"
    assert _violations(files, CORE_FORBIDDEN) == []


def test_only_gui_imports_qt() -> None:
    files = [f for f in PACKAGE.rglob("*.py") if "gui" not in f.relative_to(PACKAGE).parts]
    assert _violations(files, QT) == []


def test_core_imports_with_heavy_modules_blocked() -> None:
    blocker = (
        "import sys, importlib.abc\n"
        f"BLOCK = {CORE_FORBIDDEN!r}\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCK:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import pkgutil, importlib, annotator.core\n"
        "for m in pkgutil.walk_packages(annotator.core.__path__, 'annotator.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocker], capture_output=True, text=True, cwd=PACKAGE.parent
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
