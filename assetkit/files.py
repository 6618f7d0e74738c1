"""Files a user's YAML refers to (images, fonts), checked up front; atomic writes for outputs."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .yamlfile import display_path

#: Largest input image accepted (pixels). Bigger files are refused before decoding (bombs).
MAX_INPUT_PIXELS = 64_000_000


def resolve_ref(value: str, base_dir: Path | None) -> Path:
    p = Path(os.path.expanduser(value))
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return p


def check_file(value: str, base_dir: Path | None) -> Path:
    path = resolve_ref(value, base_dir)
    if not path.exists():
        raise ValueError(f"file not found: {value} (looked for {display_path(path)})")
    if path.is_dir():
        raise ValueError(f"{value} is a folder, expected a file")
    return path


def check_image(value: str, base_dir: Path | None, need_alpha: bool = False) -> Path:
    """Raise ValueError unless ``value`` names a readable, complete, not-too-large image."""
    from PIL import Image, UnidentifiedImageError

    path = check_file(value, base_dir)
    try:
        with Image.open(path) as im:
            w, h = im.size
            if w * h > MAX_INPUT_PIXELS:
                raise ValueError(f"{value} is {w}×{h} = {w * h:,} pixels, over the limit of "
                                 f"{MAX_INPUT_PIXELS:,} (possible decompression bomb)")
            mode = im.mode
            im.load()
    except UnidentifiedImageError:
        raise ValueError(f"{value} is not an image (PNG, JPEG or WebP expected)") from None
    except Image.DecompressionBombError:
        raise ValueError(f"{value} is over the pixel limit (possible decompression bomb)") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"{value} is damaged or truncated ({exc})") from None
    if need_alpha and not (mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in Image.open(path).info)):
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
    h = hashlib.sha256()
    with open(path, "rb") as fh:
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
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
