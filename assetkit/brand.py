"""Brand kits: ``brand/<slug>/brand.yaml`` — palette, fonts, logo, style and voice."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .files import check_font, check_image, resolve_ref, sha256_file
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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    v = value.lstrip("#")
    if len(v) == 3:
        v = "".join(c * 2 for c in v)
    return int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)


def _base(info: ValidationInfo) -> Path | None:
    return (info.context or {}).get("base_dir")


ScriptCode = Annotated[str, AfterValidator(check_script_code)]


class Fonts(Strict):
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


class Logo(Strict):
    """The logo: a PNG with alpha, where it goes, how small it may get and its clear space."""

    file: str
    placement: Literal["top-left", "top-right", "bottom-left", "bottom-right",
                       "top-center", "bottom-center"] = "top-left"
    min_width: int = Field(48, ge=8, le=2000, description="smallest logo width in pixels")
    width: float = Field(0.18, gt=0, le=0.5, description="preferred width as a fraction of the format's short side")
    clear_space: float = Field(0.5, ge=0, le=3, description="clear space around the logo, × logo height")

    @field_validator("file")
    @classmethod
    def _logo_ok(cls, v: str, info: ValidationInfo) -> str:
        check_image(v, _base(info), need_alpha=True)
        return v


class Style(Strict):
    """Prompt keywords added to every concept; negative keywords; optional style LoRA."""

    keywords: list[str] = []
    negative: list[str] = []
    lora: str | None = None
    lora_weight: float = Field(0.8, ge=0, le=2)
    corner_radius: float = Field(0.5, ge=0, le=1, description="CTA button roundness, 0 square to 1 pill")


class Voice(Strict):
    """Words the brand never uses and the disclaimer its ads must carry (per locale)."""

    banned_words: list[str] = []
    disclaimer: dict[str, str] = {}
    disclaimer_required: bool = False


class BrandKit(Strict):
    """A brand kit as loaded from ``brand.yaml`` (paths are kept as written, resolved via ``root``)."""

    version: Literal[1]
    name: str = Field(min_length=1)
    palette: dict[str, HexColour]
    fonts: Fonts = Fonts()
    logo: Logo | None = None
    style: Style = Style()
    voice: Voice = Voice()
    root: Path = Field(default=Path("."), exclude=True)

    @field_validator("palette")
    @classmethod
    def _palette(cls, v: dict[str, str]) -> dict[str, str]:
        missing = [r for r in REQUIRED_ROLES if r not in v]
        if missing:
            raise ValueError(f"palette needs the roles {', '.join(REQUIRED_ROLES)}; missing: {', '.join(missing)}")
        return v

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
        return FontStack(str(self.font_path(role)), scripts, locale if scripts else None)

    def logo_path(self) -> Path | None:
        return resolve_ref(self.logo.file, self.root) if self.logo else None

    def files(self) -> list[Path]:
        """Every file the kit refers to (for content hashing)."""
        out = [self.font_path(r) for r in ("headline", "body", "cta")]
        out += [resolve_ref(v, self.root) for v in self.fonts.scripts.values()]
        logo = self.logo_path()
        if logo is not None:
            out.append(logo)
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
