"""A model's weights kept converted to the dtype a run uses, so later runs skip the conversion.

A CPU with bf16 math runs an fp32 model in bf16 (a GPU in fp16): every load reads the fp32
files (twice the bytes) and casts each tensor (``bench/campaign.py``, SD-Turbo-sized: from_pretrained 4.3-6.2 s
and ~10 CPU-s, against 2.1 s from a bf16 copy). The first load of a model in a dtype narrower
than its files' saves the loaded pipeline (the cast tensors, bit for bit what every later cast
gives) as a diffusers folder under the cache; later loads read that folder instead.

An entry is ``<root>/<key>/`` with ``assetkit-weights.json``: the key (the model's weights
sha256, the sha256 of its config files, the dtype, the pipeline class, the diffusers and
transformers versions) and each file's size and sha256. An entry is used only when its
manifest matches and every file is a regular file of its recorded size and sha256 (hashes are
remembered by path, size and mtime, as for the model's own weights); anything else is named,
removed and written again from the model. Written into a temporary folder and renamed, so a
killed run leaves no half entry (and its leftovers are removed by the next write); two runs
writing at once keep the first. The cache never changes what is generated: the run's
fingerprint is the model's own weights hash.

Where: the generator's ``weights_cache`` (a folder, or ``off``), else ``$ASSETKIT_WEIGHTS_CACHE``,
else ``$XDG_CACHE_HOME/assetkit/weights`` (``~/.cache/...``). ``assetkit models cache`` lists the
entries and removes the stale ones (:func:`list_entries`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..models import ModelRef, remember_sha256, sha256_cached, sha256_file, weights_sha256

MANIFEST = "assetkit-weights.json"
FORMAT = 1
#: safetensors dtype names → torch dtype names
_DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64"}
_WIDTH = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}


def cache_root(value: str | None) -> Path | None:
    """The cache folder for the generator's ``weights_cache`` (None: ``off``)."""
    chosen = value if value not in (None, "auto") else os.environ.get("ASSETKIT_WEIGHTS_CACHE") or None
    if chosen == "off":
        return None
    if chosen:
        return Path(os.path.expanduser(chosen))
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assetkit" / "weights"


def stored_dtypes(ref: ModelRef) -> set[str]:
    """The floating dtypes the model's safetensors files hold (torch names), read from their
    headers; empty when a weight file is not safetensors (nothing is cached for those)."""
    found: set[str] = set()
    for f in ref.weight_files():
        if f.suffix != ".safetensors":
            return set()
        try:
            with open(f, "rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                if n > 100 << 20:
                    return set()
                header = json.loads(fh.read(n))
        except (OSError, ValueError, struct.error):
            return set()
        for name, info in header.items():
            if name != "__metadata__" and isinstance(info, dict) and info.get("dtype") in _DTYPES:
                found.add(_DTYPES[info["dtype"]])
    return found


def _config_sha256(folder: Path) -> str:
    """sha256 of the folder's files that are not weights (model_index.json, configs, tokenizer)."""
    from ..models import WEIGHT_SUFFIXES

    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix not in WEIGHT_SUFFIXES):
        h.update(f"{f.relative_to(folder).as_posix()}:{hashlib.sha256(f.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


class WeightsCache:
    """The cache entry of one model in one dtype (see the module's docstring)."""

    def __init__(self, root: Path, ref: ModelRef, dtype: str, pipeline_class: str,
                 log: Callable[[str], None]):
        from importlib.metadata import version

        self.root, self.ref, self.dtype, self.log = root, ref, dtype, log
        self.identity: dict[str, Any] = {
            "format": FORMAT, "weights_sha256": weights_sha256(ref), "config_sha256": _config_sha256(ref.folder),
            "dtype": dtype, "pipeline": pipeline_class, "diffusers": version("diffusers"),
            "transformers": version("transformers"),
        }
        key = hashlib.sha256(json.dumps(self.identity, sort_keys=True).encode()).hexdigest()[:32]
        self.key, self.entry = key, root / key

    @classmethod
    def for_load(cls, value: str | None, ref: ModelRef, dtype: str, pipeline_class: str,
                 log: Callable[[str], None]) -> WeightsCache | None:
        """The entry to use for loading ``ref`` as ``dtype``, or None when it is off or there is
        nothing to gain: a weight file is not safetensors, or no file holds a wider dtype than
        the run's (a copy is only ever smaller than the model's files: fp32 → bf16/fp16 halves
        them; fp16 → bf16, or bf16 → fp32 on a CPU without bf16, would keep a copy as large or
        larger for a cast that costs little)."""
        root = cache_root(value)
        if root is None:
            return None
        stored = stored_dtypes(ref)
        if not stored or dtype not in _WIDTH or max(_WIDTH[d] for d in stored) <= _WIDTH[dtype]:
            return None
        return cls(root, ref, dtype, pipeline_class, log)

    # .. reading ....................................................................................
    def find(self) -> Path | None:
        """The entry's folder when it is complete and unchanged; None when there is none. An
        unusable entry is named and removed (the caller loads the model and writes it again)."""
        if self.root.is_symlink() or not self.entry.exists():
            return None
        problem = self._problem()
        if problem is None:
            return self.entry
        self.log(f"weights cache: {self.entry} is not usable ({problem}); loading {self.ref.name} itself "
                 "and writing the entry again")
        self.discard()
        return None

    def _problem(self) -> str | None:
        if self.entry.is_symlink() or not self.entry.is_dir():
            return "not a folder"
        try:
            manifest = json.loads((self.entry / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            return f"its {MANIFEST} cannot be read: {exc}"
        if not isinstance(manifest, dict) or manifest.get("identity") != self.identity \
                or not isinstance(manifest.get("files"), dict):
            return f"its {MANIFEST} is for another model or version"
        files: dict = manifest["files"]
        present = {p.relative_to(self.entry).as_posix() for p in self.entry.rglob("*")
                   if p.name != MANIFEST and not p.is_dir()}
        if present != set(files):
            extra = sorted(present - set(files)) or sorted(set(files) - present)
            return f"{extra[0]} is {'not in' if present - set(files) else 'missing from'} its manifest"
        for rel, info in sorted(files.items()):
            path = self.entry / rel
            if path.is_symlink() or not path.is_file():
                return f"{rel} is not a regular file"
            if not isinstance(info, dict) or path.stat().st_size != info.get("bytes"):
                return f"{rel} has {path.stat().st_size} bytes, the manifest says {info.get('bytes')}"
            if sha256_cached(path) != info.get("sha256"):
                return f"{rel} does not match its sha256 (changed after it was written)"
        return None

    def discard(self) -> None:
        """Remove the entry; a symbolic link in its place is unlinked, never followed."""
        if self.entry.is_symlink() or self.entry.is_file():
            self.entry.unlink(missing_ok=True)
        else:
            shutil.rmtree(self.entry, ignore_errors=True)

    # .. writing ....................................................................................
    def store(self, pipe) -> None:
        """Save ``pipe`` (just loaded in this dtype, nothing changed yet) as the entry. Any
        problem (not writable, a full disk) is one line in the log and the run goes on."""
        root = self.root
        try:
            if root.is_symlink():
                raise _Skip(f"{root} is a symbolic link (give the folder itself)")
            if root.exists() and not root.is_dir():
                raise _Skip(f"{root} is not a folder")
            root.mkdir(parents=True, exist_ok=True)
            _remove_leftovers(root)
            need = _pipe_bytes(pipe)
            free = shutil.disk_usage(root).free
            if free < need * 1.1 + (256 << 20):
                raise _Skip(f"{_gb(free)} free on its disk, the copy needs {_gb(need)}")
            tmp = root / f".tmp-{self.key}-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                pipe.save_pretrained(str(tmp), safe_serialization=True)
                files: dict[str, dict[str, Any]] = {
                    p.relative_to(tmp).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
                    for p in sorted(tmp.rglob("*")) if p.is_file()}
                (tmp / MANIFEST).write_text(json.dumps({"identity": self.identity, "source": str(self.ref.path),
                                                        "files": files}, indent=1, sort_keys=True))
                try:
                    os.rename(tmp, self.entry)
                except OSError:
                    if not self.entry.is_dir():  # not another run's entry, written meanwhile
                        raise
                else:  # the next load checks each file's sha256: remembered, not read again
                    remember_sha256({self.entry / rel: info["sha256"] for rel, info in files.items()})
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        except _Skip as skip:
            self.log(f"weights cache: not written ({skip}); every run converts {self.ref.name} to {self.dtype} "
                     "again\n  hint: set weights_cache: to a writable folder, or weights_cache: off")
            return
        except OSError as exc:
            self.log(f"weights cache: not written ({root}: {exc.strerror or exc}); every run converts "
                     f"{self.ref.name} to {self.dtype} again\n  hint: set weights_cache: to a writable folder, "
                     "or weights_cache: off")
            return
        size = sum(int(f["bytes"]) for f in files.values())
        self.log(f"weights cache: {self.ref.name} kept in {self.dtype} at {self.entry} ({_gb(size)}); later runs "
                 "load it without converting (weights_cache: off to skip; `assetkit models cache` lists and "
                 "removes entries)")


class _Skip(Exception):
    pass


def _pipe_bytes(pipe) -> int:
    total = 0
    for module in pipe.components.values():
        if hasattr(module, "parameters"):
            total += sum(t.numel() * t.element_size() for t in module.state_dict().values())
    return total


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def _remove_leftovers(root: Path) -> None:
    """Remove the temporary folders of writes whose process is gone (a killed run)."""
    for tmp in root.glob(".tmp-*"):
        if not _writing(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def _writing(tmp: Path) -> bool:
    """Whether the process that named the temporary folder ``tmp`` still runs (or it is this one)."""
    try:
        pid = int(tmp.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return True  # not a name this module writes: leave it alone
    return pid == os.getpid() or _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# .. listing ........................................................................................
def list_entries(root: Path) -> list[dict[str, Any]]:
    """The entries under ``root``: key, source, dtype, bytes, and ``stale`` (why no load would
    use it now: the source is gone or its weights, configs or the library versions changed;
    None when it is current). Leftovers of killed writes are listed as stale too."""
    from importlib.metadata import version

    from ..errors import ModelError
    from ..models import resolve_model

    out: list[dict[str, Any]] = []
    if root.is_symlink() or not root.is_dir():
        return out
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        if folder.name.startswith(".tmp-") and _writing(folder):
            continue  # another run is writing it: not an entry yet, and not to be removed
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
        row: dict[str, Any] = {"key": folder.name, "path": str(folder), "bytes": size, "source": None, "dtype": None}
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            ident = manifest["identity"]
            row.update(source=manifest["source"], dtype=ident["dtype"])
        except (OSError, ValueError, KeyError, TypeError):
            unfinished = folder.name.startswith(".tmp-")
            row["stale"] = "a write that did not finish" if unfinished else f"no readable {MANIFEST}"
            out.append(row)
            continue
        row["stale"] = None
        try:
            ref = resolve_model(manifest["source"])
            if weights_sha256(ref) != ident.get("weights_sha256"):
                row["stale"] = "the model's weights changed"
            elif _config_sha256(ref.folder) != ident.get("config_sha256"):
                row["stale"] = "the model's configs changed"
            elif (ident.get("diffusers"), ident.get("transformers")) != (version("diffusers"), version("transformers")):
                row["stale"] = "written by another diffusers/transformers version"
        except ModelError:
            row["stale"] = "the model is gone"
        out.append(row)
    return out
