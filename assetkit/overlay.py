"""What the checks measured, drawn over an asset: safe zone, text boxes, logo box and clear space,
measured sizes and contrasts, and the findings. ``assetkit run --show-checks`` writes one per
asset; the review stage reuses :func:`check_overlay`."""
from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw

from . import imaging as im

SAFE = (0, 190, 255)
TEXT = (255, 0, 170)
LOGO = (0, 200, 90)
CTA = (255, 140, 0)
LEVEL_COLOUR = {"error": (214, 40, 40), "warning": (230, 160, 0)}


def _dashed(draw: ImageDraw.ImageDraw, box, colour, dash: int = 8, width: int = 2) -> None:
    x0, y0, x1, y1 = box
    for x in range(int(x0), int(x1), dash * 2):
        draw.line((x, y0, min(x + dash, x1), y0), fill=colour, width=width)
        draw.line((x, y1, min(x + dash, x1), y1), fill=colour, width=width)
    for y in range(int(y0), int(y1), dash * 2):
        draw.line((x0, y, x0, min(y + dash, y1)), fill=colour, width=width)
        draw.line((x1, y, x1, min(y + dash, y1)), fill=colour, width=width)


def _tag(draw: ImageDraw.ImageDraw, box, text: str, colour, font, placed: list, avoid: Sequence,
         inside: bool = False) -> None:
    """Label ``box`` where the label hides the least: above or below it (``inside``: in one of its
    corners), never over a label already placed, and over as little of the other boxes as
    possible (its own box's ink included). ``placed`` gets the label's rectangle."""
    w = int(font.getlength(text)) + 8
    h = font.size + 6
    x0, y0, x1, y1 = (int(v) for v in box)
    width, height = draw.im.size
    if inside:
        spots = [(x0 + 2, y0 + 2), (x0 + 2, y1 - h - 2), (x1 - w - 2, y0 + 2), (x1 - w - 2, y1 - h - 2)]
    else:
        spots = [(x0, y0 - h), (x0, y1), (x1 - w, y0 - h), (x1 - w, y1), (x0, y0)]
    best = None
    for i, (x, y) in enumerate(spots):
        x, y = max(0, min(x, width - w)), max(0, min(y, height - h))
        rect = (x, y, x + w, y + h)
        score = (sum(im.overlap_area(rect, r) for r in placed) > 0, sum(im.overlap_area(rect, b) for b in avoid), i)
        if best is None or score < best[0]:
            best = (score, rect)
    assert best is not None
    rect = best[1]
    placed.append(rect)
    draw.rectangle(rect, fill=colour)
    draw.text((rect[0] + 4, rect[1] + 3), text, font=font, fill=(255, 255, 255), anchor="lt")


def check_overlay(image: Image.Image, boxes: dict, info: dict, findings: Sequence[dict] = ()) -> Image.Image:
    """The asset dimmed, with its safe zone (dashed), every element's box labelled with what was
    measured (font px and contrast for text, version and contrast for the logo), the logo's clear
    space, and a strip listing ``findings`` (``{"check", "level", "message"}``)."""
    from .brand import FALLBACK_FONTS

    k = 2 if max(image.size) < 700 else 1  # small display formats: drawn at 2× so the labels read
    if k > 1:
        image = image.resize((image.width * k, image.height * k), Image.Resampling.LANCZOS)
        boxes = {n: tuple(v * k for v in b) for n, b in boxes.items() if b is not None}
        info = {**info, "safe_zone": [v * k for v in info.get("safe_zone", [])] or None}
    w, h = image.size
    size = max(10, min(18, int(min(w, h) / 30)))
    font = im.font(FALLBACK_FONTS["body"], size)
    lines = [f"{f['level']}: {f['check']}: {f['message']}" for f in findings]
    strip = (size + 8) * len(lines) + (8 if lines else 0)
    out = Image.new("RGB", (w, h + strip), (255, 255, 255))
    out.paste(Image.blend(image.convert("RGB"), Image.new("RGB", image.size, (255, 255, 255)), 0.35), (0, 0))
    d = ImageDraw.Draw(out)
    if info.get("safe_zone"):
        x0, y0, x1, y1 = info["safe_zone"]
        _dashed(d, (x0, y0, x1 - 1, y1 - 1), SAFE)
    if boxes.get("logo_clear"):
        _dashed(d, tuple(boxes["logo_clear"]), LOGO, dash=4, width=1)
    shown = {n: b for n, b in boxes.items() if n not in ("logo_clear", "text_area")}
    for name, box in shown.items():
        colour = LOGO if name == "logo" else CTA if name == "cta" else TEXT
        d.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), outline=colour, width=2)
    placed: list = []  # labels after every box is drawn: each avoids the labels and boxes before it
    for name, box in shown.items():
        colour = LOGO if name == "logo" else CTA if name == "cta" else TEXT
        if name == "logo":
            label = f"logo {info.get('logo_version', '')} {info.get('logo_contrast', '?')}:1"
        else:
            label = f"{name} {info.get('font_px', {}).get(name, '?')}px {info.get('contrast', {}).get(name, '?')}:1"
        _tag(d, box, label, colour, font, placed, list(shown.values()))
    if info.get("safe_zone"):
        _tag(d, info["safe_zone"], "safe zone", SAFE, font, placed, list(shown.values()), inside=True)
    y = h + 4
    for f, line in zip(findings, lines):
        while font.getlength(line) > w - 12 and len(line) > 20:
            line = line[:-2]
        d.text((6, y), line, font=font, fill=LEVEL_COLOUR.get(f["level"], (0, 0, 0)), anchor="lt")
        y += size + 8
    return out


def badge(findings: Sequence[dict]) -> tuple[str, tuple[int, int, int]] | None:
    """The contact-sheet mark of an asset's findings: ``(text, colour)`` — the rule ids of its
    errors in red (else of its warnings in amber), or None without findings. The sheet draws it
    under the thumbnail and frames the thumbnail in that colour, so it never hides the logo or copy."""
    if not findings:
        return None
    level = "error" if any(f["level"] == "error" for f in findings) else "warning"
    rules = sorted({f["check"] for f in findings if f["level"] == level})
    return ("✕ " if level == "error" else "! ") + ", ".join(rules), LEVEL_COLOUR[level]
