"""Where the workers of a distributed run write: the storage every node and the driver share.

Supported now: a folder on a filesystem every node mounts at the same path (NFS, a cluster
file system, or one machine's disk for a local Ray instance). It is written through
:class:`~assetkit.outroot.OutRoot`, with the same rules as a local run (temp file + atomic
rename, ``O_NOFOLLOW``, no links inside ``--out``). The :class:`Storage` protocol is what the
executor needs from a store; an object store (an fsspec URL such as ``s3://bucket/path``) would
be a second implementation of it, with per-object puts instead of renames. Until then such a
URL is refused with a clear message (:func:`open_storage`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from ..errors import UsageError
from ..outroot import OutRoot

#: ``scheme://`` at the start of ``--out``: a URL, not a folder
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class Storage(Protocol):
    """What a worker and the driver do with the shared output (paths relative to it)."""

    def write_bytes(self, rel: str, data: bytes) -> None: ...

    def read_bytes(self, rel: str) -> bytes: ...

    def exists(self, rel: str) -> bool: ...

    def unlink(self, rel: str) -> bool: ...

    def display(self, rel: str | tuple = "") -> str: ...


def open_storage(out: str | Path) -> Storage:
    """The storage behind ``--out``: a shared folder (:class:`OutRoot`); an object-store URL is
    not supported yet (exit 2 saying so)."""
    text = str(out)
    if URL.match(text):
        raise UsageError(f"--out {text}: object stores (fsspec URLs) are not supported yet; give a folder every "
                         "node of the cluster mounts at the same path (NFS or a cluster file system)")
    return OutRoot(out)
