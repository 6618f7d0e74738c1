"""The hand-off package: only approved assets, a folder per platform and locale, an index for ad
managers (CSV and JSON), written as a folder or a deterministic zip, and recorded in the ledger.

Same approved files → same bytes: entries are sorted, timestamps fixed (1980-01-01), modes fixed,
and the index holds nothing that changes between deliveries (the moment of delivery is in the
ledger, not in the package).
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..csvout import safe_cell as neutralise_cell  # noqa: F401 - the one CSV cell rule, re-exported
from ..csvout import to_csv
from ..errors import AssetkitError, UsageError
from ..yamlfile import display_path
from .catalog import Catalog, ReviewAsset, load_catalog
from .naming import DEFAULT_NAMING, check_naming
from .states import OPEN_STATES, AssetState, asset_states

INDEX_COLUMNS = ("file", "size", "bytes", "platform", "placement", "format", "locale", "concept", "variant",
                 "headline", "cta", "alt_text", "sha256")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-]*$")


class DeliveryRefused(AssetkitError):
    """Nothing was delivered (pending assets, nothing approved, a bad target...)."""

    exit_code = 2


def platform_slug(platform: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", platform.lower()).strip("-") or "other"


def alt_text(cat: Catalog, a: ReviewAsset) -> str:
    """Alt text for an ad manager: what the picture shows (the concept's ``alt`` in the brief, in
    the asset's locale) and the words the asset shows, as composed (headline, subline, body and
    disclaimer lines drawn, the CTA's label; a dropped element is not among them); without a
    description, the concept's name stands for the picture."""
    copy = dict(cat.copy_for(a.locale))
    per_format = copy.get("formats")  # the brief's copy for this format, where it has its own
    if isinstance(per_format, dict) and isinstance(per_format.get(a.format), dict):
        copy.update(per_format[a.format])
    drawn = a.compose.get("lines") if isinstance(a.compose.get("lines"), dict) else None
    dropped = set(a.compose.get("dropped") or []) | set(a.compose.get("hidden") or [])
    if drawn is not None:  # the words the asset shows, as composed: a dropped subline is not there
        # each drawn element's text as written (its lines may end in a hyphen the layout added)
        parts = [str(copy.get(k) or " ".join(str(x) for x in drawn[k]))
                 for k in ("headline", "subline", "body", "disclaimer") if drawn.get(k)]
        cta = copy.get("cta") if "cta" in (a.compose.get("font_px") or {}) and "cta" not in dropped else None
    else:
        parts = [str(copy.get(k) or "").strip() for k in ("headline", "subline")]
        cta = copy.get("cta")
    text = " ".join(p.strip().rstrip(".") + "." for p in parts if p and p.strip())
    if cta:
        text += f" Button: {cta}."
    described = str(_alt(cat, a) or "").strip()
    if described:
        return f"{described.rstrip('.')}. {text}".strip()
    return f"{cat.brand + ' ad' if cat.brand else 'Ad'} ({a.concept.replace('-', ' ')}): {text}".strip()


def _alt(cat: Catalog, a: ReviewAsset) -> str | None:
    texts = cat.alt.get(a.concept) or {}
    return texts.get(a.locale)


def index_csv(rows: list[dict]) -> bytes:
    return to_csv(INDEX_COLUMNS, ([r[c] for c in INDEX_COLUMNS] for r in rows), lineterminator="\r\n").encode("utf-8")


@dataclass
class DeliveryPlan:
    """What a delivery would contain: (package path, asset, sha256) per approved asset."""

    catalog: Catalog
    files: list[tuple[str, ReviewAsset, str]]
    open_assets: list[AssetState]
    rejected: int
    index: list[dict] = field(default_factory=list)


@dataclass
class DeliveryResult:
    target: Path
    files: int
    bytes: int
    skipped_open: int
    rejected: int
    index_sha256: str
    delivery_id: int | None
    per_folder: dict[str, int]


def plan_delivery(cat: Catalog, states: dict[str, AssetState], naming: str = DEFAULT_NAMING) -> DeliveryPlan:
    check_naming(naming)
    files: list[tuple[str, ReviewAsset, str]] = []
    seen: dict[str, str] = {}
    for st in states.values():
        if st.state != "approved" or st.sha256 is None:
            continue
        a = st.asset
        name = naming.format(campaign=cat.campaign, platform=platform_slug(a.platform), format=a.format,
                             locale=a.locale, concept=a.concept, variant=a.variant, ext=a.ext, width=a.width,
                             height=a.height, size=f"{a.width}x{a.height}", format_class=a.format_class)
        if not _SAFE_NAME.match(name) or ".." in name:
            raise DeliveryRefused(f"naming template {naming!r} makes {name!r} for {a.label}: not a safe file name")
        rel = f"{platform_slug(a.platform)}/{a.locale}/{name}"
        if rel in seen:
            raise DeliveryRefused(f"naming template {naming!r} gives {a.label} and {seen[rel]} the same file "
                                  f"{rel}; add {{concept}}, {{variant}} or {{format}} to it")
        seen[rel] = a.label
        files.append((rel, a, st.sha256))
    files.sort(key=lambda f: f[0])
    open_assets = [st for st in states.values() if st.state in OPEN_STATES]
    rejected = sum(1 for st in states.values() if st.state == "rejected")
    plan = DeliveryPlan(cat, files, open_assets, rejected)
    for rel, a, sha in files:
        copy = cat.copy_for(a.locale)
        plan.index.append({"file": rel, "size": f"{a.width}x{a.height}", "bytes": a.bytes, "platform": a.platform,
                           "placement": a.placement, "format": a.format, "locale": a.locale, "concept": a.concept,
                           "variant": a.variant, "headline": copy.get("headline") or "", "cta": copy.get("cta") or "",
                           "alt_text": alt_text(cat, a), "sha256": sha})
    return plan


def check_credentials(plan: DeliveryPlan, settings=None) -> None:
    """Refuse (nothing written) when a file the run signed fails C2PA verification: its pixels
    changed after signing, its manifest was stripped or broken. Unsigned runs are not checked;
    a signer that no configured trust anchor vouches for is accepted ("untrusted")."""
    signed = [(rel, a) for rel, a, _ in plan.files if a.signed]
    if not signed:
        return
    try:
        from ..provenance.verify import reader_context, verify_file
    except ImportError:  # pragma: no cover - the provenance module is part of assetkit
        return
    anchors = None
    prov = getattr(settings, "provenance", None)
    if prov is not None and prov.trust_anchors:
        base = settings.path.parent if getattr(settings, "path", None) else Path.cwd()
        anchors_path = Path(prov.trust_anchors)
        anchors_path = anchors_path if anchors_path.is_absolute() else base / anchors_path
        try:
            anchors = anchors_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DeliveryRefused(f"provenance.trust_anchors {prov.trust_anchors}: cannot read it ({exc.strerror})") \
                from None
    try:
        context = reader_context(anchors)
    except ImportError:
        raise DeliveryRefused("these assets carry C2PA Content Credentials but c2pa-python is not installed to "
                              "verify them: pip install 'assetkit[provenance]'") from None
    bad = []
    for _, a in signed:
        verdict = verify_file(plan.catalog.file(a), context, anchors is not None)
        if verdict.status in ("invalid", "unsigned"):
            bad.append(f"  {a.label}: {verdict.status} — {'; '.join(verdict.why)}")
    if bad:
        raise DeliveryRefused(f"{len(bad)} approved asset{'s fail' if len(bad) > 1 else ' fails'} Content Credentials "
                              "(C2PA) verification, nothing was delivered:\n" + "\n".join(bad)
                              + "\nre-run the campaign to re-sign them, then review them again")


def _read_checked(cat: Catalog, a: ReviewAsset, sha: str) -> bytes:
    import hashlib

    data = cat.read_bytes(a)
    if data is None or hashlib.sha256(data).hexdigest() != sha:
        raise DeliveryRefused(f"{a.label}: the file changed while the package was being written; nothing was "
                              "delivered — run `assetkit status` and review it again")
    return data


def package_members(plan: DeliveryPlan) -> list[tuple[str, bytes]]:
    """Every file of the package (path, bytes), sorted; the asset bytes are re-checked by sha256."""
    members = []
    for rel, a, sha in plan.files:
        data = _read_checked(plan.catalog, a, sha)
        members.append((rel, data))
    for row, (_rel, data) in zip(plan.index, members):
        row["bytes"] = len(data)
    members.append(("index.csv", index_csv(plan.index)))
    members.append(("index.json", (json.dumps({"campaign": plan.catalog.campaign, "name": plan.catalog.name,
                                               "brand": plan.catalog.brand, "files": plan.index}, indent=2,
                                              ensure_ascii=False) + "\n").encode("utf-8")))
    return sorted(members, key=lambda m: m[0])


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """A deterministic zip: fixed time and modes; images stored, text deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            stored = name.rsplit(".", 1)[-1].lower() in ("png", "jpg", "jpeg", "webp")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=None if stored else 9)
    return buf.getvalue()


def _check_target(to: Path) -> str:
    from ..outroot import safe_output_file

    if to.suffix.lower() == ".zip":
        safe_output_file(to, option="--to", follow_option=None)
        if not to.parent.is_dir():
            raise DeliveryRefused(f"--to {display_path(to)}: the folder {display_path(to.parent)} does not exist")
        return "zip"
    if to.is_symlink() or (to.exists() and not to.is_dir()):
        raise DeliveryRefused(f"--to {display_path(to)}: exists and is not a folder (give a new folder or a .zip)")
    if to.exists():
        if any(to.iterdir()):
            raise DeliveryRefused(f"--to {display_path(to)}: the folder is not empty; deliver into a new or empty "
                                  "folder (nothing was written)")
    elif not to.parent.is_dir():
        raise DeliveryRefused(f"--to {display_path(to)}: the folder {display_path(to.parent)} does not exist")
    return "dir"


def _write_dir(to: Path, members: list[tuple[str, bytes]]) -> None:
    """All or nothing: the package is written into a temp folder beside ``to``, then renamed."""
    from ..outroot import OutRoot

    tmp = Path(tempfile.mkdtemp(prefix=f".{to.name}.", suffix=".tmp", dir=to.parent))
    try:
        root = OutRoot(tmp)
        for name, data in members:
            root.write_bytes(name, data)
        os.chmod(tmp, 0o755)
        if to.exists():
            to.rmdir()  # checked empty above
        os.replace(tmp, to)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def deliver(folder: str | Path, to: str | Path, ledger: str | Path | None = None, settings=None,
            allow_pending: bool = False) -> DeliveryResult:
    """Write the approved assets of ``folder`` to ``to`` (a folder or ``.zip``) and record it."""
    from ..files import sha256_bytes
    from ..ledger import who
    from ..outroot import write_output_file
    from .store import ReviewStore

    to = Path(to)
    cat = load_catalog(folder)
    if cat.usage != "commercial":  # the licence gate let its models in for use inside only
        raise DeliveryRefused(f"{cat.campaign} was made for {cat.usage} use (usage: {cat.usage}), which the licence "
                              "gate allows only for work that is not published or delivered; nothing was written\n"
                              "  hint: set `usage: commercial` in the brief and run it again (its models' licences "
                              "must allow that)")
    campaign_dir = cat.folder.resolve()
    target = to.resolve() if to.exists() or to.is_symlink() else to.parent.resolve() / to.name
    if target == campaign_dir or campaign_dir in target.parents:
        raise DeliveryRefused(f"--to {display_path(to)} is inside the campaign folder {display_path(cat.folder)}: "
                              "the hand-off would become part of the campaign; deliver outside it (nothing was "
                              "written)")
    kind = _check_target(to)
    naming = DEFAULT_NAMING
    delivery_settings = getattr(settings, "delivery", None)
    if delivery_settings is not None and getattr(delivery_settings, "naming", None):
        naming = delivery_settings.naming
    try:
        check_naming(naming)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from ..ledger import ledger_path

    if not ledger_path(ledger).exists():
        raise DeliveryRefused(f"{cat.campaign}: no review decisions yet "
                              f"(no ledger at {display_path(ledger_path(ledger))}); "
                              "review the campaign first (`assetkit review`); nothing was written")
    with ReviewStore(ledger, create=False) as store:
        states = asset_states(cat, store.decisions(cat.campaign))
        plan = plan_delivery(cat, states, naming)
        if plan.open_assets and not allow_pending:
            lines = [f"  {st.asset.label}: {st.label}" for st in plan.open_assets[:50]]
            more = len(plan.open_assets) - len(lines)
            raise DeliveryRefused(
                f"{len(plan.open_assets)} of {len(states)} assets are not approved yet, nothing was delivered:\n"
                + "\n".join(lines) + (f"\n  … and {more} more" if more > 0 else "")
                + "\nreview them (`assetkit review`) or deliver only the approved ones with --allow-pending")
        if not plan.files:
            raise DeliveryRefused(f"{cat.campaign}: no approved assets to deliver (nothing was written)")
        check_credentials(plan, settings)
        members = package_members(plan)
        index_sha = sha256_bytes(dict(members)["index.json"])
        if kind == "zip":
            write_output_file(to, zip_bytes(members), option="--to")
        else:
            _write_dir(to, members)
        total = sum(len(d) for n, d in members if not n.startswith("index."))
        try:
            delivery_id = store.add_delivery({
                "campaign": cat.campaign, "target": str(to.resolve()),
                "assets": {a.id: sha for _, a, sha in plan.files}, "files": len(plan.files), "bytes": total,
                "index_sha256": index_sha, "allow_pending": allow_pending, "who": who()})
        except BaseException:  # not recorded → not delivered: take the package back
            if kind == "zip":
                to.unlink(missing_ok=True)
            else:
                shutil.rmtree(to, ignore_errors=True)
            raise
    per_folder: dict[str, int] = {}
    for rel, _, _ in plan.files:
        folder_name = rel.rsplit("/", 1)[0]
        per_folder[folder_name] = per_folder.get(folder_name, 0) + 1
    return DeliveryResult(to, len(plan.files), total, len(plan.open_assets), plan.rejected, index_sha, delivery_id,
                          per_folder)
