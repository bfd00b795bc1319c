"""The desktop build's pieces that need no build: the menu entry, the MIME type, the icon set,
the tarball's installer, and finding the shipped files inside a frozen bundle."""

from __future__ import annotations

import configparser
import os
import shutil
import stat
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from annotator.core import paths

ROOT = Path(__file__).resolve().parents[1]
DESKTOP = ROOT / "resources" / "desktop"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MIME = "application/x-annotator-project"


def _entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP / "annotator.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_desktop_entry_launches_the_program_and_opens_projects() -> None:
    entry = _entry()
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "annotator" and "%f" in entry["Exec"]
    assert entry["Icon"] == "annotator"
    assert entry["Terminal"] == "false"
    assert MIME in entry["MimeType"].split(";")
    validator = shutil.which("desktop-file-validate")
    if validator:  # the freedesktop checker, where installed (apt desktop-file-utils)
        done = subprocess.run(
            [validator, str(DESKTOP / "annotator.desktop")], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "error" not in done.stdout


def test_the_mime_type_matches_project_files() -> None:
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(DESKTOP / "annotator-mime.xml").getroot()
    (mime,) = root.findall("m:mime-type", ns)
    assert mime.get("type") == MIME
    globs = [g.get("pattern") for g in mime.findall("m:glob", ns)]
    assert globs == ["*.annot.json"]
    icon = mime.find("m:generic-icon", ns)
    assert icon is not None and icon.get("name") == MIME.replace("/", "-")


def test_the_icon_set_has_every_size() -> None:
    svg = ET.parse(DESKTOP / "icons" / "annotator.svg").getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 512 512"
    for size in SIZES:
        png = (DESKTOP / "icons" / f"annotator-{size}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])  # IHDR
        assert (width, height) == (size, size)


def test_a_frozen_bundle_finds_its_shipped_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    monkeypatch.delenv("ANNOTATOR_MODELS_DIR", raising=False)
    assert paths.frozen_bundle() == tmp_path / "_internal"
    assert paths.shipped_dir("models") == tmp_path / "_internal" / "models"
    assert paths.shipped_dir("resources") == tmp_path / "_internal" / "resources"
    assert paths.models_dir() == tmp_path / "_internal" / "models"


def test_only_a_frozen_build_moves_the_numba_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    paths.prepare_frozen_runtime()
    assert "NUMBA_CACHE_DIR" not in os.environ
    assert paths.frozen_bundle() is None
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    paths.prepare_frozen_runtime()
    assert Path(os.environ["NUMBA_CACHE_DIR"]) == paths.cache_dir("numba")
    assert Path(os.environ["NUMBA_CACHE_DIR"]).is_dir()


def _fake_tarball(tmp_path: Path) -> Path:
    """An unpacked tarball's layout with a stand-in program instead of the real bundle."""
    top = tmp_path / "annotator-0-linux-x86_64"
    internal = top / "annotator" / "_internal" / "resources"
    shutil.copytree(DESKTOP, internal / "desktop")
    program = top / "annotator" / "annotator"
    program.write_text("#!/bin/sh\necho annotator stand-in\n")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    shutil.copy(ROOT / "packaging" / "install.sh", top / "install.sh")
    return top


def _files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def test_the_installer_installs_and_uninstalls_exactly_its_files(tmp_path: Path) -> None:
    top = _fake_tarball(tmp_path)
    prefix = tmp_path / "prefix"
    (prefix / "share" / "applications").mkdir(parents=True)
    mine = prefix / "share" / "applications" / "someone-else.desktop"
    mine.write_text("[Desktop Entry]\n")
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}

    def install(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(top / "install.sh"), "--prefix", str(prefix), *args],
            env=env,
            capture_output=True,
            text=True,
        )

    done = install()
    assert done.returncode == 0, done.stderr
    program = prefix / "bin" / "annotator"
    assert subprocess.run([str(program)], capture_output=True, text=True).stdout.strip() == (
        "annotator stand-in"
    )
    entry = (prefix / "share" / "applications" / "annotator.desktop").read_text()
    assert f'Exec="{prefix}/lib/annotator/annotator" %f' in entry
    icons = prefix / "share" / "icons" / "hicolor"
    assert (icons / "scalable" / "apps" / "annotator.svg").is_file()
    for size in SIZES:
        assert (icons / f"{size}x{size}" / "apps" / "annotator.png").is_file()
        assert (icons / f"{size}x{size}" / "mimetypes" / f"{MIME.replace('/', '-')}.png").is_file()
    assert (prefix / "share" / "mime" / "packages" / "annotator.xml").is_file()

    assert install().returncode == 0  # installing again replaces the install
    done = install("--uninstall")
    assert done.returncode == 0, done.stderr
    assert not program.exists() and not program.is_symlink()
    # Only the file it did not create stays, beside the caches the desktop's own tools
    # (update-mime-database, update-desktop-database) regenerate where installed.
    left = {
        p
        for p in _files(prefix)
        if not (p.parts[:2] == ("share", "mime") and "packages" not in p.parts)
        and p.name not in {"mimeinfo.cache", "icon-theme.cache"}
    }
    assert left == {Path("share/applications/someone-else.desktop")}


def test_the_installer_leaves_a_folder_it_did_not_make_alone(tmp_path: Path) -> None:
    top = _fake_tarball(tmp_path)
    prefix = tmp_path / "prefix"
    foreign = prefix / "lib" / "annotator" / "data.txt"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("not ours")
    done = subprocess.run(
        ["sh", str(top / "install.sh"), "--prefix", str(prefix)],
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "not an annotator install" in done.stderr
    assert foreign.read_text() == "not ours"
    done = subprocess.run(
        ["sh", str(top / "install.sh"), "--prefix", str(prefix), "--uninstall"],
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and foreign.is_file()


def test_the_app_window_carries_the_icon_set(qapp) -> None:
    from annotator.gui import theme

    sizes = {(s.width(), s.height()) for s in theme.app_icon().availableSizes()}
    assert sizes == {(size, size) for size in SIZES}
