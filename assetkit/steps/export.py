"""export: encode composed assets (PNG/JPEG/WebP) atomically, with metadata, manifest and contact sheets."""
from __future__ import annotations

import io
import json
import time
from typing import TYPE_CHECKING, Literal
from xml.sax.saxutils import escape

from PIL import Image
from pydantic import Field, field_validator

from ..brief import describe_shape
from ..files import sha256_bytes
from ..money import split_exact
from ..provenance.manifest import source_types
from ..provenance.sign import seal
from .base import Step, StepParams

if TYPE_CHECKING:  # pragma: no cover
    from ..context import RunContext
    from ..state import Composed, RunState

THUMB = 280
EXT = {"png": "png", "jpeg": "jpg", "webp": "webp"}


class ExportParams(StepParams):
    format: Literal["png", "jpeg", "webp"] = "png"
    """File format of the delivered assets."""
    quality: int = Field(90, ge=1, le=100, description="JPEG/WebP quality")
    contact_sheet: bool = True
    """Write a contact sheet PNG per locale of every asset of the campaign."""
    metadata: bool = Field(True, description="write generation parameters (A1111 'parameters') and XMP")
    optimize: bool = Field(False, description="smaller PNG/JPEG files, slower encoding")
    scale: Literal[1, 2, 3] = 1
    """Also deliver each asset rendered at this resolution (``2``: an ``@2x`` file beside the 1×
    one, type and logo drawn at double size, not upscaled; held to the same file-weight limit)."""
    scale_formats: list[str] = []
    """Which formats get the @2x file: format names or classes (``display``); empty: all."""

    @field_validator("scale_formats")
    @classmethod
    def _scale_formats(cls, v: list[str]) -> list[str]:
        from ..brief import FORMAT_CLASSES
        from ..formats import resolve_format

        for name in v:
            if name not in FORMAT_CLASSES:
                try:
                    resolve_format(name)
                except ValueError as exc:
                    raise ValueError(f"{exc}, or a format class: {', '.join(FORMAT_CLASSES)}") from None
        return v


class ExportStep(Step):
    params: ExportParams
    """Write every composed asset to ``<out>/<campaign>/<locale>/<format>/<concept>-v<n>.<ext>``."""

    name = "export"
    description = "Encode assets atomically with metadata; write manifest.json and a contact sheet per locale."
    Params = ExportParams
    inputs = ("composed",)
    provides = ("outputs",)

    def run(self, ctx: RunContext, state: RunState) -> None:
        items = [state.composed[j.key] for j in state.pending if j.key in state.composed]
        shares = compute_shares(state)
        entries = ctx.map(lambda c: self._write(ctx, state, c, *shares[c.job.key]), items, "export")
        state.outputs.extend(entries)

    def finish(self, ctx: RunContext, state: RunState) -> None:
        if self.params.contact_sheet:
            plan = ctx.plan
            assert plan is not None
            findings = {key: list(e.get("checks", [])) for key, e in plan.previous.items()}
            for r in state.checks:  # this run's findings replace what an earlier run said
                findings[r.job.key] = []
            for r in state.checks:
                findings[r.job.key].append({"check": r.check, "level": r.level, "message": r.message})
            ctx.findings = findings
            ctx.contact_sheets = write_contact_sheets(ctx, plan, changed=bool(state.outputs))

    def finalize(self, ctx: RunContext, manifest: dict) -> None:
        """Remove what this run no longer makes, then write the manifest (the run's last file)."""
        prune(ctx, ctx.plan, manifest)
        write_manifest(ctx, manifest)

    def _write(self, ctx: RunContext, state: RunState, composed: Composed, sharing: int = 1,
               share_ms: int = 0) -> dict:
        p: ExportParams = self.params
        job = composed.job
        t0 = time.perf_counter()
        master = state.masters.get(job.master_id)
        gen_params = dict(master.params) if master else {}
        gen_params.setdefault("generator", state.generator_info.get("name", "draft"))
        meta = _metadata(ctx, composed, gen_params) if p.metadata else None
        data = encode(composed.image, p, metadata=meta)
        limit = ctx.brand.checks.weight_limit(job.format)
        reserve = SIGNATURE_RESERVE if limit and ctx.provenance is not None else 0
        data, weight = fit_weight(composed.image, p, meta, data, limit - reserve if limit else None)
        content_sha256 = sha256_bytes(data)
        unsigned = data
        data, c2pa = seal(ctx, state, composed, data, p.format)  # C2PA signing: the last change to the bytes
        weight["bytes"] = len(data)
        if limit and len(data) > limit:
            from ..rules import severity_of
            from ..state import CheckResult

            level = severity_of("file-weight", ctx.brand.checks.severity, _check_severity(ctx))
            if level != "off":
                state.checks.append(CheckResult(job, "file-weight", level, (
                    f"{len(data):,} bytes is over the {job.format.name} limit of {limit:,} bytes even after "
                    f"{weight['method']} (encoded {weight['encoded']:,})")))
        rel = job.relpath(EXT[p.format])
        ctx.files.write_bytes(rel, data)
        scaled = [self._write_scaled(ctx, state, composed, k, image, meta, limit, rel)
                  for k, image in sorted(composed.scaled.items())]
        if getattr(ctx.options, "show_checks", False):  # what the checks measured, beside the asset
            from ..overlay import check_overlay

            found = [{"check": r.check, "level": r.level, "message": r.message} for r in list(state.checks)
                     if r.job.key == job.key]
            buf = io.BytesIO()
            check_overlay(composed.image, composed.boxes, composed.info, found).save(buf, "PNG", compress_level=1)
            ctx.files.write_bytes("checks/" + job.relpath("png"), buf.getvalue())
        if p.contact_sheet and job.key in sheet_keys(ctx):  # keep a thumbnail: the sheet need not decode the file
            thumb = composed.image.copy()
            thumb.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS, reducing_gap=2.0)
            ctx.thumbs[job.key] = thumb
        return {
            "path": rel, "sha256": content_sha256 if data is unsigned else sha256_bytes(data),
            "bytes": len(data), "format": job.format.name,
            "format_class": job.format.format_class, "platform": job.format.platform,
            "width": job.format.width, "height": job.format.height, "locale": job.locale, "concept": job.concept,
            "variant": job.variant, "seed": job.seed, "generator": gen_params.get("generator", "draft"),
            "generator_params": {k: v for k, v in gen_params.items() if k != "parameters_text"},
            "compute_seconds": round((master.compute_seconds if master and not master.cached else 0.0) / sharing, 4),
            "compute_ms": share_ms,
            "master": master.key if master else None, "master_cached": bool(master and master.cached),
            "compose": composed.info, "content_sha256": content_sha256, "c2pa": c2pa, "weight": weight,
            "boxes": {k: list(v) for k, v in composed.boxes.items()}, "scaled": scaled,
            "export_seconds": round(time.perf_counter() - t0, 4),
            "cached": False, "key": job.key,
        }


    def _write_scaled(self, ctx: RunContext, state: RunState, composed: Composed, k: int, image, meta,
                      limit: int | None, rel: str) -> dict:
        """Write the asset rendered at ``k``× beside the 1× file (``…@2x.png``), within the same weight limit."""
        data = encode(image, self.params, metadata=meta)
        data, weight = fit_weight(image, self.params, meta, data, limit)
        stem, dot, ext = rel.rpartition(".")
        path = f"{stem}@{k}x{dot}{ext}"
        if limit and len(data) > limit:
            from ..rules import severity_of
            from ..state import CheckResult

            level = severity_of("file-weight", ctx.brand.checks.severity, _check_severity(ctx))
            if level != "off":
                state.checks.append(CheckResult(composed.job, "file-weight", level, (
                    f"the @{k}x file is {len(data):,} bytes, over the {composed.job.format.name} limit of "
                    f"{limit:,} bytes even after {weight['method']}")))
        ctx.files.write_bytes(path, data)
        return {"scale": k, "path": path, "width": image.width, "height": image.height, "bytes": len(data),
                "sha256": sha256_bytes(data), "weight": weight}


#: bytes kept free under a file-weight limit for the C2PA manifest signing adds afterwards
SIGNATURE_RESERVE = 12_000


def compute_shares(state: RunState) -> dict[str, tuple[int, int]]:
    """Per pending job key: (deliverables sharing its master, its whole-ms share of the master's compute).

    A master's milliseconds are split exactly (the remainder on the first jobs in key order), so the
    assets' ``compute_ms`` add up to the run's ``compute_ms``: the ledger never books a rounding
    residue as overhead."""
    by_master: dict = {}
    for j in state.pending:
        by_master.setdefault(j.master_id, []).append(j.key)
    out: dict[str, tuple[int, int]] = {}
    for mid, keys in by_master.items():
        master = state.masters.get(mid)
        total = master.compute_ms if master is not None else 0
        for key, ms in zip(sorted(keys), split_exact(total, len(keys))):
            out[key] = (len(keys), ms)
    return out


def _check_severity(ctx: RunContext) -> dict:
    step = ctx.pipeline.step("check")
    return dict(getattr(getattr(step, "params", None), "severity", {}) or {})


def fit_weight(image, params: ExportParams, metadata: dict | None, data: bytes, limit: int | None
               ) -> tuple[bytes, dict]:
    """Bring encoded ``data`` within ``limit`` bytes, before the file is signed and written:
    PNG: lossless optimisation, then palette quantisation (256 colours, dithered); JPEG/WebP:
    the highest quality that fits (binary search down to 40). Returns the bytes (the smallest
    tried when nothing fits) and what was done."""
    info: dict = {"limit": limit, "encoded": len(data), "method": "none"}
    if limit is None or len(data) <= limit:
        return data, info
    if params.format == "png":
        opt = params.model_copy(update={"optimize": True})
        got = data
        if len(data) <= limit * 1.15:  # lossless optimisation saves a few per cent, not more: try it when near
            got = encode(image, opt, metadata)
            info["method"] = "png-optimised"
        if len(got) > limit:
            quant = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE,
                                                  dither=Image.Dither.FLOYDSTEINBERG)
            # a palette image is a third of the RGB bytes: the fast encoder usually fits, and the
            # optimising one (zlib level 6, several filter passes; ~4× the time) is tried only if not
            small = encode(quant, params, metadata)
            if len(small) > limit:
                small = min(small, encode(quant, opt, metadata), key=len)
            got = min(got, small, key=len)
            info["method"] = "png-palette-256"
        return got, info
    lo, hi, best = 40, params.quality - 1, None
    while lo <= hi:  # the highest quality that fits
        q = (lo + hi) // 2
        got = encode(image, params.model_copy(update={"quality": q, "optimize": True}), metadata)
        if len(got) <= limit:
            best, lo = (got, q), q + 1
        else:
            hi = q - 1
    q = best[1] if best else 40
    info["method"] = f"{params.format}-quality-{q}"
    return (best[0] if best else encode(image, params.model_copy(update={"quality": 40, "optimize": True}),
                                        metadata)), info


def encode(image, params: ExportParams, metadata: dict | None = None) -> bytes:
    """Encode an RGB (or, for PNG, palette) image in the export format, with A1111 parameters and
    XMP where supported."""
    from PIL.PngImagePlugin import PngInfo

    buf = io.BytesIO()
    if image.mode != "RGB" and not (params.format == "png" and image.mode == "P"):
        image = image.convert("RGB")  # (an RGB image is encoded as it is: saving reads it, no copy)
    if params.format == "png":
        info = None
        if metadata:
            info = PngInfo()
            if metadata.get("parameters"):
                info.add_text("parameters", metadata["parameters"])
            info.add_itxt("XML:com.adobe.xmp", metadata["xmp"])
        image.save(buf, "PNG", pnginfo=info, optimize=params.optimize, compress_level=6 if params.optimize else 3)
    elif params.format == "jpeg":
        kw = {"xmp": metadata["xmp"].encode()} if metadata else {}
        if metadata and metadata.get("parameters"):
            kw["comment"] = metadata["parameters"].encode()
        image.save(buf, "JPEG", quality=params.quality, optimize=params.optimize, progressive=True, **kw)
    else:
        kw = {"xmp": metadata["xmp"].encode()} if metadata else {}
        image.save(buf, "WEBP", quality=params.quality, method=4, **kw)
    return buf.getvalue()


def _metadata(ctx: RunContext, composed: Composed, gen_params: dict) -> dict:
    job = composed.job
    copy = ctx.brief.copy[job.locale].for_format(job.format)
    gen = gen_params.get("generator", "draft")
    xmp = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:assetkit="https://assetkit.dev/ns/1.0/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="{escape(job.locale)}">{escape(copy.headline)}</rdf:li>'
        '</rdf:Alt></dc:title>'
        f'<dc:creator><rdf:Seq><rdf:li>{escape(ctx.brand.name)}</rdf:li></rdf:Seq></dc:creator>'
        f'<Iptc4xmpExt:DigitalSourceType>{source_types(str(gen))[1]}</Iptc4xmpExt:DigitalSourceType>'
        f'<assetkit:campaign>{escape(ctx.brief.campaign)}</assetkit:campaign>'
        f'<assetkit:concept>{escape(job.concept)}</assetkit:concept>'
        f'<assetkit:variant>{job.variant}</assetkit:variant>'
        f'<assetkit:format>{escape(job.format.name)}</assetkit:format>'
        f'<assetkit:seed>{job.seed}</assetkit:seed>'
        f'<assetkit:generator>{escape(str(gen))}</assetkit:generator>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    return {"parameters": gen_params.get("parameters_text"), "xmp": xmp}


def sheet_keys(ctx: RunContext) -> frozenset[str]:
    """Keys of the jobs the contact sheets show: the first ``runs.contact_sheet_tiles`` of each
    locale (memory and the sheet's size stay bounded however big the campaign)."""
    keys = ctx.sheet_keys
    if keys is None:
        limit = ctx.sheet_tiles
        seen: dict[str, int] = {}
        out = set()
        assert ctx.plan is not None, "the contact sheets are planned after plan_run"
        for job in ctx.plan.jobs:
            if seen.get(job.locale, 0) < limit:
                seen[job.locale] = seen.get(job.locale, 0) + 1
                out.add(job.key)
        keys = ctx.sheet_keys = frozenset(out)
    return keys


def write_contact_sheets(ctx: RunContext, plan, changed: bool) -> dict[str, str]:
    """One contact sheet PNG per locale of every asset of the run (made now or up to date); the
    locales' sheets are drawn and encoded side by side on ``--jobs`` threads (after the model's
    last image this is most of a run's tail)."""
    from concurrent.futures import ThreadPoolExecutor

    todo = [loc for loc in ctx.brief.locales
            if changed or not ctx.files.exists(f"contact-sheet-{loc}.png")]
    if len(todo) > 1 and ctx.workers > 1:
        with ThreadPoolExecutor(max_workers=min(ctx.workers, len(todo))) as pool:
            list(pool.map(lambda loc: _contact_sheet(ctx, plan, loc), todo))
    else:
        for loc in todo:
            _contact_sheet(ctx, plan, loc)
    return {loc: f"contact-sheet-{loc}.png" for loc in ctx.brief.locales}


def _contact_sheet(ctx: RunContext, plan, locale: str) -> None:
    from ..imaging import contact_sheet

    step = ctx.pipeline.step("export")
    p = step.params if step is not None else ExportParams()
    assert isinstance(p, ExportParams)
    tiles = []
    thumbs = ctx.thumbs
    shown = sheet_keys(ctx)
    total = sum(job.locale == locale for job in plan.jobs)
    for job in plan.jobs:
        if job.locale != locale or job.key not in shown:
            continue
        thumb = thumbs.pop(job.key, None)
        if thumb is None:  # up to date from an earlier run: read it back
            with Image.open(io.BytesIO(ctx.files.read_bytes(job.relpath(EXT[p.format])))) as im:
                im.draft("RGB", (THUMB, THUMB))
                thumb = im.convert("RGB")
                thumb.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS)
        from ..overlay import badge

        tiles.append((thumb, f"{job.format.name} · {job.format.size}\n{job.concept} v{job.variant}",
                      badge(ctx.findings.get(job.key, []))))  # the rule ids of its findings, under the tile
    title = f"{ctx.brief.name or ctx.brief.campaign} — {locale}"
    count = f"{len(tiles)} assets" if len(tiles) == total else f"the first {len(tiles):,} of {total:,} assets"
    subtitle = f"{ctx.brand.name} · {count} · pipeline {ctx.pipeline.name} · {describe_shape(ctx.brief)}"
    sheet = contact_sheet(tiles, title=title, subtitle=subtitle, thumb=THUMB)
    buf = io.BytesIO()
    sheet.save(buf, "PNG", compress_level=1)
    ctx.files.write_bytes(f"contact-sheet-{locale}.png", buf.getvalue())


def prune(ctx: RunContext, plan, manifest: dict) -> list[str]:
    """Delete the files the previous manifest listed that this run no longer makes; returns them.

    Only regular files inside the campaign folder are deleted, never through a link (the paths
    were checked when the run was planned; :meth:`OutRoot.unlink` checks again as it deletes).
    """
    def paths(entry: dict) -> list[str]:  # the asset and its @2x files
        return [str(entry.get("path", ""))] + [str(s.get("path", "")) for s in entry.get("scaled") or []]

    keep = {p for a in manifest["assets"] for p in paths(a)}
    removed = []
    for entry in plan.previous.values():
        for rel in paths(entry):
            if rel and rel not in keep and ctx.files.unlink(rel):
                removed.append(rel)
    return removed


#: manifest lists written one entry per line: at 100k assets indenting every nested field made
#: the file 1.7× larger (3.4 KB an asset, over the review app's 256 MiB cap) and its writing
#: 4× slower (json's indenting encoder is pure Python; the compact one is C)
ONE_PER_LINE = ("assets", "checks")


def manifest_text(manifest: dict) -> str:
    """manifest.json's text: the JSON of ``manifest`` (``json.loads`` gives it back equal),
    indented by two spaces, except that each asset and each finding is one line."""
    line = json.JSONEncoder(ensure_ascii=False).encode
    parts = []
    for key, value in manifest.items():
        if key in ONE_PER_LINE and isinstance(value, list) and value:
            text = "[\n    " + ",\n    ".join(map(line, value)) + "\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        parts.append(f"  {line(str(key))}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n" if parts else "{}\n"


def write_manifest(ctx: RunContext, manifest: dict) -> None:
    ctx.files.write_text("manifest.json", manifest_text(manifest))
