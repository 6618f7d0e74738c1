"""Local diffusion models: what a model reference names, whether its weights are safe, the cache.

A model reference is one of

* a diffusers folder (has ``model_index.json``),
* a single ``.safetensors`` checkpoint, loaded with ``config:`` naming a local diffusers folder
  (or ``hf:`` id) of the same family — offline, diffusers cannot fetch the family's configs,
* ``hf:org/name`` (optionally ``hf:org/name@revision``), resolved from the local Hugging Face
  cache (``HF_HUB_CACHE`` / ``HF_HOME``) by ``huggingface_hub`` without touching the network.

Pickle weights (``.ckpt``, ``.pt``, ``.pth``, ``.bin``) can run code when loaded: they are
refused unless the caller opts in with ``allow_unsafe=True`` (``--allow-unsafe-weights``).
Nothing here imports torch or diffusers; ``huggingface_hub`` (the ``[diffusion]`` extra) is
imported only to read the hub cache and model cards.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelError

PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".pkl", ".pickle")
WEIGHT_SUFFIXES = (".safetensors",) + PICKLE_SUFFIXES
HF_PREFIX = "hf:"
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class ModelRef:
    """A resolved model: where its files are and how to load them."""

    kind: str  # "folder" | "single_file"
    path: Path  # the diffusers folder, or the .safetensors/.ckpt file
    name: str  # what a user sees (hf id, folder or file name)
    ref: str  # as the user wrote it
    config: Path | None = None  # diffusers folder with the configs (single_file only)
    repo_id: str | None = None
    revision: str | None = None

    @property
    def folder(self) -> Path:
        """The folder with ``model_index.json`` (the model itself, or its ``config``)."""
        return self.path if self.kind == "folder" else self.config  # type: ignore[return-value]

    def model_index(self) -> dict:
        return read_model_index(self.folder)

    def weight_files(self) -> list[Path]:
        """The weight files that determine the output, sorted (for hashing)."""
        if self.kind == "single_file":
            return [self.path]
        return sorted(p for p in self.path.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)


# ---------------------------------------------------------------------------------------- cache
def hf_hub_cache() -> Path:
    """The Hugging Face hub cache folder, as huggingface_hub would pick it (read from env now)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.path.expanduser(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        return Path(os.path.expanduser(os.environ["HUGGINGFACE_HUB_CACHE"]))
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(os.path.expanduser(home)) / "hub"


def assetkit_cache() -> Path:
    """assetkit's own cache (weights hashes): ``$XDG_CACHE_HOME/assetkit`` or ``~/.cache/assetkit``."""
    return Path(os.path.expanduser(os.environ.get("XDG_CACHE_HOME") or "~/.cache")) / "assetkit"


def configured_model_dirs() -> list[Path]:
    """Extra folders holding models, from ``ASSETKIT_MODEL_DIRS`` (``os.pathsep``-separated)."""
    raw = os.environ.get("ASSETKIT_MODEL_DIRS", "")
    return [Path(os.path.expanduser(p)) for p in raw.split(os.pathsep) if p.strip()]


def set_offline() -> None:
    """Make every Hugging Face library refuse the network (the CLI calls this for every run)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import sys

    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # already imported: its constants were read from env at import
        constants.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------ resolving
def resolve_model(ref: str | os.PathLike, config: str | os.PathLike | None = None, *, allow_unsafe: bool = False,
                  base_dir: Path | None = None) -> ModelRef:
    """Resolve a model reference to local files, checking the weights are safe to load.

    Raises :class:`ModelError` (with a hint) when the model is missing, incomplete, unsupported or
    holds pickle weights without ``allow_unsafe``.
    """
    ref = str(ref).strip()
    if not ref:
        raise ModelError("no model given\n  hint: set `model:` in the brief, the generate step's params, or --model")
    if ref.startswith(HF_PREFIX):
        folder, repo_id, rev = resolve_hf(ref)
        model = ModelRef("folder", folder, f"{HF_PREFIX}{repo_id}", ref, repo_id=repo_id, revision=rev)
        check_folder(model.path, allow_unsafe)
        if config is not None:
            raise ModelError(f"`config:` is only used with a single-file checkpoint, not with {ref}\n"
                             "  hint: remove `config:`")
        return model
    path = Path(os.path.expanduser(ref))
    if not path.is_absolute() and base_dir is not None and not path.exists():
        path = base_dir / path
    if not path.exists():
        hint = ("use `hf:ORG/NAME` for a model in the Hugging Face cache (see `assetkit models list`)"
                if REPO_ID.match(ref) else "give a diffusers folder (with model_index.json), a .safetensors "
                "file with `config:`, or `hf:ORG/NAME`")
        raise ModelError(f"model not found: {ref}\n  hint: {hint}")
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            singles = sorted(p.name for p in path.glob("*.safetensors"))
            extra = f"; it holds {', '.join(singles[:3])} — point at that file and add `config:`" if singles else ""
            raise ModelError(f"{ref} is not a diffusers model folder: no model_index.json{extra}\n"
                             "  hint: a diffusers folder has model_index.json and unet/, vae/, text_encoder/ ...")
        if config is not None:
            raise ModelError(f"`config:` is only used with a single-file checkpoint, not with the folder {ref}\n"
                             "  hint: remove `config:`")
        check_folder(path, allow_unsafe)
        return ModelRef("folder", path.resolve(), path.name, ref)
    # a single file
    check_weights_file(path, allow_unsafe)
    if path.suffix not in WEIGHT_SUFFIXES:
        raise ModelError(f"{ref}: unsupported model file type {path.suffix or '(none)'}\n"
                         "  hint: use a .safetensors checkpoint, a diffusers folder or hf:ORG/NAME")
    if config is None:
        raise ModelError(f"{ref} is a single-file checkpoint: loading it offline needs `config:` naming a local "
                         "diffusers folder of the same family (SD 1.5, SD 2.x, SDXL ...)\n"
                         "  hint: add `config: hf:stabilityai/stable-diffusion-xl-base-1.0` (after `assetkit models "
                         "pull`) or `config: path/to/diffusers-folder` next to `model:`")
    cfg = resolve_model(config, allow_unsafe=True, base_dir=base_dir)  # only its JSON configs are read
    if cfg.kind != "folder":
        raise ModelError(f"config {config} must be a diffusers folder or hf: id, not a file")
    return ModelRef("single_file", path.resolve(), path.name, ref, config=cfg.path)


def _hub():
    """``huggingface_hub``, or the one-line error naming the extra that installs it."""
    from .extras import require

    require("diffusion", "the Hugging Face cache (hf: models, `assetkit models`)", modules=("huggingface_hub",))
    import huggingface_hub

    return huggingface_hub


def _cached_repos(cache: Path) -> dict[str, Any]:
    """repo id → huggingface_hub's ``CachedRepoInfo`` for every model in the hub cache."""
    hub = _hub()
    try:
        info = hub.scan_cache_dir(cache)
    except hub.CacheNotFound:
        return {}
    return {r.repo_id: r for r in info.repos if r.repo_type == "model"}


def resolve_hf(ref: str) -> tuple[Path, str, str]:
    """``hf:org/name[@rev]`` → (snapshot folder, repo id, revision) from the local hub cache."""
    spec = ref[len(HF_PREFIX):]
    repo_id, _, rev = spec.partition("@")
    if not REPO_ID.match(repo_id):
        raise ModelError(f"{ref!r} is not a Hugging Face model id\n"
                         "  hint: write hf:ORG/NAME, e.g. hf:stabilityai/sd-turbo")
    hub = _hub()
    cache = hf_hub_cache()
    pull_hint = f"  hint: run `assetkit models pull {repo_id}` (the only command that downloads)"
    try:
        snap = Path(hub.snapshot_download(repo_id, revision=rev or None, cache_dir=cache, local_files_only=True))
    except (hub.errors.LocalEntryNotFoundError, OSError, ValueError):
        if repo_id not in _cached_repos(cache):
            raise ModelError(f"{repo_id} is not in the local Hugging Face cache ({cache})\n{pull_hint}") from None
        raise ModelError(f"{repo_id}: revision {rev or 'main'!r} is not in the local cache ({cache})\n{pull_hint}"
                         + (f" --revision {rev}" if rev else "")) from None
    if not (snap / "model_index.json").is_file():
        raise ModelError(f"{repo_id} in the cache is not a diffusers pipeline (no model_index.json in {snap})\n"
                         f"{pull_hint}")
    return snap, repo_id, snap.name


def read_model_index(folder: Path) -> dict:
    try:
        data = json.loads((folder / "model_index.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {folder / 'model_index.json'}: {exc}\n  hint: the model folder is damaged; "
                         "download it again") from None
    if not isinstance(data, dict):
        raise ModelError(f"{folder / 'model_index.json'} is not a JSON object")
    return data


# --------------------------------------------------------------------------------------- safety
def file_kind(path: Path) -> str:
    """What a weights file really is, by its header: safetensors, zip (torch), pickle or unknown."""
    with open(path, "rb") as fh:
        head = fh.read(16)
        if len(head) >= 9:
            (n,) = struct.unpack("<Q", head[:8])
            size = path.stat().st_size
            if 2 <= n <= min(size - 8, 100_000_000) and head[8:9] == b"{":
                fh.seek(8)
                try:
                    json.loads(fh.read(n))
                    return "safetensors"
                except ValueError:
                    pass
    if head[:4] == b"PK\x03\x04":
        return "zip"  # torch.save's zip format: holds a pickle
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    return "unknown"


def check_weights_file(path: Path, allow_unsafe: bool) -> None:
    """Refuse a weights file that is (or claims to be) a pickle unless ``allow_unsafe``."""
    kind = file_kind(path)
    if path.suffix == ".safetensors":
        if kind != "safetensors":
            raise ModelError(f"{path} is named .safetensors but is not a safetensors file (its header says {kind})\n"
                             "  hint: the file is damaged or disguised; download it again from a trusted source")
        return
    if (path.suffix in PICKLE_SUFFIXES or kind in ("zip", "pickle")) and not allow_unsafe:
        raise ModelError(f"refusing to load {path}: {path.suffix or kind} weights are Python pickles, which can "
                         "run arbitrary code when loaded\n  hint: use a .safetensors version of the model, or "
                         "pass --allow-unsafe-weights if you trust where this file came from")


def check_folder(folder: Path, allow_unsafe: bool) -> None:
    """Every component with weights must have safetensors ones (pickle-only needs ``allow_unsafe``)."""
    index = read_model_index(folder)
    for comp, spec in index.items():
        if comp.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        sub = folder / comp
        if not sub.is_dir():
            continue
        files = [p for p in sub.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES]
        safe = [p for p in files if p.suffix == ".safetensors"]
        for p in safe:
            check_weights_file(p, allow_unsafe)
        if files and not safe and not allow_unsafe:
            raise ModelError(f"refusing to load {folder.name}: {comp}/ only has pickle weights "
                             f"({', '.join(sorted(p.name for p in files))}), which can run arbitrary code when "
                             "loaded\n  hint: use a safetensors version of the model, or pass "
                             "--allow-unsafe-weights if you trust where it came from")


# -------------------------------------------------------------------------------------- hashing
def sha256_file(path: Path) -> str:
    """sha256 of a file, read now."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _hash_key(path: Path) -> str:
    """The hash store's key of ``path`` as it is now: resolved path, size and mtime."""
    st = path.stat()
    return f"{path}|{st.st_size}|{st.st_mtime_ns}"


def _read_hashes() -> dict[str, str]:
    try:
        return json.loads((assetkit_cache() / "hashes.json").read_text())
    except (OSError, ValueError):
        return {}


def _write_hashes(cache: dict[str, str], known: dict[Path, str]) -> None:
    """Store ``known`` (resolved path → sha256, as the files are now), replacing older keys of those paths."""
    stale = tuple(f"{p}|" for p in known)
    cache = {k: v for k, v in cache.items() if not k.startswith(stale)}
    cache.update({_hash_key(p): d for p, d in known.items()})
    try:
        from .files import atomic_write_text

        atomic_write_text(assetkit_cache() / "hashes.json", json.dumps(cache, indent=0, sort_keys=True))
    except OSError:
        pass  # a read-only home only costs re-hashing


def sha256_cached(path: Path) -> str:
    """sha256 of a file, cached in ``~/.cache/assetkit/hashes.json`` by path + size + mtime."""
    path = Path(path).resolve()
    cache = _read_hashes()
    digest = cache.get(_hash_key(path))
    if digest is None:
        digest = sha256_file(path)
        _write_hashes(cache, {path: digest})
    return digest


def remember_sha256(known: dict[Path, str]) -> None:
    """Record the sha256 of files just written and hashed elsewhere (e.g. before a rename), as
    they are now, so :func:`sha256_cached` does not read them again (one write of the store)."""
    _write_hashes(_read_hashes(), {Path(p).resolve(): d for p, d in known.items()})


def weights_sha256(model: ModelRef) -> str:
    """The model's weights hash: the file's sha256, or for a folder the sha256 of its files' hashes."""
    files = model.weight_files()
    if model.kind == "single_file":
        return sha256_cached(model.path)
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.relative_to(model.path).as_posix()}:{sha256_cached(f)}\n".encode())
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    return sha256_cached(path)


# -------------------------------------------------------------------------------------- listing
@dataclass
class ModelInfo:
    """One entry of ``assetkit models list``."""

    id: str
    path: str
    pipeline: str
    size_bytes: int
    license: str | None = None
    source: str = "hf-cache"
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        return d


def _size(folder: Path) -> int:
    seen, total = set(), 0
    for p in folder.rglob("*"):
        try:
            real = p.resolve()
            if real.is_file() and real not in seen:
                seen.add(real)
                total += real.stat().st_size
        except OSError:
            continue
    return total


def model_card_license(path: Path) -> str | None:
    """The licence a model card names (``license:`` of its YAML front matter; the
    ``license_name`` when that is ``other``), or None. ``path`` is the card (README.md) or the
    model folder holding it."""
    path = Path(path)
    readme = path / "README.md" if path.is_dir() else path
    if not readme.is_file():
        return None
    hub = _hub()
    try:
        data = hub.ModelCard.load(readme).data.to_dict()
    except Exception:  # noqa: BLE001 - a malformed card has no licence we can report
        return None
    lic, name = data.get("license"), data.get("license_name")
    if isinstance(lic, list):
        lic = ", ".join(map(str, lic))
    return str(name) if lic == "other" and name else (str(lic) if lic else None)


def list_models(extra_dirs: list[Path] | None = None) -> list[ModelInfo]:
    """Diffusers pipelines in the HF cache and in configured folders (no weights are read)."""
    out: list[ModelInfo] = []
    for repo_id, repo in sorted(_cached_repos(hf_hub_cache()).items()):
        try:
            snap, _, _ = resolve_hf(f"{HF_PREFIX}{repo_id}")
        except ModelError:
            continue  # not a diffusers pipeline, or no snapshot of main
        index = read_model_index(snap)
        out.append(ModelInfo(f"{HF_PREFIX}{repo_id}", str(snap), str(index.get("_class_name", "?")),
                             int(repo.size_on_disk), model_card_license(snap), "hf-cache"))
    for d in [*(extra_dirs or []), *configured_model_dirs()]:
        if not d.is_dir():
            continue
        candidates = [d] if (d / "model_index.json").is_file() else sorted(d.iterdir())
        for p in candidates:
            if p.is_dir() and (p / "model_index.json").is_file():
                index = read_model_index(p)
                out.append(ModelInfo(str(p), str(p), str(index.get("_class_name", "?")), _size(p),
                                     model_card_license(p), "folder"))
            elif p.is_file() and p.suffix == ".safetensors":
                out.append(ModelInfo(str(p), str(p), "single-file checkpoint (needs config:)", p.stat().st_size,
                                     None, "file"))
    return out


# ----------------------------------------------------------------------------------------- pull
def pull_patterns(variant: str | None) -> tuple[list[str], list[str]]:
    """allow/ignore patterns for a download: configs, tokenizers and safetensors weights only."""
    allow = ["*.json", "*.txt", "*.model", "README.md", "LICENSE*", "*.md"]
    ignore = ["*.bin", "*.ckpt", "*.pt", "*.pth", "*.pkl", "*.msgpack", "*.h5", "*.onnx", "*.onnx_data", "*.pb"]
    if variant:
        allow.append(f"*.{variant}.safetensors")
        allow.append(f"*.{variant}-*.safetensors")  # sharded
    else:
        allow.append("*.safetensors")
        ignore += ["*.fp16.safetensors", "*.fp16-*.safetensors", "*.bf16.safetensors", "*.non_ema.safetensors",
                   "*.ema.safetensors"]
    return allow, ignore


def pull(repo_id: str, revision: str | None = None, variant: str | None = None) -> Path:
    """Download a diffusers pipeline (safetensors only) into the HF cache; the only network access."""
    if repo_id.startswith(HF_PREFIX):
        repo_id = repo_id[len(HF_PREFIX):]
    if not REPO_ID.match(repo_id):
        raise ModelError(f"{repo_id!r} is not a Hugging Face model id\n  hint: ORG/NAME, e.g. stabilityai/sd-turbo")
    _hub()
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.pop(key, None)
    from huggingface_hub import constants, snapshot_download

    constants.HF_HUB_OFFLINE = False
    allow, ignore = pull_patterns(variant)
    try:
        path = Path(snapshot_download(repo_id, revision=revision, allow_patterns=allow, ignore_patterns=ignore,
                                      cache_dir=str(hf_hub_cache())))
    except Exception as exc:  # noqa: BLE001 - network and hub errors of every kind
        raise ModelError(f"could not download {repo_id}: {type(exc).__name__}: {exc}\n  hint: check the name, your "
                         "network and, for gated models, `huggingface-cli login`") from None
    finally:
        set_offline()
    if not (path / "model_index.json").is_file():
        raise ModelError(f"{repo_id} is not a diffusers pipeline (no model_index.json)\n  hint: pull a diffusers "
                         "repository, or download a single .safetensors and use it with `config:`")
    weights = list(path.rglob("*.safetensors"))
    if not weights:
        raise ModelError(f"{repo_id} has no safetensors weights" + (f" for variant {variant!r}" if variant else "")
                         + "\n  hint: try without --variant, or a repository that ships safetensors")
    return path
