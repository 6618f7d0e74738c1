"""Brand kits: ``brand/<slug>/brand.yaml`` — palette, fonts, logo, style and voice."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .config_base import StrictModel
from .errors import FieldError
from .files import check_font, check_image, load_image, resolve_ref, sha256_file
from .rules import check_rule_id
from .typeface import FontStack, check_script_code
from .yamlfile import load_model

HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
FONTS_DIR = Path(__file__).parent / "fonts"
FALLBACK_FONTS = {"headline": FONTS_DIR / "DejaVuSans-Bold.ttf", "body": FONTS_DIR / "DejaVuSans.ttf"}
REQUIRED_ROLES = ("primary", "background", "text")
#: which font role draws each copy field
COPY_FONT_ROLE = {"headline": "headline", "subline": "body", "disclaimer": "body", "cta": "cta"}


def _hex(value: str) -> str:
    if not HEX.match(value):
        raise ValueError(f"{value!r} is not a hex colour like '#1B3A4B'")
    return value


HexColour = Annotated[str, AfterValidator(_hex)]


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    v = value.lstrip("#")
    if len(v) == 3:
        v = "".join(c * 2 for c in v)
    return int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)


def _base(info: ValidationInfo) -> Path | None:
    return (info.context or {}).get("base_dir")


ScriptCode = Annotated[str, AfterValidator(check_script_code)]


class Fonts(StrictModel):
    """Font files (TTF/OTF/TTC) relative to the kit; missing roles fall back to bundled DejaVu Sans.
    ``scripts`` maps ISO 15924 codes (``Jpan``, ``Arab``, ``Hebr``...) to the font that draws runs
    of that script in every role."""

    headline: str | None = None
    body: str | None = None
    cta: str | None = None
    scripts: dict[ScriptCode, str] = {}

    @field_validator("headline", "body", "cta")
    @classmethod
    def _font_exists(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            check_font(v, _base(info))
        return v

    @field_validator("scripts")
    @classmethod
    def _script_fonts(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for path in v.values():
            check_font(path, _base(info))
        return v


class Logo(StrictModel):
    """The logo: its versions (PNGs with alpha), where it goes, how small it may get and its clear
    space. The layout draws the version with the best measured contrast on each background."""

    default: str | None = None
    """The logo for light backgrounds (``file`` is the older name for it)."""
    file: str | None = None
    on_dark: str | None = None
    """The brand's own version for dark backgrounds."""
    mono: str | None = None
    """Optional one-colour version."""
    allow_recolour: bool = False
    """Also try the logo in the palette's colours (only for a single-colour logo)."""
    plate: Literal["auto", "always", "never"] = "auto"
    """A backing plate behind the logo: ``auto`` only when no version reaches the logo contrast
    (its opacity raised until one does), ``always`` a solid plate on every asset, ``never`` none
    (the ``logo-contrast`` check then fails an asset whose logo does not stand out)."""
    plate_colour: str | None = None
    """The plate's palette role (default: ``background`` behind dark ink, ``primary`` behind light)."""
    placement: Literal["top-left", "top-right", "bottom-left", "bottom-right",
                       "top-center", "bottom-center"] = "top-left"
    min_width: int = Field(48, ge=8, le=2000, description="smallest logo width in pixels")
    width: float = Field(0.18, gt=0, le=0.5, description="preferred width as a fraction of the format's short side")
    clear_space: float = Field(0.5, ge=0, le=3, description="clear space around the logo, × logo height")

    @field_validator("default", "file", "on_dark", "mono")
    @classmethod
    def _logo_ok(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            check_image(v, _base(info), need_alpha=True, png=True)
        return v

    @model_validator(mode="after")
    def _versions(self, info: ValidationInfo) -> Logo:
        if self.default is None and self.file is None:
            raise ValueError("the logo needs its default version: 'default: logo.png' (and 'on_dark: ...')")
        if self.default is not None and self.file is not None:
            raise FieldError(("file",), "give the logo as 'default' or as 'file', not both")
        if self.allow_recolour:
            colours = logo_colours(resolve_ref(self.main, _base(info)))
            if colours > 1:
                raise FieldError(("allow_recolour",), f"the logo has {colours} colours; only a single-colour "
                                 "logo may be recoloured — give the brand's own 'on_dark' version instead")
        return self

    @property
    def main(self) -> str:
        return self.default or self.file or ""

    def versions(self) -> dict[str, str]:
        """``{version name: file}`` of the versions the kit gives."""
        out = {"default": self.main}
        if self.on_dark:
            out["on_dark"] = self.on_dark
        if self.mono:
            out["mono"] = self.mono
        return out


def logo_colours(path: Path) -> int:
    """How many distinct colours the logo's opaque pixels have (ΔE2000 > 10 apart, ignoring
    anti-aliased edges)."""
    import numpy as np

    arr = np.asarray(load_image(path, "RGBA"))
    rgb = arr[..., :3][arr[..., 3] >= 250]
    if rgb.size == 0:
        return 0
    q = (rgb // 16).astype(np.int32)
    keys, counts = np.unique(q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2], return_counts=True)
    major = keys[counts >= max(8, 0.02 * len(rgb))]
    reps = [(int(k // 256) * 16 + 8, int(k // 16 % 16) * 16 + 8, int(k % 16) * 16 + 8) for k in major]
    from .colour import delta_e

    groups: list[tuple[int, int, int]] = []
    for c in reps:
        if all(delta_e(c, g) > 10 for g in groups):
            groups.append(c)
    return len(groups)


class Style(StrictModel):
    """Prompt keywords added to every concept; negative keywords; optional style LoRA."""

    keywords: list[str] = []
    negative: list[str] = []
    lora: str | None = None
    lora_weight: float = Field(0.8, ge=0, le=2)
    corner_radius: float = Field(0.5, ge=0, le=1, description="CTA button roundness, 0 square to 1 pill")


class Voice(StrictModel):
    """Words the brand never uses and the disclaimer its ads must carry (per locale)."""

    banned_words: list[str] = []
    disclaimer: dict[str, str] = {}
    disclaimer_required: bool = False


FormatClass = Literal["social", "display", "video", "print"]
MinPx = Annotated[int, Field(ge=1, le=1000)]
#: defaults per format class (display sizes at 1×)
MIN_TEXT_PX = {"display": 11, "social": 16, "video": 16, "print": 16}
MIN_HEADLINE_PX = {"display": 14, "social": 32, "video": 32, "print": 24}
MIN_LOGO_PX = {"display": 20, "social": 40, "video": 40, "print": 40}
_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "KIB": 1024, "MIB": 1024**2}


def parse_bytes(value: object) -> int:
    """``150KB`` / ``1.5 MB`` / ``153600`` → bytes (KB = 1000 bytes, KiB = 1024); positive only."""
    if isinstance(value, bool):
        raise ValueError("expected a file size like 150KB")
    if isinstance(value, (int, float)):
        n = float(value)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KkMm]i?[Bb]|[Bb])?\s*", str(value))
        if not m:
            raise ValueError(f"{value!r} is not a file size like 150KB or 30MB")
        n = float(m.group(1)) * _UNITS[(m.group(2) or "").upper()]
    if n <= 0:
        raise ValueError(f"a file-weight limit must be a positive size, got {value!r}")
    return int(n)


ByteSize = Annotated[int, BeforeValidator(parse_bytes)]
MaxChars = Annotated[int, Field(ge=1, le=10000)]


class Checks(StrictModel):
    """How strict the brand's checks are: severity per rule id and the limits they measure."""

    severity: dict[Annotated[str, AfterValidator(check_rule_id)], Literal["error", "warning", "off"]] = {}
    """Rule id → error / warning / off (see ``assetkit steps`` for the ids)."""
    min_text_px: dict[FormatClass, MinPx] = {}
    """Smallest subline / CTA / disclaimer size per format class (default display 11, social 16)."""
    min_headline_px: dict[FormatClass, MinPx] = {}
    """Smallest headline size per format class (default display 14, social 32)."""
    min_logo_px: dict[FormatClass, MinPx] = {}
    """Smallest logo height per format class (default display 20, social 40)."""
    max_bytes: dict[str, ByteSize] = {}
    """File-weight limit per format class or format name (default: the format catalog's)."""
    max_chars: dict[str, dict[Literal["headline", "subline", "cta", "disclaimer"], MaxChars]] = {}
    """Copy-length limits (characters) per platform (``Meta``), format class or format name, over
    the catalog's platform limits (``assetkit formats``); the format name wins, then class, then platform."""
    palette_delta_e: float = Field(25.0, gt=0, le=100)
    """Warn when a dominant colour of the picture is further than this (ΔE2000) from every palette colour."""
    min_logo_contrast: float = Field(3.0, ge=1, le=21)

    def weight_limit(self, fmt) -> int | None:
        """The file-weight limit of ``fmt`` in bytes: the kit's for its name, else its class, else the catalog's."""
        return self.max_bytes.get(fmt.name) or self.max_bytes.get(fmt.format_class) or fmt.max_bytes

    @field_validator("max_chars")
    @classmethod
    def _limit_keys(cls, v: dict[str, dict]) -> dict[str, dict]:
        from .formats import CATALOG, resolve_format

        platforms = sorted({f.platform for f in CATALOG.values()})
        for key in v:
            if key in platforms or key in ("social", "display", "video", "print"):
                continue
            try:
                resolve_format(key)
            except ValueError:
                raise ValueError(f"{key!r} is not a platform ({', '.join(platforms)}), a format class "
                                 "(social, display, video, print) or a format name") from None
        return v

    def copy_limits(self, fmt) -> dict[str, int]:
        """``{copy field: most characters}`` on ``fmt``: the catalog's platform limits, then the
        kit's for the platform, the format class and the format name (later wins)."""
        from .formats import COPY_LIMITS

        out = dict(COPY_LIMITS.get(fmt.platform, {}))
        for key in (fmt.platform, fmt.format_class, fmt.name):
            out.update({str(k): n for k, n in self.max_chars.get(key, {}).items()})
        return out

    def text_px(self, fmt_class: str) -> int:
        return self.min_text_px.get(fmt_class) or MIN_TEXT_PX.get(fmt_class, 11)  # type: ignore[call-overload]

    def headline_px(self, fmt_class: str) -> int:
        return self.min_headline_px.get(fmt_class) or MIN_HEADLINE_PX.get(fmt_class, 14)  # type: ignore[call-overload]

    def logo_px(self, fmt_class: str) -> int:
        return self.min_logo_px.get(fmt_class) or MIN_LOGO_PX.get(fmt_class, 20)  # type: ignore[call-overload]


class BrandKit(StrictModel):
    """A brand kit as loaded from ``brand.yaml`` (paths are kept as written, resolved via ``root``)."""

    version: Literal[1]
    name: str = Field(min_length=1)
    palette: dict[str, HexColour]
    fonts: Fonts = Fonts()
    logo: Logo | None = None
    style: Style = Style()
    voice: Voice = Voice()
    cta_colour: str = "accent"
    """The CTA button's fill: a palette role (or one of the palette's hex colours); never another colour."""
    checks: Checks = Checks()
    root: Path = Field(default=Path("."), exclude=True)

    @field_validator("palette")
    @classmethod
    def _palette(cls, v: dict[str, str]) -> dict[str, str]:
        missing = [r for r in REQUIRED_ROLES if r not in v]
        if missing:
            raise ValueError(f"palette needs the roles {', '.join(REQUIRED_ROLES)}; missing: {', '.join(missing)}")
        return v

    @field_validator("logo")
    @classmethod
    def _plate_in_palette(cls, v: Logo | None, info: ValidationInfo) -> Logo | None:
        palette = info.data.get("palette") or {}
        if v is not None and v.plate_colour is not None and v.plate_colour not in palette:
            raise ValueError(f"plate_colour {v.plate_colour!r} is not a palette role; use one of {', '.join(palette)}")
        return v

    @field_validator("cta_colour")
    @classmethod
    def _cta_in_palette(cls, v: str, info: ValidationInfo) -> str:
        palette = info.data.get("palette") or {}
        if v in palette or (HEX.match(v) and v.upper() in {c.upper() for c in palette.values()}):
            return v
        raise ValueError(f"{v!r} is not in the palette; use one of its roles "
                         f"({', '.join(palette)}) or colours")

    @model_validator(mode="after")
    def _root(self, info: ValidationInfo) -> BrandKit:
        base = _base(info)
        if base is not None:
            object.__setattr__(self, "root", Path(base))
        return self

    # -- derived ------------------------------------------------------------------------
    @property
    def slug(self) -> str:
        return self.root.name

    def colour(self, role: str, fallback: str = "primary") -> tuple[int, int, int]:
        return hex_to_rgb(self.palette.get(role) or self.palette[fallback])

    def font_path(self, role: str) -> Path:
        value = getattr(self.fonts, role, None)
        if role == "cta" and value is None:
            value = self.fonts.body or self.fonts.headline
            if value is None:
                return FALLBACK_FONTS["headline"]
        if value is None:
            return FALLBACK_FONTS["headline" if role == "headline" else "body"]
        return resolve_ref(value, self.root)

    def font_stack(self, role: str, locale: str | None = None) -> FontStack:
        """The font of ``role`` with the kit's per-script fonts (what draws that role's text)."""
        scripts = tuple((k, str(resolve_ref(v, self.root))) for k, v in self.fonts.scripts.items())
        return FontStack(str(self.font_path(role)), scripts, locale)

    def logo_path(self, version: str = "default") -> Path | None:
        """The file of a logo version (``default``, ``on_dark``, ``mono``)."""
        if self.logo is None:
            return None
        ref = self.logo.versions().get(version)
        return resolve_ref(ref, self.root) if ref else None

    def cta_fill(self) -> tuple[int, int, int]:
        """The CTA button colour: the kit's ``cta_colour`` (accent by default; primary if the
        palette has no accent)."""
        v = self.cta_colour
        if v in self.palette:
            return hex_to_rgb(self.palette[v])
        if HEX.match(v):
            return hex_to_rgb(v)
        return self.colour("primary")

    def text_colours(self) -> list[tuple[int, int, int]]:
        """Palette colours text may use, in order of preference (text, light, background, primary,
        then the rest): text never takes a colour from outside the palette."""
        order = ["text", "light", "background", "primary"] + [r for r in self.palette if r not in
                                                                ("text", "light", "background", "primary")]
        out: list[tuple[int, int, int]] = []
        for role in order:
            if role in self.palette and hex_to_rgb(self.palette[role]) not in out:
                out.append(hex_to_rgb(self.palette[role]))
        return out

    def files(self) -> list[Path]:
        """Every file the kit refers to (for content hashing)."""
        out = [self.font_path(r) for r in ("headline", "body", "cta")]
        out += [resolve_ref(v, self.root) for v in self.fonts.scripts.values()]
        if self.logo:
            out += [resolve_ref(v, self.root) for v in self.logo.versions().values()]
        return out

    def fingerprint(self) -> str:
        """A hash of everything in the kit that changes an output image."""
        import hashlib
        import json

        h = hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode())
        for f in self.files():
            h.update(sha256_file(f).encode())
        return h.hexdigest()


def load_brand(path: str | Path) -> BrandKit:
    """Load and validate a brand kit; ``path`` may be the YAML file or its folder."""
    path = Path(path)
    if path.is_dir():
        path = path / "brand.yaml"
    brand, _ = load_model(path, BrandKit)
    return brand
