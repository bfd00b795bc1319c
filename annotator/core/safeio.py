"""Safe file input and output: the one guard every loader and writer goes through.

Reading: :func:`regular_file` refuses anything that is not a regular file (a FIFO, a device
such as ``/dev/zero`` behind a symlink, a folder) and anything larger than a limit, before a
byte is read; :func:`read_bytes` / :func:`read_text` then read at most that many bytes from a
descriptor opened without blocking. :func:`parse_json` parses with bounded nesting, no
NaN/Infinity and no gigantic integers. :func:`npz_arrays` / :func:`load_npz` check every
member's declared shape before decompressing it, and :func:`load_mat` checks a MAT file's
declared variable sizes (its headers) before ``loadmat`` allocates anything. Every failure is
one readable line in the caller's error type (``FormatError``, ``ProjectError``, ...).

Writing: :func:`atomic_output` yields a temporary path beside the target; when the body is
done the file is fsynced, renamed over the target and the folder fsynced, so a crash at any
moment leaves the old file or the new one, never a torn or empty one.
:func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_savez` are the common
cases. :func:`refuse_replacing` stops a command whose output names one of its own inputs
(``propose clip.mp4 --out clip.mp4``) before any work. Nothing here deletes a file it did not
create.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotator.errors import AnnotatorError

ErrorType = type[AnnotatorError]

MAX_INT_DIGITS = 40  # JSON integers longer than this are not coordinates, counts or ids
MAX_ARRAY_BYTES = 512 * 1024 * 1024  # one declared array (npz member, MAT variable)
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # all declared arrays of one file together
MAX_MEMBERS = 4096


# ---------------------------------------------------------------------------- reading
def regular_file(
    path: str | Path, error: ErrorType = AnnotatorError, limit: int | None = None
) -> int:
    """The size of ``path``, which must be an existing regular file of at most ``limit`` bytes.

    Symlinks are followed, and what they point to is judged: a link to ``/dev/zero`` is a
    device, not a file. ``stat`` never blocks, even on a FIFO.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"file not found: {path}") from None
    except OSError as err:
        raise error(f"cannot read {path}: {err.strerror or err}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path.name} is not a regular file (a device, pipe or socket)")
    if limit is not None and st.st_size > limit:
        raise error(
            f"{path.name} is too large ({st.st_size:,} bytes; the limit is {limit:,} bytes)"
        )
    return int(st.st_size)


def read_bytes(path: str | Path, limit: int, error: ErrorType = AnnotatorError) -> bytes:
    """At most ``limit`` bytes of the regular file ``path``, or ``error``.

    The descriptor is opened non-blocking and checked again (``fstat``), so a file swapped for
    a FIFO or a device between the check and the open is still refused; reading stops at
    ``limit`` + 1 bytes whatever the file claims.
    """
    path = Path(path)
    regular_file(path, error, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise error(f"cannot read {path}: {err.strerror or err}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{path.name} is not a regular file (a device, pipe or socket)")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as err:
        raise error(f"cannot read {path}: {err.strerror or err}") from None
    finally:
        os.close(fd)
    if total > limit:
        raise error(f"{path.name} is too large (more than {limit:,} bytes)")
    return b"".join(chunks)


def read_text(path: str | Path, limit: int, error: ErrorType = AnnotatorError) -> str:
    """The UTF-8 text (a BOM is tolerated) of at most ``limit`` bytes of ``path``."""
    raw = read_bytes(path, limit, error)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{Path(path).name} is not a UTF-8 text file") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _bounded_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(digits)} digits is out of range")
    return int(text)


def parse_json(text: str | bytes, what: str, error: ErrorType = AnnotatorError) -> Any:
    """JSON with no NaN/Infinity and no gigantic integers; nesting beyond what the parser
    can recurse into is one line, not a ``RecursionError``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise error(f"{what} is not UTF-8 text") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_int=_bounded_int)
    except RecursionError:
        raise error(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as err:
        raise error(f"{what} is not valid JSON ({err.msg}, line {err.lineno})") from None
    except ValueError as err:
        raise error(f"{what} holds an invalid number: {str(err)[:80]}") from None
    return data


def npz_arrays(
    path: str | Path,
    error: ErrorType = AnnotatorError,
    max_array: int | None = None,
    max_total: int | None = None,
) -> dict[str, tuple[tuple[int, ...], np.dtype[Any]]]:
    """Each member's declared (shape, dtype), read from its header; refuses oversized,
    object-typed or malformed members before anything is decompressed. The limits default to
    ``MAX_ARRAY_BYTES`` and ``MAX_TOTAL_BYTES``."""
    path = Path(path)
    max_array = MAX_ARRAY_BYTES if max_array is None else max_array
    max_total = MAX_TOTAL_BYTES if max_total is None else max_total
    out: dict[str, tuple[tuple[int, ...], np.dtype[Any]]] = {}
    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise error(f"{path.name} holds {len(infos)} arrays, more than {MAX_MEMBERS}")
            for info in infos:
                if info.file_size > max_total:
                    raise error(f"{path.name}: {info.filename} declares {info.file_size:,} bytes")
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                if dtype.hasobject:
                    raise error(f"{path.name}: {info.filename} holds Python objects")
                nbytes = int(np.prod(shape, dtype=np.float64)) * max(dtype.itemsize, 1)
                name = info.filename.removesuffix(".npy")
                if nbytes > max_array:
                    raise error(
                        f"{path.name}: array {name!r} {tuple(shape)} declares {nbytes:,} bytes "
                        f"(at most {max_array:,})"
                    )
                total += nbytes
                if total > max_total:
                    raise error(f"{path.name}: its arrays declare more than {max_total:,} bytes")
                out[name] = (tuple(int(s) for s in shape), dtype)
    except AnnotatorError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as err:
        raise error(f"{path.name} is not a readable NumPy .npz file ({err})") from None
    except Exception as err:  # zlib.error, NotImplementedError (compression method), ...
        raise error(f"{path.name} is not a readable NumPy .npz file ({err})") from None
    return out


def load_npz(
    path: str | Path,
    error: ErrorType = AnnotatorError,
    file_limit: int = MAX_TOTAL_BYTES,
    max_array: int | None = None,
    max_total: int | None = None,
) -> dict[str, NDArray[Any]]:
    """Every array of a regular ``.npz`` file, after checking the declared sizes."""
    path = Path(path)
    regular_file(path, error, file_limit)
    npz_arrays(path, error, max_array, max_total)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as err:  # BadZipFile, zlib.error, ValueError, EOFError, OSError, ...
        raise error(f"{path.name} is not a readable NumPy .npz file ({err})") from None


def load_mat(
    path: str | Path,
    error: ErrorType = AnnotatorError,
    file_limit: int = 256 * 1024 * 1024,
    max_total: int = MAX_TOTAL_BYTES,
) -> dict[str, Any]:
    """The variables of a MATLAB file, after checking the sizes its headers declare.

    Complex values are refused (a label or dictionary is real; dropping the imaginary part
    silently would be wrong).
    """
    from scipy.io import loadmat, whosmat

    path = Path(path)
    regular_file(path, error, file_limit)
    try:
        listing = whosmat(str(path))
    except NotImplementedError:
        raise error(f"{path.name} is a MATLAB 7.3 (HDF5) file, which is not supported") from None
    except Exception as err:  # scipy raises many types for non-MAT input
        raise error(f"{path.name} is not a readable MATLAB file ({str(err)[:80]})") from None
    total = 0
    for name, shape, kind in listing:
        cells = float(np.prod([float(s) for s in shape])) if shape else 1.0
        size = cells * 16  # at most complex double per element
        if kind in ("cell", "struct", "object") and cells > 1e6:
            raise error(f"{path.name}: {name} declares {int(cells):,} elements")
        total += int(size)
        if total > max_total:
            raise error(
                f"{path.name}: variable {name!r} {tuple(shape)} declares more than "
                f"{max_total:,} bytes"
            )
    try:
        data = loadmat(str(path))
    except MemoryError:
        raise error(f"{path.name} is too large to load") from None
    except Exception as err:
        raise error(f"{path.name} is not a readable MATLAB file ({str(err)[:80]})") from None
    for name, value in data.items():
        if not name.startswith("__") and isinstance(value, np.ndarray) and np.iscomplexobj(value):
            raise error(f"{path.name}: {name} holds complex numbers; real values are expected")
    return dict(data)


# ---------------------------------------------------------------------------- writing
def fsync_dir(folder: str | Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_sibling(path: Path, folder: bool = False) -> Path:
    """A new, hidden, uniquely named file or folder beside ``path`` (default permissions)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            if folder:
                os.mkdir(tmp, 0o777)
            else:
                os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def check_output_path(path: Path, error: ErrorType = AnnotatorError) -> None:
    """Raise ``error`` unless ``path`` can be replaced by a new file: its folder exists and it
    is not a folder, nor a device, pipe or socket (renaming over one would replace it)."""
    if path.is_dir():
        raise error(f"{path} is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise error(f"{path} is not a regular file (a device, pipe or socket); give a file name")
    if not path.parent.is_dir():
        raise error(f"folder does not exist: {path.parent}")


def refuse_replacing(
    out: str | Path,
    inputs: Mapping[str, str | Path | None],
    error: ErrorType = AnnotatorError,
) -> None:
    """Raise ``error`` when ``out`` is the same file as one of ``inputs`` ({what: path}; None
    skipped): another spelling, a symlink or a hard link of it. Writing there would destroy
    the input the command reads (an output that does not exist yet replaces nothing)."""
    for what, path in inputs.items():
        if path is None or str(path) == "":
            continue
        try:
            same = os.path.samefile(out, path)
        except (OSError, ValueError):  # one of them does not exist (or is not a valid name)
            same = False
        if same:
            raise error(f"the output would replace the input {what} {path}")


@contextlib.contextmanager
def atomic_output(path: str | Path, error: ErrorType = AnnotatorError) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and replaces ``path``.

    On any error the temporary file is removed and ``path`` is left as it was. The body may
    write the temporary path by name (``cv2.imwrite``, ``torch.save``, ``np.savez``).
    """
    path = Path(path)
    check_output_path(path, error)
    try:
        tmp = temp_sibling(path)
    except OSError as err:
        raise error(f"cannot write in {path.parent}: {err.strerror or err}") from None
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise error(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes, error: ErrorType = AnnotatorError) -> None:
    with atomic_output(path, error) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str, error: ErrorType = AnnotatorError) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), error)


def atomic_savez(
    path: str | Path,
    arrays: Mapping[str, Any],
    compressed: bool = True,
    error: ErrorType = AnnotatorError,
) -> None:
    """``np.savez[_compressed]`` to ``path`` atomically (the name is kept as given)."""
    with atomic_output(path, error) as tmp, tmp.open("wb") as fh:
        (np.savez_compressed if compressed else np.savez)(fh, **arrays)


def not_weights_error(path: Path, what: str) -> AnnotatorError:
    """The error for a file ``torch.load`` refused as ``what`` (e.g. "a gate model"): torch's
    own messages are about pickling options, not about the file the user gave."""
    from annotator.errors import UsageError

    return UsageError(f"{path} is not {what} file (not a PyTorch weights file, or a damaged one)")
