"""Draw the Nordlicht Coffee logo (``logo.png``, and ``logo-on-dark.png`` for dark backgrounds):
an aurora-over-bean mark and a serif wordmark.

Run from anywhere: ``python brand/nordlicht/make_logo.py``. Drawn at 4× and downsampled for
smooth edges; transparent background, trimmed to its content.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
FJORD = (27, 58, 75)  # primary #1B3A4B
CREMA = (242, 166, 90)  # secondary #F2A65A
EMBER = (228, 87, 46)  # accent #E4572E
OAT = (247, 243, 236)  # background #F7F3EC: the ink of the on-dark version
S = 4  # supersampling factor


def mark(size: int, ink: tuple[int, int, int] = FJORD) -> Image.Image:
    """The symbol: a fjord-blue coffee bean under three aurora arcs (crema → ember)."""
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    # aurora: three concentric arcs over the bean
    for i, colour in enumerate((CREMA, (236, 128, 70), EMBER)):
        inset = int(size * (0.02 + 0.085 * i))
        w = int(size * 0.055)
        d.arc((inset, inset, size - inset, size - inset), start=200, end=340, fill=colour, width=w)
    # bean: an ellipse, tilted, with its crease as a transparent S-curve
    bean = Image.new("L", (size, size), 0)
    bd = ImageDraw.Draw(bean)
    bw, bh = size * 0.42, size * 0.56
    cx, cy = size * 0.5, size * 0.62
    bd.ellipse((cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2), fill=255)
    crease = Image.new("L", (size, size), 0)
    cd = ImageDraw.Draw(crease)
    lw = max(2, int(size * 0.035))
    cd.arc((cx - bw * 0.55, cy - bh * 0.46, cx + bw * 0.25, cy + bh * 0.02), start=300, end=60, fill=255, width=lw)
    cd.arc((cx - bw * 0.25, cy - bh * 0.02, cx + bw * 0.55, cy + bh * 0.46), start=120, end=240, fill=255, width=lw)
    bean = ImageChops.subtract(bean, crease)
    bean = bean.rotate(-28, resample=Image.BICUBIC, center=(cx, cy))
    im.paste(Image.new("RGBA", (size, size), ink + (255,)), (0, 0), bean)
    return im


def make_logo(out: Path = HERE / "logo.png", ink: tuple[int, int, int] = FJORD) -> Image.Image:
    """Render the logo with its bean and words in ``ink`` and write it to ``out`` (RGBA PNG)."""
    H = 240 * S
    canvas = Image.new("RGBA", (900 * S, H), (0, 0, 0, 0))
    m = mark(int(H * 0.92), ink)
    canvas.alpha_composite(m, (0, (H - m.height) // 2))
    d = ImageDraw.Draw(canvas)
    serif = ImageFont.truetype(str(HERE / "fonts" / "DejaVuSerif-Bold.ttf"), int(H * 0.40))
    sans = ImageFont.truetype(str(HERE / "fonts" / "DejaVuSansCondensed-Bold.ttf"), int(H * 0.15))
    x = m.width + int(H * 0.08)
    d.text((x, int(H * 0.50)), "Nordlicht", font=serif, fill=ink, anchor="ls")
    word_w = d.textlength("Nordlicht", font=serif)
    # "COFFEE ROASTERS" letter-spaced to the wordmark's width, under a thin crema rule
    label = "COFFEE ROASTERS"
    plain = sum(d.textlength(c, font=sans) for c in label)
    gap = (word_w - plain) / (len(label) - 1)
    y_rule = int(H * 0.60)
    d.rectangle((x, y_rule, x + word_w, y_rule + max(S, int(H * 0.012))), fill=CREMA)
    cx = float(x)
    for c in label:
        d.text((cx, int(H * 0.82)), c, font=sans, fill=ink, anchor="ls")
        cx += d.textlength(c, font=sans) + gap
    canvas = canvas.crop(canvas.getbbox())
    pad = 4 * S
    framed = Image.new("RGBA", (canvas.width + 2 * pad, canvas.height + 2 * pad), (0, 0, 0, 0))
    framed.alpha_composite(canvas, (pad, pad))
    logo = framed.resize((framed.width // S, framed.height // S), Image.LANCZOS)
    logo.save(out, optimize=True)
    return logo


if __name__ == "__main__":
    img = make_logo()
    print(f"wrote {HERE / 'logo.png'} ({img.width}×{img.height})")
    img = make_logo(HERE / "logo-on-dark.png", OAT)
    print(f"wrote {HERE / 'logo-on-dark.png'} ({img.width}×{img.height})")
