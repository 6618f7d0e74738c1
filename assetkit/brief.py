"""Campaign briefs: concepts, copy per locale, formats and variants."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .config_base import StrictModel
from .errors import FieldError
from .files import check_file, check_image, resolve_ref
from .formats import AdFormat, resolve_format
from .provenance.licenses import Usage
from .yamlfile import load_model

#: Ids become folder and file names: letters, digits, '-' and '_' only (nothing can escape --out).
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_id(value: str, what: str) -> str:
    if not SAFE_ID.match(value):
        raise ValueError(f"{what} {value!r} becomes a file name: use letters, digits, '-' and '_' only "
                         "(1–64 characters, starting with a letter or digit)")
    return value


def check_locale(value: str) -> str:
    from babel import Locale, UnknownLocaleError

    if not re.match(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2}|-\d{3})?$", value):
        raise ValueError(f"locale {value!r} is not a language tag like en-US, de-DE, fr-FR or pt-BR")
    try:
        Locale.parse(value, sep="-")
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"unknown locale {value!r}; use a language tag like en-US, de-DE, fr-FR or pt-BR") from None
    return value


def _format_name(value: str) -> str:
    resolve_format(value)
    return value


LocaleTag = Annotated[str, AfterValidator(check_locale)]
FormatName = Annotated[str, AfterValidator(_format_name)]


FORMAT_CLASSES = ("social", "display", "video", "print")


class CopyOverride(StrictModel):
    """Other words for one format (or format class) of a locale: short strips like 320×50."""

    headline: str | None = Field(None, min_length=1, max_length=200)
    subline: str | None = Field(None, max_length=300)
    cta: str | None = Field(None, max_length=40)
    disclaimer: str | None = Field(None, max_length=400)


class Copy(StrictModel):
    """The words of one locale. Empty optional fields are left out of the layout. ``formats``
    overrides them for a format name or a format class (``display``); the name wins."""

    headline: str = Field(min_length=1, max_length=200)
    subline: str | None = Field(None, max_length=300)
    cta: str | None = Field(None, max_length=40)
    disclaimer: str | None = Field(None, max_length=400)
    #: Who wrote this locale's copy: ``agency`` (bought; no translation saving, the default),
    #: ``in-house`` or ``machine`` (a translation the agency would have charged for).
    source: Literal["agency", "in-house", "machine"] = "agency"
    formats: dict[str, CopyOverride] = {}

    def words(self) -> int:
        return sum(len((t or "").split()) for t in (self.headline, self.subline, self.cta, self.disclaimer))

    def override_key(self, fmt: AdFormat) -> str | None:
        """Which ``formats`` key applies to ``fmt`` (its name, else its class), if any."""
        for key in (fmt.name, fmt.format_class):
            if key in self.formats:
                return key
        return None

    def for_format(self, fmt: AdFormat) -> Copy:
        """The copy as drawn on ``fmt``: the locale's words with that format's overrides."""
        base = self.model_copy(update={"formats": {}}) if self.formats else self
        key = self.override_key(fmt)
        if key is None:
            return base
        return base.model_copy(update=self.formats[key].model_dump(exclude_none=True))


#: the longest picture description a concept may give (WCAG practice: short; ad managers cut longer)
ALT_MAX = 250


class Concept(StrictModel):
    """One creative idea: a prompt, optional reference image (img2img) or product packshot."""

    id: str
    prompt: str = Field(min_length=1)
    negative: str | None = None
    image: str | None = None
    product: str | None = None
    focal: tuple[float, float] | None = None
    variants: int | None = Field(None, ge=1, le=32)
    alt: str | dict[str, str] | None = None
    """What the picture shows, for screen readers and ad managers (the delivery's alt text, before
    the ad's words): one text in the source locale, or one per locale (``{de-DE: ...}``). A
    locale without one gets the ad's words and the concept's name."""

    @field_validator("alt")
    @classmethod
    def _alt(cls, v: str | dict[str, str] | None) -> str | dict[str, str] | None:
        for text in ([v] if isinstance(v, str) else list((v or {}).values())):
            if not text.strip():
                raise ValueError("alt text is empty; describe what the picture shows, or leave alt out")
            if len(text) > ALT_MAX:
                raise ValueError(f"alt text is {len(text)} characters; keep it to {ALT_MAX} (screen readers "
                                 "read all of it; say what the picture shows, the ad's words are added)")
        return v

    def alt_for(self, locale: str, source_locale: str) -> str | None:
        """This concept's picture description in ``locale``, if the brief gives one."""
        if isinstance(self.alt, dict):
            return self.alt.get(locale)
        return self.alt if locale == source_locale else None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_id(v, "concept id")

    @field_validator("image", "product")
    @classmethod
    def _img(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            check_image(v, (info.context or {}).get("base_dir"), need_alpha=info.field_name == "product")
        return v

    @field_validator("focal")
    @classmethod
    def _focal(cls, v):
        if v is not None and not all(0 <= c <= 1 for c in v):
            raise ValueError("focal point is [x, y] as fractions of the image, each between 0 and 1")
        return v


class Brief(StrictModel):
    """A campaign brief as loaded from YAML; ``path`` is where it came from."""

    version: Literal[1]
    campaign: str
    name: str | None = None
    brand: str
    pipeline: str = "social-campaign"
    model: str | None = None
    quote: str | None = None
    usage: Usage | None = Field(None, description="commercial, internal or research (default: settings' usage); "
                                                  "decides which model licences are allowed")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    variants: int = Field(2, ge=1, le=32)
    formats: list[FormatName] = Field(min_length=1)
    source_locale: str | None = None
    copy_: dict[LocaleTag, Copy] = Field(alias="copy", min_length=1)
    concepts: list[Concept] = Field(min_length=1)
    path: Path = Field(default=Path("brief.yaml"), exclude=True)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("campaign")
    @classmethod
    def _campaign(cls, v: str) -> str:
        return check_id(v, "campaign id")

    @field_validator("brand")
    @classmethod
    def _brand(cls, v: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        p = resolve_ref(v, base)
        check_file(v if not p.is_dir() else str(Path(v) / "brand.yaml"), base)
        return v

    @field_validator("formats")
    @classmethod
    def _formats(cls, v: list[str]) -> list[str]:
        dupes = sorted({n for n in v if v.count(n) > 1})
        if dupes:
            raise ValueError(f"format listed twice: {', '.join(dupes)}")
        return v

    @model_validator(mode="after")
    def _cross(self, info: ValidationInfo) -> Brief:
        ids = [c.id for c in self.concepts]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:  # reported at the second use of the first repeated id
            at = [n for n, i in enumerate(ids) if i == dupes[0]][1]
            raise FieldError(("concepts", at, "id"), f"concept ids must be unique; repeated: {', '.join(dupes)}")
        for locale, copy in self.copy_.items():
            unknown = [k for k in copy.formats if k not in self.formats and k not in FORMAT_CLASSES]
            if unknown:
                raise FieldError(("copy", locale, "formats", unknown[0]),
                                 f"{', '.join(map(repr, unknown))} is not a format of this "
                                 f"brief nor a format class; use one of {', '.join(self.formats)} or "
                                 f"{', '.join(FORMAT_CLASSES)}")
        for n, concept in enumerate(self.concepts):
            strange = [k for k in (concept.alt if isinstance(concept.alt, dict) else {}) if k not in self.copy_]
            if strange:
                raise FieldError(("concepts", n, "alt", strange[0]), f"{strange[0]!r} is not a locale of this "
                                 f"brief; alt text is given per locale with copy: {', '.join(self.copy_)}")
        if self.source_locale is not None and self.source_locale not in self.copy_:
            raise FieldError(("source_locale",), f"{self.source_locale!r} has no copy; locales with copy: "
                             f"{', '.join(self.copy_)}")
        ctx = info.context or {}
        if "path" in ctx:
            object.__setattr__(self, "path", Path(ctx["path"]))
        return self

    # -- derived ------------------------------------------------------------------------
    @property
    def copy(self) -> dict[str, Copy]:  # type: ignore[override]
        return self.copy_

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def locales(self) -> list[str]:
        return list(self.copy_)

    @property
    def source(self) -> str:
        return self.source_locale or self.locales[0]

    def ad_formats(self) -> list[AdFormat]:
        return [resolve_format(n) for n in self.formats]

    def brand_path(self) -> Path:
        p = resolve_ref(self.brand, self.base_dir)
        return p / "brand.yaml" if p.is_dir() else p

    def variants_of(self, concept: Concept) -> int:
        return concept.variants or self.variants

    def concept_path(self, value: str | None) -> Path | None:
        return resolve_ref(value, self.base_dir) if value else None


def count_of(count: int, word: str) -> str:
    """'1 concept', '2 concepts'."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def describe_shape(brief, locales=None) -> str:
    """'2 concepts × 2 variants × 8 formats × 2 locales' (each concept's variants when they
    differ; the locales only when given)."""
    variants = [brief.variants_of(c) for c in brief.concepts]
    each = (count_of(variants[0], "variant") if len(set(variants)) == 1
            else "(" + " + ".join(map(str, variants)) + " variants)")
    shape = f"{count_of(len(brief.concepts), 'concept')} × {each} × {count_of(len(brief.formats), 'format')}"
    return shape if locales is None else f"{shape} × {count_of(len(locales), 'locale')}"


def load_brief(path: str | Path) -> Brief:
    """Load and validate a brief (not yet its brand or pipeline: see ``campaign.load_campaign``)."""
    brief, _ = load_model(path, Brief, {"path": Path(path)})
    return brief
