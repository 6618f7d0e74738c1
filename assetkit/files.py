"""Files a user's YAML refers to (images, fonts), checked up front; atomic writes for outputs."""
from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path

from .errors import AssetkitError
from .yamlfile import display_path

#: Largest input image accepted (pixels). Bigger files are refused before decoding (bombs).
MAX_INPUT_PIXELS = 64_000_000


def resolve_ref(value: str, base_dir: Path | None) -> Path:
    p = Path(os.path.expanduser(value))
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return p


#: Size limits of input files (bytes): bigger files are refused before they are read.
MAX_IMAGE_BYTES = 256 * 1024 * 1024
MAX_TEXT_BYTES = 16 * 1024 * 1024  # YAML, CSV, quotes
MAX_FONT_BYTES = 64 * 1024 * 1024  # a CJK collection is ~20 MB


class InputFileError(AssetkitError, ValueError):
    """An input file that is missing, not a regular file, too large or unreadable (one line).

    ``short`` is the message without the file's name (for ``file:line:col:`` reports). A
    ValueError inside validators (reported at the key that names the file); raised at run time
    (a file changed since it was validated) it is a usage error: exit 2, no traceback."""

    exit_code = 2

    def __init__(self, what: str, short: str):
        self.what, self.short = what, short
        super().__init__(f"file not found: {what}" if short == "file not found" else f"{what} {short}")


def open_input(path: str | Path, max_bytes: int, what: str | None = None):
    """Open an input file (logo, font, image, YAML, CSV, quote) for reading in binary mode.

    Only a regular file is accepted, after resolving symbolic links; a FIFO, socket, device or
    folder is refused at once (the file is opened with ``O_NONBLOCK`` and checked with
    ``fstat`` before any read, so nothing ever blocks), and so is a file over ``max_bytes``.
    Raises :class:`InputFileError` (a ValueError) with a one-line message naming ``what``.
    """
    path = Path(path)
    what = what or display_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError(what, "file not found") from None
    except NotADirectoryError:
        raise InputFileError(what, "is not there: a part of the path is a file, not a folder") from None
    except IsADirectoryError:
        raise InputFileError(what, "is a folder, expected a file") from None
    except OSError as exc:
        raise InputFileError(what, f"cannot be read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            from .outroot import file_kind

            kind = file_kind(path, follow_symlinks=True) or "not a regular file"
            raise InputFileError(what, "is a folder, expected a file" if kind == "a folder"
                                 else f"is {kind}, expected a regular file")
        if st.st_size > max_bytes:
            raise InputFileError(what, f"is {st.st_size:,} bytes, over the limit of {max_bytes:,}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path: str | Path, max_bytes: int, what: str | None = None) -> bytes:
    """The bytes of an input file, checked as :func:`open_input` checks it."""
    with open_input(path, max_bytes, what) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while we read it
        raise InputFileError(what or display_path(path), f"is over the limit of {max_bytes:,} bytes")
    return data


def file_version(path: str | Path) -> tuple:
    """``(inode, size, mtime)`` of ``path`` (``()`` when it cannot be stat'ed): what caches of a
    file's contents key on, so a file replaced or changed is read (and checked) again."""
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def load_image(path: str | Path, mode: str | None = "RGB", what: str | None = None):
    """An input image (logo, product shot, concept image) decoded at the moment of use, through
    :func:`open_input` as validation opened it: a file swapped since then for a FIFO, device,
    folder or a link to one is refused at once (exit 2, naming the file), never read blocking,
    and the pixel limit holds again. Returns a loaded image in ``mode`` (``None``: as stored,
    EXIF and all, for callers that honour its orientation)."""
    from PIL import Image, UnidentifiedImageError

    what = what or display_path(path)
    try:
        with open_input(path, MAX_IMAGE_BYTES, what) as fh, Image.open(fh) as im:
            w, h = im.size
            if w * h > MAX_INPUT_PIXELS:
                raise InputFileError(what, f"is {w}×{h} = {w * h:,} pixels, over the limit of {MAX_INPUT_PIXELS:,}")
            im.load()
            return im.convert(mode) if mode and im.mode != mode else im.copy()
    except UnidentifiedImageError:
        raise InputFileError(what, "is not an image any more (it changed since it was validated)") from None
    except Image.DecompressionBombError:
        raise InputFileError(what, "is over the pixel limit (possible decompression bomb)") from None
    except (OSError, SyntaxError) as exc:
        raise InputFileError(what, f"is damaged or truncated ({exc})") from None


def check_file(value: str, base_dir: Path | None) -> Path:
    """``value`` resolved against ``base_dir``; ValueError unless it is a regular file."""
    path = resolve_ref(value, base_dir)
    if not path.exists():
        raise ValueError(f"file not found: {value} (looked for {display_path(path)})")
    if path.is_dir():
        raise ValueError(f"{value} is a folder, expected a file")
    open_input(path, 1 << 62, value).close()  # a FIFO, socket or device: refused, never opened blocking
    return path


def check_image(value: str, base_dir: Path | None, need_alpha: bool = False, png: bool = False) -> Path:
    """Raise ValueError unless ``value`` names a readable, complete, not-too-large image."""
    from PIL import Image, UnidentifiedImageError

    path = check_file(value, base_dir)
    try:
        with open_input(path, MAX_IMAGE_BYTES, value) as fh, Image.open(fh) as im:
            w, h = im.size
            if w * h > MAX_INPUT_PIXELS:
                raise ValueError(f"{value} is {w}×{h} = {w * h:,} pixels, over the limit of "
                                 f"{MAX_INPUT_PIXELS:,} (possible decompression bomb)")
            mode = im.mode
            transparent = "transparency" in im.info
            kind = im.format
            im.load()
    except UnidentifiedImageError:
        raise ValueError(f"{value} is not an image (PNG, JPEG or WebP expected)") from None
    except Image.DecompressionBombError:
        raise ValueError(f"{value} is over the pixel limit (possible decompression bomb)") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"{value} is damaged or truncated ({exc})") from None
    if png and kind != "PNG":
        raise ValueError(f"{value} is a {kind or 'non-PNG'} file; a logo is a PNG with transparency")
    if need_alpha and not (mode in ("RGBA", "LA", "PA") or (mode == "P" and transparent)):
        raise ValueError(f"{value} has no transparency (alpha channel) — a logo needs a transparent PNG")
    return path


def check_font(value: str, base_dir: Path | None) -> Path:
    """Raise ValueError unless ``value`` is a regular file that parses as a TrueType/OpenType font."""
    from .typeface import FontFileError, read_font

    path = resolve_ref(value, base_dir)
    try:
        read_font(path, value)
    except FontFileError as exc:
        raise ValueError(str(exc)) from None
    return path


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a regular file (opened through :func:`open_input`: a FIFO or device in its
    place is refused at once, never read blocking)."""
    h = hashlib.sha256()
    with open_input(path, 1 << 62) as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and an atomic rename.

    An interrupted write never leaves a truncated file: readers see the old file or the new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
