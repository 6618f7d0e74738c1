"""Server-side HTML of the review: the gallery, the full-size view with its check overlay, and
the self-contained static gallery. Jinja2 with autoescape; the CSS and JS are inlined."""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, lru_cache
from importlib import resources
from xml.sax.saxutils import escape

from .catalog import Catalog, ReviewAsset
from .states import STATE_LABELS, STATES, AssetState

THUMB_BOX = 180  # CSS pixels of a gallery tile's longer side
STATE_ORDER = ("pending", "approved", "changes", "rejected", "changed")


@cache
def _static(name: str) -> str:
    return resources.files("assetkit.review").joinpath("static", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("assetkit.review", "templates"),
                              autoescape=True, trim_blocks=False, lstrip_blocks=False)


def thumb_size(asset: ReviewAsset, box: int = THUMB_BOX) -> tuple[int, int]:
    w, h = max(asset.width, 1), max(asset.height, 1)
    s = box / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def master_summary(states: list[AssetState]) -> str:
    counts = {s: 0 for s in STATES}
    for st in states:
        counts[st.state] += 1
    return " · ".join(f"{n} {STATE_LABELS[s]}" for s in STATE_ORDER if (n := counts[s]))


def gallery_model(cat: Catalog, states: dict[str, AssetState], href: Callable[[ReviewAsset], str],
                  thumb: Callable[[ReviewAsset], str], full: Callable[[ReviewAsset], str] | None = None) -> list[dict]:
    """Masters (concept × variant) → platforms → format rows → one cell per locale, side by side."""
    platform_order: dict[str, int] = {}
    format_order = {f: i for i, f in enumerate(cat.formats)}
    out = []
    for m in cat.masters.values():
        by_fmt: dict[str, dict[str, ReviewAsset]] = {}
        for aid in m.assets:
            a = cat.assets[aid]
            platform_order.setdefault(a.platform, len(platform_order))
            by_fmt.setdefault(a.format, {})[a.locale] = a
        platforms: dict[str, list[dict]] = {}
        for fmt in sorted(by_fmt, key=lambda f: format_order.get(f, len(format_order))):
            per_loc = by_fmt[fmt]
            first = next(iter(per_loc.values()))
            cells: list[dict] = []
            for loc in cat.locales:
                cell = per_loc.get(loc)
                if cell is None:
                    cells.append({"locale": loc, "asset": None})
                    continue
                st = states[cell.id]
                w, h = thumb_size(cell)
                cells.append({"locale": loc, "asset": cell, "state": st.state, "sha": st.sha256 or "",
                              "decision": st.decision, "href": href(cell), "thumb": thumb(cell), "w": w, "h": h,
                              "full": full(cell) if full else None})
            platforms.setdefault(first.platform, []).append(
                {"format": fmt, "placement": first.placement, "size": f"{first.width}×{first.height}",
                 "cells": cells})
        out.append({
            "id": m.id, "concept": m.concept, "variant": m.variant,
            "assets_json": json.dumps({aid: states[aid].sha256 or "" for aid in m.assets}, separators=(",", ":")),
            "summary": master_summary([states[aid] for aid in m.assets]),
            "platforms": [{"name": p, "rows": platforms[p]}
                          for p in sorted(platforms, key=lambda p: platform_order[p])]})
    return out


def render_gallery(cat: Catalog, states: dict[str, AssetState], *, token: str = "", reviewer: str = "",
                   filters: dict | None = None, href, thumb, full=None, static: bool = False, nonce: str = "",
                   generated_at: str = "") -> str:
    total = {s: 0 for s in STATES}
    for st in states.values():
        total[st.state] += 1
    return _env().get_template("gallery.html.j2").render(
        cat=cat, masters=gallery_model(cat, states, href, thumb, full), total=total, state_order=STATE_ORDER,
        labels=STATE_LABELS, filters=filters or {}, token=token, reviewer=reviewer, static=static, nonce=nonce,
        css=_static("review.css"), js=_static("review.js"), generated_at=generated_at)


def overlay_svg(cat: Catalog, a: ReviewAsset) -> str:
    """The check overlay drawn from the manifest's data: safe zone, text boxes with their measured
    contrast, logo box and its clear space, the product box, and the findings by rule."""
    w, h = max(a.width, 1), max(a.height, 1)
    fs = max(8, round(min(max(w, h) / 48, h / 7)))  # labels stay legible on a 728×90 strip too
    stroke = max(1, round(max(w, h) / 400))
    parts = [(f'<svg viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" aria-label="check overlay" '
              f'font-family="sans-serif" font-size="{fs}">')]

    def rect(box, colour, label="", dash=False):
        try:
            x0, y0, x1, y1 = (float(v) for v in box)
        except (TypeError, ValueError):
            return
        d = f' stroke-dasharray="{stroke * 4},{stroke * 3}"' if dash else ""
        parts.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="{colour}" '
                     f'fill-opacity="0.12" stroke="{colour}" stroke-width="{stroke}"{d}/>')
        if label:
            ty = y0 - stroke * 2 if y0 > fs * 1.4 else y0 + fs + stroke  # above the box, else inside it
            tw = len(label) * fs * 0.56 + fs * 0.5
            parts.append(f'<rect x="{x0}" y="{ty - fs}" width="{tw}" height="{fs * 1.25}" fill="#000" '
                         f'fill-opacity="0.65"/>')
            parts.append(f'<text x="{x0 + fs * 0.25}" y="{ty}" fill="#fff">{escape(label)}</text>')

    zone = a.compose.get("safe_zone")
    if zone:
        rect(zone, "#00b7ff", "safe zone", dash=True)
    contrast = a.compose.get("contrast") or {}
    for name in ("headline", "subline", "cta", "disclaimer"):
        if name in a.boxes:
            c = contrast.get(name)
            rect(a.boxes[name], "#ff2bd6", f"{name} {c}:1" if c is not None else name)
    if "logo_clear" in a.boxes:
        rect(a.boxes["logo_clear"], "#ff9100", "", dash=True)
    if "logo" in a.boxes:
        rect(a.boxes["logo"], "#ff9100", "logo")
    for name, box in a.boxes.items():
        if name.startswith("product"):
            rect(box, "#00c853", name)
    if not a.boxes and a.compose.get("logo_px"):  # older manifests: only the logo's size is known
        lw, lh = a.compose["logo_px"]
        parts.append(f'<text x="{fs}" y="{h - fs * 2.6}" fill="#ff9100">logo {lw}×{lh} px (position not in '
                     f'manifest)</text>')
    y = fs * 1.5
    for c in a.checks[:12]:
        colour = "#ff5252" if c["level"] == "error" else "#ffd740"
        text = f"{c['level']}: {c['check']} — {c['message']}"[:110]
        parts.append(f'<rect x="0" y="{y - fs}" width="{min(w, len(text) * fs * 0.56 + fs)}" height="{fs * 1.3}" '
                     f'fill="#000" fill-opacity="0.7"/><text x="{fs * 0.4}" y="{y}" fill="{colour}">'
                     f'{escape(text)}</text>')
        y += fs * 1.4
    parts.append("</svg>")
    return "".join(parts)


def render_view(cat: Catalog, states: dict[str, AssetState], a: ReviewAsset, *, token: str, reviewer: str,
                href, full: str, back: str, nonce: str, history: list, overlay_on: bool = False) -> str:
    ids = list(cat.assets)
    i = ids.index(a.id)
    master = cat.masters[a.master]
    return _env().get_template("view.html.j2").render(
        cat=cat, a=a, state=states[a.id], labels=STATE_LABELS, token=token, reviewer=reviewer, full=full,
        back=back, nonce=nonce, overlay=overlay_svg(cat, a), overlay_on=overlay_on,
        prev=href(cat.assets[ids[i - 1]]) if i > 0 else None,
        next=href(cat.assets[ids[i + 1]]) if i + 1 < len(ids) else None,
        master_assets=json.dumps({aid: states[aid].sha256 or "" for aid in master.assets}, separators=(",", ":")),
        contrast=sorted((a.compose.get("contrast") or {}).items()),
        font_px=sorted((a.compose.get("font_px") or {}).items()),
        copy=cat.copy_for(a.locale), history=[d for d in reversed(history) if a.id in d.assets],
        css=_static("review.css"), js=_static("review.js"))
