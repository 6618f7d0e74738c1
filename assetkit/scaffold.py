"""``assetkit init``: a working brand kit and brief a user can edit and run straight away."""
from __future__ import annotations

import io
import re
from pathlib import Path

from .brand import FALLBACK_FONTS
from .errors import UsageError
from .outroot import OutRoot

BRAND_YAML = """\
# Brand kit for {name}. Edit colours, fonts and logo; `assetkit validate brand/brand.yaml` checks it.
version: 1
name: {name}
palette:            # roles → hex colours; primary, background and text are required
  primary: "#2D3A8C"
  secondary: "#7BDFF2"
  accent: "#F25F5C"
  background: "#F9F7F3"
  text: "#161616"
  light: "#FFFFFF"
fonts: {{}}           # headline/body/cta: TTF files relative to this folder (default: DejaVu Sans)
logo:
  default: logo.png          # PNG with transparency, for light backgrounds
  on_dark: logo-on-dark.png  # your own version for dark backgrounds (the layout picks by measured contrast)
  placement: top-left
  min_width: 48     # pixels
  width: 0.2        # fraction of the format's short side
  clear_space: 0.5  # × logo height, kept free of text
style:
  keywords: [clean studio lighting, modern, high detail]
  negative: [text, watermark, blurry, lowres]
voice:
  banned_words: [cheap]
  disclaimer: {{}}
"""

BRIEF_YAML = """\
# Campaign brief. `assetkit plan brief.yaml` shows what a run makes; `assetkit run brief.yaml` makes it.
version: 1
campaign: launch
name: {name} launch
brand: brand
pipeline: social-campaign   # or display-banners, or a path to your own pipeline YAML
# model: path/to/diffusers-folder   # without a model the built-in draft generator makes layout proofs
seed: 1
variants: 2
formats: [meta-square, meta-story, meta-landscape, iab-medium-rectangle, iab-leaderboard]
copy:
  en-US:
    headline: Meet the new {name}
    subline: Designed for the way you work.
    cta: Learn more
  de-DE:
    headline: Das neue {name}
    subline: Gemacht für die Art, wie Sie arbeiten.
    cta: Mehr erfahren
concepts:
  - id: hero
    prompt: a product on a clean pedestal, studio lighting, soft shadow
"""


def make_logo(name: str, colour: tuple[int, int, int] = (45, 58, 140),
              ink: tuple[int, int, int] = (255, 255, 255)) -> bytes:
    """A simple wordmark logo (round monogram + name) as a transparent PNG: the disc and the name in
    ``colour``, the initials in ``ink`` (swap them for the on-dark version)."""
    from PIL import Image, ImageDraw, ImageFont

    initials = "".join(w[0] for w in re.findall(r"\w+", name)[:2]).upper() or "A"
    font = ImageFont.truetype(str(FALLBACK_FONTS["headline"]), 96)
    small = ImageFont.truetype(str(FALLBACK_FONTS["headline"]), 56)
    w = int(font.getlength(name)) + 200
    im = Image.new("RGBA", (w, 160), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((8, 8, 152, 152), fill=colour + (255,))
    d.text((80, 82), initials, font=small, fill=ink + (255,), anchor="mm")
    d.text((176, 80), name, font=font, fill=colour + (255,), anchor="lm")
    im = im.crop(im.getbbox())
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def scaffold(directory: str | Path, name: str) -> Path:
    """Create ``directory`` with ``brand/brand.yaml``, ``brand/logo.png`` and ``brief.yaml``."""
    directory = Path(directory)
    if not name.strip() or any(c in name for c in "\n\r\"\\"):
        raise UsageError("--name must be one line without quotes or backslashes")
    root = OutRoot(directory).ensure(option="")  # a file, under a file, unwritable: exit 2
    if any(directory.iterdir()):
        raise UsageError(f"{directory} exists and is not empty; choose a new folder")
    root.write_text("brand/brand.yaml", BRAND_YAML.format(name=name))
    root.write_bytes("brand/logo.png", make_logo(name))
    root.write_bytes("brand/logo-on-dark.png", make_logo(name, (255, 255, 255), (45, 58, 140)))
    root.write_text("brief.yaml", BRIEF_YAML.format(name=name))
    return directory / "brief.yaml"
