"""The campaign lockfile ``OUT/CAMPAIGN/assetkit.lock``: everything that decides a run's pixels.

Versions (assetkit, Python, Pillow/numpy; torch/diffusers/transformers for a diffusion model;
c2pa-python when signing), the generator with device, dtype, scheduler and preset, every model's
and LoRA's weights hash and licence, every master's seed, and the hashes of the brief, the
pipeline, the brand kit, its logo and fonts and the concepts' images. YAML with sorted keys and
no timestamps, so an unchanged campaign writes the same file byte for byte.

``assetkit run --locked`` refuses to run when anything differs from the lock (exit 2, the
differences listed); ``assetkit diff-lock A B`` shows what changed between two runs.
"""
from __future__ import annotations

import io
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ConfigError, UsageError

LOCK_FILE = "assetkit.lock"
LOCK_VERSION = 1
#: generator fingerprint fields that are where a model is, not what it is
_MACHINE_ONLY = {"model_path"}


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def build_lock(ctx: Any, campaign: Any, plan: Any, admitted: dict, signed: bool) -> dict:
    """The lock of a planned run (nothing is generated or loaded; torch is not imported)."""
    from ..files import sha256_file

    brief, brand, pipe = campaign.brief, campaign.brand, campaign.pipeline
    step = pipe.step("generate")
    fp = dict(step.generator(ctx).fingerprint()) if step is not None else {"generator": "none"}
    diffusion = fp.get("generator") == "diffusers"
    packages = {"pillow": _version("pillow"), "numpy": _version("numpy")}
    if diffusion:
        packages.update(torch=_version("torch"), diffusers=_version("diffusers"),
                        transformers=_version("transformers"), peft=_version("peft"))
    if signed:
        packages["c2pa-python"] = _version("c2pa-python")
    generator = {k: v for k, v in fp.items() if k not in _MACHINE_ONLY}
    fonts = {}
    for role in ("headline", "body", "cta"):
        path = brand.font_path(role)
        fonts[role] = {"file": path.name, "sha256": sha256_file(path)}
    inputs = {}
    for concept in brief.concepts:
        for kind in ("image", "product"):
            ref = getattr(concept, kind)
            if ref:
                inputs[f"{concept.id}.{kind}"] = sha256_file(brief.concept_path(ref))
    masters = {}
    for job in plan.jobs:
        concept, variant, aspect = job.master_id
        masters[f"{concept}-v{variant}-{aspect}"] = job.seed
    logo = brand.logo_path()
    lock = {
        "lock_version": LOCK_VERSION,
        "campaign": brief.campaign,
        "versions": {"assetkit": __version__, "python": platform.python_version(), **packages},
        "generator": generator,
        "device": fp.get("device", "cpu"),
        "dtype": fp.get("dtype"),
        "scheduler": fp.get("scheduler"),
        "preset": fp.get("preset"),
        "models": admitted.get("models", []),
        "usage": admitted.get("usage"),
        "license_exceptions": [{k: e[k] for k in ("model", "license", "reason")}
                               for e in admitted.get("license_exceptions", [])],
        "masters": masters,
        "brief": {"file": brief.path.name, "sha256": sha256_file(brief.path)},
        "pipeline": {"name": pipe.name, "sha256": sha256_file(pipe.path),
                     "steps": [s.fingerprint(ctx) for s in pipe.steps]},
        "brand": {"name": brand.name, "kit_sha256": brand.fingerprint(),
                  "logo_sha256": sha256_file(logo) if logo else None},
        "fonts": fonts,
        "inputs": inputs,
        "signed": signed,
    }
    for key in ("dtype", "scheduler", "preset"):  # diffusion settings: the draft generator has none
        if lock[key] is None:
            del lock[key]
    return _sorted(lock)


def _sorted(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _sorted(obj[k]) for k in sorted(obj, key=str)}
    if isinstance(obj, (list, tuple)):
        return [_sorted(v) for v in obj]
    return obj


def dump_lock(lock: dict) -> str:
    """The lock as YAML (sorted keys, block style, a header saying what the file is)."""
    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    y.width = 4096
    buf = io.StringIO()
    y.dump(lock, buf)
    return ("# assetkit.lock: what decided this campaign's pixels. `assetkit run --locked` refuses to run when\n"
            "# anything here would differ; `assetkit diff-lock A B` compares two. Written by assetkit; do not edit.\n"
            + buf.getvalue())


def write_lock(files: Any, lock: dict) -> None:
    """Write the lock into the campaign folder (``files``: the run's OutRoot view of it)."""
    files.write_text(LOCK_FILE, dump_lock(lock))


def lock_path(ref: str | Path) -> Path:
    """A lock file, or the ``assetkit.lock`` of a campaign folder."""
    p = Path(ref)
    return p / LOCK_FILE if p.is_dir() else p


def read_lock(path: Path) -> dict:
    """Load a lock file; invalid YAML or a shape that is not a lock → ConfigError (file:line:col)."""
    from ..yamlfile import load_yaml, to_plain

    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError([doc.problem((), "not an assetkit lock file (expected a mapping with lock_version: 1)")])
    problems = []
    if data.get("lock_version") != LOCK_VERSION:
        problems.append(doc.problem(("lock_version",), f"lock_version must be {LOCK_VERSION}, got "
                                    f"{data.get('lock_version')!r}"))
    for key, kind in (("versions", dict), ("generator", dict), ("masters", dict), ("models", list)):
        if key in data and not isinstance(data[key], kind):
            problems.append(doc.problem((key,), f"expected a {'mapping' if kind is dict else 'list'}"))
        elif key not in data:
            problems.append(doc.problem((), f"missing key {key!r}"))
    if problems:
        raise ConfigError(problems)
    return to_plain(data)


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list) and obj and all(isinstance(v, dict) for v in obj):
        for i, v in enumerate(obj):
            out.update(_flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = obj
    return out


def diff_locks(a: dict, b: dict) -> list[tuple[str, Any, Any]]:
    """Every dotted key whose value differs: (key, value in a, value in b); missing → None."""
    fa, fb = _flatten(a), _flatten(b)
    missing = object()
    out = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key, missing), fb.get(key, missing)
        if va != vb:
            out.append((key, None if va is missing else va, None if vb is missing else vb))
    return out


def format_diff(diffs: list[tuple[str, Any, Any]], a: str = "locked", b: str = "now") -> list[str]:
    return [f"{key}: {a} {_show(va)}, {b} {_show(vb)}" for key, va, vb in diffs]


def _show(v: Any) -> str:
    if v is None:
        return "(none)"
    s = str(v)
    return s[:16] + "…" if len(s) == 64 and all(c in "0123456789abcdef" for c in s) else s


def check_locked(out_dir: Path, lock: dict) -> None:
    """``--locked``: refuse (exit 2) unless ``out_dir``'s lock equals what this run would use."""
    path = out_dir / LOCK_FILE
    if not path.is_file():
        raise UsageError(f"--locked: no lock file at {path}; run once without --locked to write it")
    diffs = diff_locks(read_lock(path), lock)
    if diffs:
        lines = "\n  ".join(format_diff(diffs))
        raise UsageError(f"--locked: this run would differ from {path} in {len(diffs)} place(s); nothing was made:"
                         f"\n  {lines}\n  hint: run without --locked to accept the changes and rewrite the lock")
