"""A finished campaign folder as the review sees it: assets by id, masters, checks, copy.

Read from ``OUT/CAMPAIGN/manifest.json`` only; every asset gets a stable id (a hash of the
campaign, locale, format, concept and variant: the same deliverable keeps its id across re-runs)
so that URLs and decisions never carry a path. A *master* is one concept × variant: a decision on
it applies to all its formats and locales.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import AssetkitError
from ..yamlfile import display_path

#: The manifest keys the review needs from every asset.
REQUIRED_ASSET_KEYS = ("path", "sha256", "format", "locale", "concept", "variant")
_ID = re.compile(r"^[am]-[0-9a-f]{12}$")
MAX_MANIFEST_BYTES = 256 * 1024 * 1024


class CampaignError(AssetkitError):
    """The campaign folder cannot be reviewed or delivered (no manifest, a damaged one...)."""

    exit_code = 2


def _short_id(prefix: str, *parts: object) -> str:
    text = "\x00".join(str(p) for p in parts)
    return f"{prefix}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"


def asset_id(campaign: str, locale: str, fmt: str, concept: str, variant: int) -> str:
    """The id of one deliverable (stable across re-runs; never a path)."""
    return _short_id("a", campaign, locale, fmt, concept, variant)


def master_id(campaign: str, concept: str, variant: int) -> str:
    """The id of a concept × variant: the master every format and locale is made from."""
    return _short_id("m", campaign, concept, variant)


def looks_like_id(value: str) -> bool:
    return bool(_ID.match(value))


@dataclass
class ReviewAsset:
    """One deliverable of the campaign, as listed in its manifest."""

    id: str
    master: str
    path: str  # relative to the campaign folder (checked: stays inside it)
    sha256: str  # as the manifest recorded it
    locale: str
    format: str
    platform: str
    format_class: str
    placement: str
    concept: str
    variant: int
    width: int
    height: int
    bytes: int
    compose: dict = field(default_factory=dict)
    boxes: dict = field(default_factory=dict)
    checks: list[dict] = field(default_factory=list)  # {check, level, message}
    generator: str = ""
    signed: bool = False  # the run signed it with C2PA Content Credentials

    @property
    def ext(self) -> str:
        return PurePosixPath(self.path).suffix.lstrip(".").lower()

    @property
    def severity(self) -> str:
        """The worst check level of the asset: error, warning or ok."""
        levels = {c.get("level") for c in self.checks}
        return "error" if "error" in levels else "warning" if "warning" in levels else "ok"

    @property
    def label(self) -> str:
        return f"{self.concept} v{self.variant} · {self.format} · {self.locale}"


@dataclass
class Master:
    """A concept × variant and the ids of its assets (every format and locale)."""

    id: str
    concept: str
    variant: int
    assets: list[str] = field(default_factory=list)


@dataclass
class Catalog:
    """The campaign's assets and masters, in manifest order, with file hashes on demand."""

    folder: Path
    campaign: str
    name: str
    brand: str
    locales: list[str]
    formats: list[str]
    copy: dict[str, dict]
    assets: dict[str, ReviewAsset]
    masters: dict[str, Master]
    manifest_sha256: str
    generator: str = ""
    alt: dict[str, dict] = field(default_factory=dict)  # the brief's picture descriptions: concept → locale → text
    usage: str = "commercial"  # the licence gate's usage of the run (provenance.usage in the manifest)
    _hashes: dict[str, tuple[tuple, str]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def file(self, asset: ReviewAsset) -> Path:
        return self.folder / asset.path

    @property
    def root(self):
        """The campaign folder as an :class:`~assetkit.outroot.OutRoot`: reads refuse links."""
        from ..outroot import OutRoot

        return OutRoot(self.folder)

    def read_bytes(self, asset: ReviewAsset) -> bytes | None:
        """The asset file's bytes (None when it is missing, a link or not a regular file)."""
        from ..outroot import OutRootError

        try:
            return self.root.read_bytes(asset.path)
        except (OSError, OutRootError):
            return None

    def current_sha256(self, asset: ReviewAsset) -> str | None:
        """The sha256 of the asset's file as it is on disk now (None when it is missing, a link or
        not a regular file). Cached by (inode, size, mtime): a re-written file is hashed again."""
        from ..outroot import OutRootError

        try:
            st = os.stat(self.file(asset), follow_symlinks=False)
        except OSError:
            return None
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            hit = self._hashes.get(asset.id)
        if hit and hit[0] == key:
            return hit[1]
        try:
            info = self.root.file_info(asset.path)
        except (OSError, OutRootError):
            info = None
        if info is None:
            return None
        with self._lock:
            self._hashes[asset.id] = (key, info[1])
        return info[1]

    def copy_for(self, locale: str) -> dict:
        return self.copy.get(locale) or {}

    def asset(self, ident: str) -> ReviewAsset | None:
        return self.assets.get(ident)


def _fail(path: Path, message: str) -> CampaignError:
    return CampaignError(f"{display_path(path)}: {message}")


def read_manifest(folder: str | Path) -> tuple[Path, dict, bytes]:
    """``folder``'s manifest.json, parsed; CampaignError (exit 2) for every way it can be unusable."""
    folder = Path(folder)
    if not folder.exists():
        raise _fail(folder, "no such campaign folder (give OUT/CAMPAIGN, the folder `assetkit run` wrote)")
    if not folder.is_dir():
        raise _fail(folder, "is not a folder (give OUT/CAMPAIGN, the folder `assetkit run` wrote)")
    path = folder / "manifest.json"
    if not path.exists():
        hint = ""
        subs = sorted(p.parent.name for p in folder.glob("*/manifest.json"))
        if subs:
            hint = f"; campaigns inside it: {', '.join(subs)}"
        raise _fail(folder, f"no manifest.json: not a campaign folder written by `assetkit run`{hint}")
    if path.is_symlink() or not path.is_file():
        raise _fail(path, "is not a regular file")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise _fail(path, f"is over {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB; not a manifest assetkit wrote")
    data = path.read_bytes()
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f":{exc.lineno}:{exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise CampaignError(f"{display_path(path)}{where}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("assets"), list) \
            or not isinstance(manifest.get("campaign"), str):
        raise _fail(path, "not an assetkit manifest (needs 'campaign' and a list of 'assets')")
    return path, manifest, data


def _safe_relpath(rel: object) -> str | None:
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return None
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or any(part.startswith(".") for part in p.parts):
        return None
    return str(p)


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def load_catalog(folder: str | Path) -> Catalog:
    """Load a campaign folder for review; every bad asset entry of the manifest is listed at once."""
    from ..formats import CATALOG

    path, manifest, data = read_manifest(folder)
    folder = path.parent
    campaign = manifest["campaign"]
    checks_by_asset: dict[str, list[dict]] = {}
    for c in manifest.get("checks") or []:
        if isinstance(c, dict) and isinstance(c.get("asset"), str):
            stem = c["asset"].rsplit(".", 1)[0]
            checks_by_asset.setdefault(stem, []).append(
                {"check": str(c.get("check", "")), "level": str(c.get("level", "")),
                 "message": str(c.get("message", ""))})
    problems: list[str] = []
    assets: dict[str, ReviewAsset] = {}
    masters: dict[str, Master] = {}
    for i, a in enumerate(manifest["assets"]):
        where = f"{display_path(path)}: assets[{i}]"
        if not isinstance(a, dict):
            problems.append(f"{where}: not an object")
            continue
        missing = [k for k in REQUIRED_ASSET_KEYS if k not in a]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        rel = _safe_relpath(a["path"])
        if rel is None:
            problems.append(f"{where}.path: {a['path']!r} is not a path inside the campaign folder")
            continue
        try:
            variant = int(a["variant"])
        except (TypeError, ValueError):
            problems.append(f"{where}.variant: not a number: {a['variant']!r}")
            continue
        fmt = CATALOG.get(str(a["format"]))
        aid = asset_id(campaign, a["locale"], a["format"], a["concept"], variant)
        if aid in assets:
            problems.append(f"{where}: listed twice ({a['locale']} {a['format']} {a['concept']} v{variant})")
            continue
        mid = master_id(campaign, a["concept"], variant)
        per_asset_checks = a.get("checks") if isinstance(a.get("checks"), list) else None
        checks = [{"check": str(c.get("rule") or c.get("check") or ""), "level": str(c.get("level", "")),
                   "message": str(c.get("message", ""))} for c in per_asset_checks or [] if isinstance(c, dict)]
        if per_asset_checks is None:
            checks = checks_by_asset.get(rel.rsplit(".", 1)[0], [])
        assets[aid] = ReviewAsset(
            id=aid, master=mid, path=rel, sha256=str(a["sha256"]), locale=str(a["locale"]),
            format=str(a["format"]), platform=str(a.get("platform") or (fmt.platform if fmt else "custom")),
            format_class=str(a.get("format_class") or (fmt.format_class if fmt else "social")),
            placement=fmt.label if fmt else str(a["format"]), concept=str(a["concept"]), variant=variant,
            width=int(a.get("width") or 0), height=int(a.get("height") or 0), bytes=int(a.get("bytes") or 0),
            compose=_dict(a.get("compose")), boxes=_dict(a.get("boxes")),
            checks=checks, generator=str(a.get("generator") or ""),
            signed=bool(_dict(a.get("c2pa")).get("signed")))
        masters.setdefault(mid, Master(mid, str(a["concept"]), variant)).assets.append(aid)
    if problems:
        raise CampaignError("\n".join(problems))
    gen = manifest.get("generator")
    return Catalog(
        folder=folder, campaign=campaign, name=str(manifest.get("campaign_name") or campaign),
        brand=str(manifest.get("brand") or ""), locales=list(manifest.get("locales") or
                                                              sorted({a.locale for a in assets.values()})),
        formats=list(manifest.get("formats") or sorted({a.format for a in assets.values()})),
        copy=_dict(manifest.get("copy")),
        assets=assets, masters=masters, manifest_sha256=hashlib.sha256(data).hexdigest(),
        generator=str(gen.get("name", "")) if isinstance(gen, dict) else str(gen or ""),
        alt={str(k): _dict(v) for k, v in _dict(manifest.get("alt_text")).items()},
        usage=str(_dict(manifest.get("provenance")).get("usage") or "commercial"))
