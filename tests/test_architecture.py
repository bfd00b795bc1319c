"""Layering rules: which package may import which, core stays pure, only ``gui`` imports Qt.

Checked on the source (every import statement, including ones inside functions, and every
string naming an ``annotator`` module, as ``importlib`` tables do) and by importing
``annotator.core`` in a fresh interpreter where the forbidden modules are blocked.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "annotator"
QT = ("PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6")
CORE_FORBIDDEN = (*QT, "torch", "av", "cv2")


# The packages of ``annotator`` and what each may import besides itself (docs/architecture.md).
# ``errors`` and the package root (its version) are below everything. Packages on one level do
# not import each other: the command line and the app compose them.
_BASE = frozenset({"errors", "core"})
_LIBRARIES = _BASE | {"video", "dynamics", "formats"}
_ENGINES = _LIBRARIES | {"proposal", "propagation", "estimation"}
ALLOWED: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "core": frozenset({"errors"}),
    "video": _BASE,
    "dynamics": _BASE,
    "formats": _BASE,
    # Videos with exact ground truth for tests and benchmarks, made from core's types.
    "synth": _BASE,
    "proposal": _LIBRARIES,
    "propagation": _LIBRARIES,
    "estimation": _LIBRARIES,
    "gui": _ENGINES,
    # Benchmarks measure every layer, the GUI included; only the command line reaches them.
    "bench": _ENGINES | {"gui", "synth"},
    "cli": _ENGINES | {"gui", "bench"},
    "__main__": frozenset({"cli"}),
}
_MODULE_NAME = re.compile(r"annotator(?:\.\w+)+")


def _package(path: Path) -> str:
    """The top-level package (or module) of ``annotator`` that ``path`` belongs to."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def _annotator_imports(path: Path) -> set[str]:
    """The ``annotator`` packages ``path`` imports, by statement or by module-name string."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "annotator":
                modules.extend(f"annotator.{a.name}" for a in node.names)
            else:
                modules.append(node.module)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _MODULE_NAME.fullmatch(node.value)
        ):
            modules.append(node.value)
    names = {m.split(".")[1] for m in modules if m.startswith("annotator.")}
    return {n for n in names if (PACKAGE / n).is_dir() or (PACKAGE / f"{n}.py").is_file()}


def test_every_package_has_a_rule() -> None:
    packages = {_package(f) for f in PACKAGE.rglob("*.py")} - {"__init__"}
    assert packages - ALLOWED.keys() == set()


def test_packages_import_only_what_their_layer_allows() -> None:
    bad = []
    for f in sorted(PACKAGE.rglob("*.py")):
        own = _package(f)
        if own == "__init__":
            continue
        for name in sorted(_annotator_imports(f) - {own} - ALLOWED.get(own, frozenset())):
            bad.append(f"{f.relative_to(PACKAGE.parent)} imports annotator.{name}")
    assert bad == []


def test_relative_imports_are_not_used() -> None:
    # The rules above read absolute names only; a relative import would slip past them.
    relative = [
        str(f.relative_to(PACKAGE.parent))
        for f in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


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
