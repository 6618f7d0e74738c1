"""The brand-safety rules: every check has an id, a default severity and the fix it asks for.

The kit (``checks.severity``) and the pipeline's check step (``severity``) may set a rule to
``error``, ``warning`` or ``off``; the run fails on errors and names rule, assets and fix.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "off"]


@dataclass(frozen=True)
class Rule:
    """One check: what it asks of every asset and how to fix a finding."""

    id: str
    severity: Severity
    title: str
    fix: str


RULES: dict[str, Rule] = {r.id: r for r in [
    Rule("glyphs", "error", "every character of the copy is in the font that draws it",
         "add a font that has them under the kit's fonts.scripts"),
    Rule("font-file", "error", "fonts are real TrueType/OpenType files of the kit",
         "point fonts.* at a .ttf/.otf file in the kit"),
    Rule("required-element", "error", "headline, CTA and a required disclaimer are on every asset",
         "shorten the copy or give a per-format override: copy.<locale>.formats.<format>: {headline, cta}"),
    Rule("logo-contrast", "error", "the logo measures ≥ 3:1 against the pixels behind it (WCAG 1.4.11)",
         "add a logo version for that background (logo.on_dark / logo.default), set logo.allow_recolour, or let "
         "a plate back it (logo.plate: auto or always)"),
    Rule("logo-size", "error", "the logo is at least its minimum size for the format class",
         "raise logo.width or lower checks.min_logo_px for the class"),
    Rule("logo-clear-space", "error", "no copy inside the logo's clear space", "shorten the copy"),
    Rule("text-contrast", "error", "text and CTA label measure ≥ 4.5:1 on the pixels behind them",
         "add a palette colour that contrasts with the background (text / light), or a darker CTA colour"),
    Rule("text-size", "error", "text is at least the minimum legible size for the format class",
         "shorten the copy for that format (copy.<locale>.formats.<format>) or lower checks.min_text_px"),
    Rule("safe-zone", "error", "logo and copy stay inside the platform's safe zone", "report this layout bug"),
    Rule("overlap", "error", "no element covers another", "report this layout bug"),
    Rule("copy-length", "error", "each copy field is within the platform's character limit for it",
         "shorten it, give the format its own words (copy.<locale>.formats.<format or platform class>) or set "
         "the kit's checks.max_chars"),
    Rule("banned-word", "error", "the copy uses none of the brand's banned words", "reword the copy"),
    Rule("file-weight", "error", "the file is within the format's weight limit",
         "use export format jpeg/webp, lower quality, or raise checks.max_bytes for the class"),
    Rule("palette", "warning", "the image's dominant colours are near the brand palette (ΔE2000)",
         "steer the prompt or style keywords towards the palette, or raise checks.palette_delta_e"),
    Rule("dropped", "warning", "optional copy (subline, disclaimer) fits every format",
         "shorten it or give a per-format override"),
    Rule("covers-product", "error", "copy never covers a packshot's product",
         "shorten the copy, give the format its own words (copy.<locale>.formats.<format>) or move the "
         "product (concept focal)"),
]}


def severity_of(rule: str, *overrides: Mapping[str, str] | None) -> Severity:
    """A rule's severity: its default, then each mapping in ``overrides`` (later wins)."""
    level: str = RULES[rule].severity if rule in RULES else "error"
    for o in overrides:
        if o and rule in o:
            level = o[rule]
    return level  # type: ignore[return-value]


def check_rule_id(value: str) -> str:
    from .typeface import check_name

    return check_name(value, RULES, "check", "checks")


def summarise(findings: list[dict]) -> list[dict]:
    """Findings (``{"asset", "check", "level", "message"}``) per rule and level: how many, which
    assets, the fix; errors first."""
    groups: dict[tuple[str, str], dict] = {}
    seen: dict[tuple[str, str], set] = {}  # a set beside each list: 25k findings of a rule stay linear
    for f in findings:
        k = (f["check"], f["level"])
        g = groups.get(k)
        if g is None:
            g = groups[k] = {"rule": f["check"], "level": f["level"], "count": 0, "assets": [],
                             "example": f["message"]}
            seen[k] = set()
        g["count"] += 1
        if f["asset"] not in seen[k]:
            seen[k].add(f["asset"])
            g["assets"].append(f["asset"])
    out = sorted(groups.values(), key=lambda g: (g["level"] != "error", g["rule"]))
    for g in out:
        g["fix"] = RULES[g["rule"]].fix if g["rule"] in RULES else ""
    return out


def format_summary(summary: list[dict], limit: int = 4) -> str:
    """The per-rule summary as lines for the terminal."""
    lines = []
    for g in summary:
        assets = ", ".join(g["assets"][:limit]) + (f" and {len(g['assets']) - limit} more"
                                                   if len(g["assets"]) > limit else "")
        lines.append(f"  {g['rule']} ({g['level']}): {g['count']} on {len(g['assets'])} asset(s): {assets}")
        lines.append(f"    e.g. {g['example']}")
        if g["fix"]:
            lines.append(f"    fix: {g['fix']}")
    return "\n".join(lines)
