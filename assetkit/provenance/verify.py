"""``assetkit verify``: read and validate the C2PA Content Credentials of delivered files.

A file is

* ``valid``     — the manifest and the pixels' hash check out and the signer chains to a trust anchor,
* ``untrusted`` — the manifest checks out, but the signer is not (or no trust anchor is) configured,
* ``invalid``   — the manifest does not match the file (e.g. a pixel was changed) or is broken,
* ``unsigned``  — no Content Credentials at all.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import UsageError
from .manifest import ASSERTION

IMAGE_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
_SOURCE_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@dataclass
class Verdict:
    """What ``verify`` found about one file."""

    path: str
    status: str  # valid | untrusted | invalid | unsigned
    why: list[str] = field(default_factory=list)
    signed_by: str | None = None
    issuer: str | None = None
    signed_at: str | None = None
    timestamped: bool = False
    source_type: str | None = None
    ingredients: list[dict] = field(default_factory=list)
    claim_generator: str | None = None
    assetkit: dict = field(default_factory=dict)  # assetkit's own assertion (model, weights, licence, run)

    def to_dict(self) -> dict:
        return asdict(self)


#: Files a campaign folder holds besides the assets its manifest lists (contact sheets are named
#: in the manifest; ``checks/`` holds the check overlays, hidden folders the caches).
CAMPAIGN_FILES = ("manifest.json", "assetkit.lock", "review.html")


@dataclass
class _Item:
    """A file to verify: its manifest's sha256 when a campaign lists it, or what is wrong with it."""
    path: Path
    sha256: str | None = None
    problem: str | None = None


def _campaign_items(manifest_path: Path) -> list[_Item]:
    """The assets ``manifest_path`` lists — each checked to be a regular file inside the folder
    (no link, no path outside) — and every other file in the folder that the run did not make."""
    from ..review.catalog import _safe_relpath

    folder = manifest_path.parent
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        assets = manifest.get("assets", [])
        sheets = {str(v) for v in (manifest.get("contact_sheets") or {}).values()}
        listed = [(a["path"], a.get("sha256")) for a in assets]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        raise UsageError(f"{manifest_path}: not a readable assetkit manifest") from None
    items, known = [], set()
    for i, (rel, sha) in enumerate(listed):
        safe = _safe_relpath(rel)
        if safe is None:
            items.append(_Item(folder / str(rel), problem=f"manifest assets[{i}].path {rel!r} is not a path inside "
                                                          "the campaign folder; not read"))
            continue
        known.add(safe)
        path = folder / safe
        link = next((q for q in [path, *path.parents] if q != folder and folder in q.parents and q.is_symlink()),
                    None)
        if link is not None:
            items.append(_Item(path, problem=f"{link.relative_to(folder)} is a symbolic link (to {os.readlink(link)}): "
                                             "the campaign's file was replaced; not read"))
        else:
            items.append(_Item(path, sha256=str(sha) if sha else None))
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if _hidden(rel) or rel.parts[0] == "checks" or str(rel.as_posix()) in known | sheets | set(CAMPAIGN_FILES):
            continue
        if f.is_symlink() or f.is_file():
            items.append(_Item(f, problem="not in the campaign's manifest: added after the run (or the manifest "
                                          "was edited)"))
    return items


def files_to_verify(paths: list[Path]) -> list[Path]:
    """Files named, and for a folder the assets its ``manifest.json`` lists (every image below it
    when it has none; hidden folders such as ``.cache`` and contact sheets are skipped)."""
    out: list[Path] = []
    for p in paths:
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            manifests = sorted(m for m in p.rglob("manifest.json") if not _hidden(m.relative_to(p)))
            if manifests:
                for m in manifests:
                    try:
                        assets = json.loads(m.read_text(encoding="utf-8")).get("assets", [])
                        out.extend(m.parent / a["path"] for a in assets if "path" in a)
                    except (OSError, ValueError, TypeError, KeyError):
                        raise UsageError(f"{m}: not a readable assetkit manifest") from None
            else:
                out.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()
                                  and not _hidden(f.relative_to(p)) and not f.name.startswith("contact-sheet-")))
        else:
            raise UsageError(f"{p}: no such file or folder")
    return out


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def reader_context(trust_anchors: str | None):
    """A c2pa Context that verifies trust against ``trust_anchors`` (PEM text) when given."""
    import c2pa

    cfg: dict = {"verify": {"verify_trust": bool(trust_anchors)}}
    if trust_anchors:
        cfg["trust"] = {"trust_anchors": trust_anchors}
    return c2pa.Context.from_dict(cfg)


def verify_file(path: Path, context, anchors_configured: bool, content: bytes | None = None) -> Verdict:
    """Read one file's manifest store and judge it (see the module docstring); ``content``: the
    file's bytes when the caller has read them already."""
    import c2pa

    mime = IMAGE_SUFFIXES.get(path.suffix.lower())
    if mime is None:
        return Verdict(str(path), "invalid", [f"not a PNG, JPEG or WebP file ({path.suffix or 'no suffix'})"])
    try:
        with (open(path, "rb") if content is None else io.BytesIO(content)) as fh:
            reader = c2pa.Reader.try_create(mime, fh, None, context)
            if reader is None:
                return Verdict(str(path), "unsigned", ["no Content Credentials (C2PA manifest) in the file"])
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        return Verdict(str(path), "invalid", [f"the manifest cannot be read: {exc}"])
    except OSError as exc:
        return Verdict(str(path), "invalid", [f"cannot read the file: {exc.strerror}"])
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [f"{f.get('code')}: {f.get('explanation', '')}" for f in results.get("failure", [])]
    state = (store.get("validation_state") or "").lower()
    sig = active.get("signature_info") or {}
    v = Verdict(str(path), "invalid", signed_by=sig.get("common_name"), issuer=sig.get("issuer"),
                signed_at=sig.get("time"), timestamped=bool(sig.get("time")))
    gens = active.get("claim_generator_info") or []
    if gens:
        v.claim_generator = " ".join(str(gens[0].get(k, "")) for k in ("name", "version")).strip()
    for assertion in active.get("assertions", []):
        label, data = assertion.get("label", ""), assertion.get("data") or {}
        if label.startswith("c2pa.actions"):
            for act in data.get("actions", []):
                if act.get("digitalSourceType"):
                    v.source_type = str(act["digitalSourceType"]).removeprefix(_SOURCE_PREFIX)
        elif label == ASSERTION:
            v.assetkit = data
    if not v.signed_at and v.assetkit.get("signed_at"):
        v.signed_at = v.assetkit["signed_at"]
    for ing in active.get("ingredients", []):
        entry = {"title": ing.get("title"), "relationship": ing.get("relationship")}
        parent = store.get("manifests", {}).get(ing.get("active_manifest", ""), {})
        for assertion in parent.get("assertions", []):
            if assertion.get("label", "").startswith("c2pa.actions"):
                for act in (assertion.get("data") or {}).get("actions", []):
                    if act.get("action") == "c2pa.created" and act.get("digitalSourceType"):
                        entry["source_type"] = str(act["digitalSourceType"]).removeprefix(_SOURCE_PREFIX)
        v.ingredients.append(entry)
    untrusted = [f for f in failures if f.startswith("signingCredential.untrusted")]
    other = [f for f in failures if f not in untrusted]
    if state == "invalid" or other:
        v.status, v.why = "invalid", other or ["the manifest does not validate"]
    elif state == "trusted" and anchors_configured:
        v.status, v.why = "valid", ["signature, content hash and certificate chain check out"]
    else:
        v.status = "untrusted"
        v.why = (["the signer's certificate does not chain to a configured trust anchor"] if anchors_configured
                 else ["no trust anchors configured (provenance.trust_anchors in assetkit.yaml)"])
    return v


def verify_paths(paths: list[Path], trust_anchors: Path | None = None) -> list[Verdict]:
    """Verify every file :func:`files_to_verify` finds under ``paths``."""
    anchors = None
    if trust_anchors is not None:
        try:
            anchors = trust_anchors.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read trust anchors {trust_anchors}: {exc.strerror}") from None
        if "BEGIN CERTIFICATE" not in anchors:
            raise UsageError(f"{trust_anchors}: not a PEM certificate file")
    context = reader_context(anchors)
    out = []
    for item in _items(paths):
        if item.problem is not None:
            out.append(Verdict(str(item.path), "invalid", [item.problem]))
            continue
        data = None
        if item.sha256:  # read once: hashed here, its credentials read from the same bytes
            with contextlib.suppress(OSError):  # unreadable: verify_file names it
                data = item.path.read_bytes()
        v = verify_file(item.path, context, anchors is not None, data)
        if data is not None and hashlib.sha256(data).hexdigest() != item.sha256:
            v.why = ["its sha256 differs from the one the campaign's manifest recorded (changed after the run, "
                     "or the manifest was edited)"] + (v.why if v.status == "invalid" else [])
            v.status = "invalid"
        out.append(v)
    return out


def _items(paths: list[Path]) -> list[_Item]:
    """:func:`files_to_verify`'s files; for a campaign folder with a manifest, its checked items."""
    out: list[_Item] = []
    for p in paths:
        manifests = (sorted(m for m in p.rglob("manifest.json") if not _hidden(m.relative_to(p)))
                     if p.is_dir() else [])
        if manifests:
            for m in manifests:
                out.extend(_campaign_items(m))
        else:
            out.extend(_Item(f) for f in files_to_verify([p]))
    return out


def describe(v: Verdict) -> list[str]:
    """Lines ``assetkit verify`` prints for one file."""
    lines = [f"{v.path}: {v.status.upper()} — {'; '.join(v.why)}"]
    if v.status == "unsigned":
        return lines
    if v.signed_by or v.issuer:
        lines.append(f"  signed by: {v.signed_by or '?'} (issuer: {v.issuer or '?'})")
    if v.signed_at:
        lines.append(f"  when:      {v.signed_at}"
                     + ("" if v.timestamped else " (signer's clock; no timestamp authority)"))
    if v.source_type:
        lines.append(f"  source:    {v.source_type}")
    if v.ingredients:
        parts = [f"{i['title']} ({i['relationship']}{', ' + i['source_type'] if i.get('source_type') else ''})"
                 for i in v.ingredients]
        lines.append(f"  ingredients: {', '.join(parts)}")
    a = v.assetkit
    models = a.get("models") or []
    for m in models:
        lines.append(f"  {m.get('role', 'model')}: {m.get('name')} sha256 {str(m.get('weights_sha256'))[:16]}… "
                     f"licence {m.get('license') or 'unknown'}")
    if a.get("run_id"):
        lines.append(f"  run: {a['run_id']} · campaign {a.get('campaign', '?')} · brief sha256 "
                     f"{str(a.get('brief_sha256', ''))[:16]}…")
    return lines
