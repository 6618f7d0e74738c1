"""Where assetkit may write: the one place that decides.

Two kinds of output, two entry points:

* **Everything under ``--out``** (assets, the master cache, ``manifest.json``, contact sheets,
  pruning, temp files) goes through :class:`OutRoot`::

      root = OutRoot("out").ensure()            # the folder the user named, made if missing
      camp = root.sub("spring-launch")           # a view of a folder below it
      camp.write_bytes("en-US/meta-square/a-v1.png", data)   # temp file + atomic rename
      camp.unlink("old/a-v1.png")                # regular files only

  Paths are relative and walked one folder at a time with ``O_NOFOLLOW`` from the out root's
  real path, so nothing is written, read or deleted through a symbolic link below the out root
  (a link there, even one pointing inside, is refused: :class:`OutRootError`, exit 2, naming
  the path). The out root itself may be a link: the user named it.

* **A file the user names** (``report --out FILE`` and every other ``--out FILE``): call
  :func:`write_output_file` (or :func:`safe_output_file` first, to fail before doing the
  work). Only a regular file or a new path is accepted; a device, FIFO, socket, folder or
  symbolic link (unless ``follow_symlinks``) is exit 2. The file is written to a temp file in
  the same folder and renamed over the old one atomically.

Inputs are the other direction: see :func:`assetkit.files.open_input`.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path, PurePosixPath

from .errors import UsageError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
#: what :meth:`OutRoot.write_bytes` names its temp files, and what a later run may clean up
TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{6,}\.tmp$")


class OutRootError(UsageError):
    """A path under ``--out`` (or a user-named output file) that assetkit will not write; exit 2."""


_KINDS = ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _kind(mode: int) -> str:
    """What a file is, in words: 'a folder', 'a FIFO (named pipe)'..."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def file_kind(path: str | Path, follow_symlinks: bool = False) -> str | None:
    """``_kind`` of ``path`` (``None`` when nothing is there)."""
    try:
        st = os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        return None
    return _kind(st.st_mode)


def _shown(path: str | Path) -> str:
    """A path as the user gave it (relative stays relative; absolute stays absolute)."""
    return str(path)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


class OutRoot:
    """A folder assetkit writes in (``--out``), or a view of a folder below it (:meth:`sub`).

    Every method takes a path relative to the view (``"en-US/meta-square/a-v1.png"``); ``..``,
    absolute paths and empty parts are refused. Errors are :class:`OutRootError` (exit 2) and
    name the path as the user would type it.
    """

    def __init__(self, path: str | Path, _prefix: tuple[str, ...] = (), _real: str | None = None):
        self.given = Path(path)  # as the user named it (for messages)
        self.real = _real or os.path.realpath(self.given)
        self.prefix = _prefix

    # --------------------------------------------------------------------------- naming
    def sub(self, rel: str) -> OutRoot:
        """A view of the folder ``rel`` below this one (same out root, same rules)."""
        return OutRoot(self.given, self.prefix + self._parts(rel), self.real)

    @property
    def path(self) -> Path:
        """This view's folder as the user would see it (``out/spring-launch``)."""
        return self.given.joinpath(*self.prefix)

    def display(self, rel: str | tuple = "") -> str:
        parts = rel if isinstance(rel, tuple) else self._parts(rel, allow_empty=True)
        return _shown(self.given.joinpath(*self.prefix, *parts))

    def _parts(self, rel: str, allow_empty: bool = False) -> tuple[str, ...]:
        rel = str(rel)
        if "\x00" in rel:
            raise OutRootError(f"{self.display(())}: a path with a NUL byte is not a file name")
        p = PurePosixPath(rel.replace(os.sep, "/"))
        if p.is_absolute() or rel.startswith("~"):
            raise OutRootError(f"{rel!r} is not a path inside {self.display(())}")
        parts = tuple(x for x in p.parts if x != ".")
        if ".." in parts:
            raise OutRootError(f"{rel!r} leaves {self.display(())} ('..')")
        if not parts and not allow_empty:
            raise OutRootError(f"an empty path inside {self.display(())}")
        return parts

    # ---------------------------------------------------------------------- the root
    def ensure(self, option: str = "--out") -> OutRoot:
        """Make the out root (and this view's folders) if missing; exit 2 when it cannot be.

        Checks up front what would otherwise fail half-way: a file where a folder should be,
        a parent that is a file, a read-only or pseudo file system (``/proc``), no permission.
        """
        given = _shown(self.given)
        what = f"{option} " if option else ""
        try:
            kind = file_kind(self.given, follow_symlinks=True)
        except NotADirectoryError:
            raise OutRootError(f"{what}{given}: a part of the path is a file, not a folder") from None
        except OSError as exc:
            raise OutRootError(f"{what}{given}: {_reason(exc)}") from None
        if kind is not None and kind != "a folder":
            raise OutRootError(f"{what}{given} is {kind}, not a folder")
        try:
            os.makedirs(self.given, exist_ok=True)
        except FileExistsError:
            raise OutRootError(f"{what}{given} is not a folder") from None
        except NotADirectoryError:
            raise OutRootError(f"{what}{given}: a part of the path is a file, not a folder") from None
        except OSError as exc:
            raise OutRootError(f"{what}{given}: cannot create the folder: {_reason(exc)}") from None
        self.real = os.path.realpath(self.given)
        fd = self._open_dir((), create=True)
        try:  # the only honest writability test (root passes os.access; /proc refuses files)
            probe = f".assetkit-probe.{secrets.token_hex(4)}.tmp"
            try:
                os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd))
                os.unlink(probe, dir_fd=fd)
            except OSError as exc:
                raise OutRootError(f"{what}{self.display(())}: cannot write there: {_reason(exc)}") from None
        finally:
            os.close(fd)
        return self

    # ------------------------------------------------------------------ folder walking
    def _open_dir(self, parts: tuple[str, ...], create: bool) -> int:
        """An fd of the folder ``prefix + parts``, walked with O_NOFOLLOW from the real root."""
        try:
            fd = os.open(self.real, _DIR_FLAGS & ~os.O_NOFOLLOW)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise OutRootError(f"{_shown(self.given)}: cannot open the folder: {_reason(exc)}") from None
        walked: tuple[str, ...] = ()
        for name in self.prefix + parts:
            walked += (name,)
            try:
                try:
                    nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, 0o777, dir_fd=fd)
                    nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                os.close(fd)
                raise
            except OSError as exc:
                try:
                    self._refuse(fd, name, walked, want="a folder")
                finally:
                    os.close(fd)
                raise OutRootError(f"{self._show(walked)}: {_reason(exc)}") from None
            os.close(fd)
            fd = nfd
        return fd

    def _show(self, full: tuple[str, ...]) -> str:
        return _shown(self.given.joinpath(*full))

    def _refuse(self, dir_fd: int, name: str, full: tuple[str, ...], want: str) -> None:
        """Raise OutRootError saying why ``name`` (in ``dir_fd``) is not ``want``; return if it is."""
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return
        kind = _kind(st.st_mode)
        if kind == want:
            return
        if stat.S_ISLNK(st.st_mode):
            try:
                target = os.readlink(name, dir_fd=dir_fd)
            except OSError:  # pragma: no cover - raced away
                target = "?"
            raise OutRootError(f"{self._show(full)} is a symbolic link (to {target}); assetkit does not write, "
                               f"read or delete through links inside --out {_shown(self.given)}: "
                               "remove the link and run again")
        raise OutRootError(f"{self._show(full)} is {kind}, expected {want}")

    def check_folders(self, rels: list[str] | tuple[str, ...]) -> None:
        """Refuse now (before any work) a folder a run will write in that is a link or a file."""
        for rel in rels:
            try:
                os.close(self._open_dir(self._parts(rel, allow_empty=True), create=False))
            except FileNotFoundError:
                continue

    def check_file_path(self, rel: str) -> None:
        """Refuse now a file path whose folders pass through a link or a file (missing is fine)."""
        parts = self._parts(rel)
        with contextlib.suppress(FileNotFoundError):
            os.close(self._open_dir(parts[:-1], create=False))

    # --------------------------------------------------------------------- the files
    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` to ``rel`` via a temp file in the same folder and an atomic rename.

        An interrupted write never leaves a truncated file: readers see the old file or the new
        one. Missing folders are made; a link or file in the way is exit 2.
        """
        parts = self._parts(rel)
        full = self.prefix + parts
        dfd = self._open_dir(parts[:-1], create=True)
        name = parts[-1]
        try:
            self._refuse_target(dfd, name, full)
            _atomic_write(dfd, name, data, self._show(full))
        finally:
            os.close(dfd)

    def _refuse_target(self, dfd: int, name: str, full: tuple[str, ...]) -> None:
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(st.st_mode):
            if stat.S_ISLNK(st.st_mode):
                self._refuse(dfd, name, full, want="a regular file")
            raise OutRootError(f"{self._show(full)} is {_kind(st.st_mode)}; assetkit replaces only regular files")

    def write_text(self, rel: str, text: str) -> None:
        """:meth:`write_bytes` of UTF-8 text."""
        self.write_bytes(rel, text.encode("utf-8"))

    def _open_file(self, rel: str) -> int:
        """A read fd of the regular file ``rel``; FileNotFoundError when missing (or a folder on the
        way is missing); OutRootError for a link or a non-regular file (never blocks on a FIFO)."""
        parts = self._parts(rel)
        dfd = self._open_dir(parts[:-1], create=False)
        try:
            try:
                fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
                             dir_fd=dfd)
            except FileNotFoundError:
                raise
            except OSError as exc:
                self._refuse(dfd, parts[-1], self.prefix + parts, want="a regular file")
                raise OutRootError(f"cannot read {self._show(self.prefix + parts)}: {_reason(exc)}") from None
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                os.close(fd)
                raise OutRootError(f"{self._show(self.prefix + parts)} is {_kind(st.st_mode)}, expected a regular file")
            os.set_blocking(fd, True)
            return fd
        finally:
            os.close(dfd)

    def read_bytes(self, rel: str) -> bytes:
        """The bytes of the regular file ``rel`` (FileNotFoundError when it is not there)."""
        with os.fdopen(self._open_file(rel), "rb") as fh:
            return fh.read()

    def read_text(self, rel: str) -> str:
        return self.read_bytes(rel).decode("utf-8")

    def file_info(self, rel: str) -> tuple[int, str] | None:
        """``(size, sha256)`` of the regular file ``rel``, or None when it is not there."""
        try:
            fd = self._open_file(rel)
        except FileNotFoundError:
            return None
        h = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
                size += len(block)
        return size, h.hexdigest()

    def exists(self, rel: str) -> bool:
        """Whether the regular file ``rel`` is there (a link or folder on the way is exit 2)."""
        try:
            os.close(self._open_file(rel))
            return True
        except FileNotFoundError:
            return False

    def unlink(self, rel: str) -> bool:
        """Delete the regular file ``rel``; True if it was deleted, False if it was not there or is
        not a regular file (left alone). A link on the way or as the file itself is exit 2."""
        parts = self._parts(rel)
        try:
            dfd = self._open_dir(parts[:-1], create=False)
        except FileNotFoundError:
            return False
        try:
            try:
                st = os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                return False
            if stat.S_ISLNK(st.st_mode):
                self._refuse(dfd, parts[-1], self.prefix + parts, want="a regular file")
            if not stat.S_ISREG(st.st_mode):
                return False
            try:
                os.unlink(parts[-1], dir_fd=dfd)
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise OutRootError(f"cannot delete {self._show(self.prefix + parts)}: {_reason(exc)}") from None
            return True
        finally:
            os.close(dfd)

    def remove_stale_temp_files(self) -> int:
        """Delete the temp files an interrupted (killed) run left in this view; returns how many.

        Only regular files named as :meth:`write_bytes` names them are touched; links are
        not followed.
        """
        try:
            top = self._open_dir((), create=False)
        except FileNotFoundError:
            return 0
        removed = 0
        try:
            for _root, _dirs, files, dfd in os.fwalk(dir_fd=top, follow_symlinks=False):
                for name in files:
                    if not TEMP_NAME.match(name):
                        continue
                    try:
                        if stat.S_ISREG(os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode):
                            os.unlink(name, dir_fd=dfd)
                            removed += 1
                    except OSError:
                        pass
        finally:
            os.close(top)
        return removed


def _atomic_write(dir_fd: int, name: str, data: bytes, shown: str, before_replace=None) -> None:
    """``data`` → a temp file next to ``name`` in ``dir_fd``, fsynced, renamed over ``name``."""
    tmp = f".{name}.{secrets.token_hex(5)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                     0o666, dir_fd=dir_fd)
    except OSError as exc:
        raise OutRootError(f"cannot write {shown}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        if isinstance(exc, OSError):
            raise OutRootError(f"cannot write {shown}: {_reason(exc)}") from None
        raise


# ----------------------------------------------------------------- files the user names
def safe_output_file(path: str | Path, follow_symlinks: bool = False, option: str = "--out",
                     follow_option: str | None = "--follow-symlinks") -> Path:
    """The path a user-named output file will be written to; exit 2 unless it is safe.

    Accepted: a new path (its folder must exist or be creatable) or an existing regular file.
    Refused: a folder, FIFO, socket, device, or a symbolic link (unless ``follow_symlinks``,
    when the link's target must itself be a regular file or new, and is what gets replaced);
    ``follow_option``: the command's option for that, named in the refusal (None: it has none).
    """
    path = Path(path)
    shown = _shown(path)
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise OutRootError(f"{option} {shown}: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise OutRootError(f"{option} {shown}: {_reason(exc)}") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        if not follow_symlinks:
            raise OutRootError(f"{option} {shown} is a symbolic link (to {os.readlink(path)}); give the real file"
                               + (f" or pass {follow_option} to write to its target" if follow_option else ""))
        target = Path(os.path.realpath(path))
        checked = safe_output_file(target, follow_symlinks=False, option=option)
        return checked
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutRootError(f"{option} {shown} is {_kind(st.st_mode)}; give a regular file name"
                           + (" (or '-' for standard output)" if not stat.S_ISDIR(st.st_mode) else ""))
    parent = path.parent
    try:
        pkind = file_kind(parent, follow_symlinks=True)
    except NotADirectoryError:
        raise OutRootError(f"{option} {shown}: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise OutRootError(f"{option} {shown}: {_reason(exc)}") from None
    if pkind is not None and pkind != "a folder":
        raise OutRootError(f"{option} {shown}: {_shown(parent)} is {pkind}, not a folder")
    return path


def write_output_file(path: str | Path, data: bytes, follow_symlinks: bool = False, option: str = "--out") -> Path:
    """Write a user-named output file safely (see :func:`safe_output_file`); returns the path
    written (the link's target with ``follow_symlinks``). Temp file + atomic rename in the same
    folder: an interrupted write leaves the old file."""
    target = safe_output_file(path, follow_symlinks, option)
    folder = target.parent
    shown = _shown(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutRootError(f"{option} {shown}: cannot create {_shown(folder)}: {_reason(exc)}") from None
    try:
        dfd = os.open(folder, _DIR_FLAGS & ~os.O_NOFOLLOW)
    except OSError as exc:
        raise OutRootError(f"cannot write {shown}: {_reason(exc)}") from None
    try:  # still a regular file or nothing just before the rename
        _atomic_write(dfd, target.name, data, shown, lambda: safe_output_file(target, False, option))
    finally:
        os.close(dfd)
    return target


