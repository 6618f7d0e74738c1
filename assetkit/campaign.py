"""A campaign = brief + its brand kit + its pipeline, loaded and cross-checked together."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .brand import BrandKit, load_brand
from .brief import Brief
from .errors import ConfigError, Problem
from .pipeline import Pipeline, find_pipeline, load_pipeline
from .yamlfile import YamlDoc, load_yaml, validate


@dataclass
class Campaign:
    """Everything a run needs, validated: the brief, its brand kit and its pipeline."""

    brief: Brief
    brand: BrandKit
    pipeline: Pipeline
    doc: YamlDoc  # the brief's YAML, for positions in cross-file messages


def _named_here(doc, field: str, exc: ConfigError) -> list[Problem]:
    """A referenced file's problems; one about the file as a whole (not a regular file, not
    found, empty) is also pointed at where the brief names it (``brand:``, ``pipeline:``)."""
    out = []
    for p in exc.problems:
        if p.line is None and not p.loc:
            here = doc.problem((field,), f"{p.file}: {p.message}")
            out.append(here)
        else:
            out.append(p)
    return out


def load_campaign(brief_path: str | Path, pipeline: str | None = None, fit: bool = True,
                  max_side: int | None = None) -> Campaign:
    """Load a brief with its brand kit and pipeline; every problem of every file at once.

    ``pipeline`` overrides the brief's pipeline (a built-in name or a path). With ``fit``
    the copy is measured against every format (copy that cannot fit is an error).
    """
    brief_path = Path(brief_path)
    doc = load_yaml(brief_path)
    brief = validate(doc, Brief, {"path": brief_path})
    problems: list[Problem] = size_problems(doc, brief, max_side)
    brand = pipe = None
    try:
        brand = load_brand(brief.brand_path())
    except ConfigError as exc:
        problems.extend(_named_here(doc, "brand", exc))
    ref = pipeline or brief.pipeline
    try:
        path = find_pipeline(ref, brief.base_dir if pipeline is None else Path.cwd())
        if not path.exists():
            raise ValueError(f"pipeline file not found: {ref}")
        pipe = load_pipeline(path)
    except ValueError as exc:
        if pipeline is None:
            problems.append(doc.problem(("pipeline",), str(exc)))
        else:
            problems.append(Problem("--pipeline", None, None, "", str(exc)))
    except ConfigError as exc:
        problems.extend(_named_here(doc, "pipeline", exc) if pipeline is None else exc.problems)
    if brand is not None:
        problems.extend(brand_problems(doc, brief, brand))
        glyphs = glyph_problems(doc, brief, brand)
        problems.extend(glyphs)
        fit = fit and not glyphs  # text the fonts cannot draw is not measured
        problems.extend(length_problems(doc, brief, brand, pipe))
        if fit and pipe is not None:
            problems.extend(fit_problems(doc, brief, brand, pipe))
    if problems or brand is None or pipe is None:
        raise ConfigError(problems)
    return Campaign(brief, brand, pipe, doc)


def size_problems(doc: YamlDoc, brief: Brief, max_side: int | None = None) -> list[Problem]:
    """Custom formats with a side over ``max_side`` (the settings' ``runs.max_side``)."""
    from .formats import DEFAULT_MAX_SIDE

    limit = max_side or DEFAULT_MAX_SIDE
    out = []
    for i, fmt in enumerate(brief.ad_formats()):
        if fmt.platform == "custom" and max(fmt.width, fmt.height) > limit:
            out.append(doc.problem(("formats", i), f"custom size {fmt.name} has a side over {limit:,} pixels "
                                   "(runs.max_side in assetkit.yaml; memory grows with the square of the side)"))
    return out


def brand_problems(doc: YamlDoc, brief: Brief, brand: BrandKit) -> list[Problem]:
    """Copy that breaks the brand's voice: banned words, missing required disclaimers."""
    out = []
    for locale, copy in brief.copy.items():
        for loc, _field, text in copy_texts(locale, copy):
            for word in brand.voice.banned_words:
                if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
                    out.append(doc.problem(loc, f"uses the banned word {word!r} (brand voice of {brand.name})"))
        if brand.voice.disclaimer_required and not (copy.disclaimer or brand.voice.disclaimer.get(locale)):
            out.append(doc.problem(("copy", locale), f"the brand requires a disclaimer: add 'disclaimer' here "
                                   f"or in the brand kit's voice.disclaimer.{locale}"))
    return out


def glyph_problems(doc: YamlDoc, brief: Brief, brand: BrandKit) -> list[Problem]:
    """Characters of the copy that the font drawing them does not have (read from its cmap):
    at the copy's position, naming the characters, the font and the locale."""
    from .brand import COPY_FONT_ROLE
    from .typeface import describe_chars, missing_glyphs, scripts_in, suggest_script_key

    out = []
    brand_doc = None
    for locale, copy in brief.copy.items():
        full = effective_copy(brand, copy, locale)
        texts = copy_texts(locale, full)
        for loc, field, text in texts:
            role = COPY_FONT_ROLE[field]
            for path, chars in missing_glyphs(text, brand.font_stack(role, locale)).items():
                key = suggest_script_key(scripts_in("".join(chars)))
                fix = (f"add a font that has them under the brand kit's fonts.scripts ({key}: fonts/your-font.otf)"
                       if key else f"use a {role} font that has them")
                msg = (f"{len(chars)} character(s) in {locale} are not in the font that draws them "
                       f"({_font_name(path, brand)}, {role} font): {describe_chars(chars)}; {fix}")
                if len(loc) > 3 or getattr(copy, field, None):
                    out.append(doc.problem(loc, msg))
                else:  # the brand kit's own disclaimer
                    if brand_doc is None:
                        brand_doc = load_yaml(brief.brand_path())
                    out.append(brand_doc.problem(("voice", "disclaimer", locale), msg))
    return out


def copy_texts(locale: str, copy) -> list[tuple[tuple, str, str]]:
    """``(position in the brief, field, text)`` of every non-empty copy string of a locale,
    its per-format overrides included."""
    out: list[tuple[tuple, str, str]] = []
    for field in ("headline", "subline", "cta", "disclaimer"):
        if getattr(copy, field):
            out.append((("copy", locale, field), field, getattr(copy, field)))
    for key, override in copy.formats.items():
        for field in ("headline", "subline", "cta", "disclaimer"):
            if getattr(override, field):
                out.append((("copy", locale, "formats", key, field), field, getattr(override, field)))
    return out


def _font_name(path: str, brand: BrandKit) -> str:
    p = Path(path)
    try:
        return str(p.relative_to(brand.root))
    except ValueError:
        return p.name


def fit_problems(doc: YamlDoc, brief: Brief, brand: BrandKit, pipe: Pipeline) -> list[Problem]:
    """Copy that cannot fit a format even at the minimum font size (measured, not rendered)."""
    step = pipe.step("compose")
    if step is None:
        return []
    from .layout import LayoutParams
    from .layout import fit_problems as measure

    assert isinstance(step.params, LayoutParams)

    out = []
    for locale, written in brief.copy.items():
        copy = effective_copy(brand, written, locale)
        for fmt in brief.ad_formats():
            key = written.override_key(fmt)
            for field, message in measure(brand, copy.for_format(fmt), fmt, step.params, locale=locale):
                if key is not None and getattr(written.formats[key], field, None):
                    loc: tuple = ("copy", locale, "formats", key, field)
                elif getattr(written, field, None):
                    loc = ("copy", locale, field)
                else:
                    loc = ("copy", locale)
                out.append(doc.problem(loc, message))
    return out


def length_problems(doc: YamlDoc, brief: Brief, brand: BrandKit, pipe: Pipeline | None) -> list[Problem]:
    """Copy over a platform's character limit (``copy-length`` at error severity), once per copy
    string with the formats it is too long for."""
    from .layout import copy_over_limits
    from .rules import severity_of

    step = pipe.step("check") if pipe is not None else None
    if severity_of("copy-length", brand.checks.severity, getattr(getattr(step, "params", None), "severity", None)) \
            != "error":
        return []
    found: dict[tuple, list[str]] = {}
    for locale, written in brief.copy.items():
        for fmt in brief.ad_formats():
            key = written.override_key(fmt)
            for over in copy_over_limits(brand, written.for_format(fmt), fmt):
                if key is not None and getattr(written.formats[key], over.field, None):
                    loc: tuple = ("copy", locale, "formats", key, over.field)
                else:
                    loc = ("copy", locale, over.field)
                found.setdefault((loc, over), []).append(fmt.name)
    return [doc.problem(loc, f"{over.describe()} ({', '.join(names)}): shorten it by {over.length - over.limit}, "
                             f"give those formats their own words (copy.{loc[1]}.formats.<format>: "
                             f"{{{over.field}: ...}}) or raise the kit's checks.max_chars")
            for (loc, over), names in found.items()]


def effective_copy(brand: BrandKit, copy, locale: str):
    """The brief's copy with the brand's disclaimer filled in where the brief has none."""
    if copy.disclaimer is None and brand.voice.disclaimer.get(locale):
        return copy.model_copy(update={"disclaimer": brand.voice.disclaimer[locale]})
    return copy
