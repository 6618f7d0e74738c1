"""Model licences: read from model cards, and the gate that refuses a model a campaign may not use.

A model card is the ``README.md`` beside the weights (a diffusers folder, the Hugging Face
snapshot, the folder of a ``.safetensors`` file or of a LoRA) with YAML front matter naming
``license:`` (an SPDX-like id; ``other`` with ``license_name:`` for a custom licence).

Every licence id assetkit knows is in :data:`CATALOG` with what it allows. The built-in
allowed lists per usage follow from it; ``licenses:`` in ``assetkit.yaml`` replaces a usage's
list, and ``allow_models:`` declares an exception for one model, with a reason that is recorded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..errors import AssetkitError

if TYPE_CHECKING:  # pragma: no cover
    from .config import LicensePolicy

Usage = Literal["commercial", "internal", "research"]
USAGES: tuple[str, ...] = ("commercial", "internal", "research")

#: The revenue limit of Stability AI's Community Licence (SD3, SD3.5): free commercial use only
#: for organisations with less than this annual revenue (USD).
STABILITY_REVENUE_LIMIT_USD = 1_000_000


Kind = Literal["commercial", "threshold", "noncommercial"]


@dataclass(frozen=True)
class LicenseInfo:
    """What a licence allows: ``commercial`` (any use), ``threshold`` (commercial use under a
    revenue limit) or ``noncommercial`` (research and personal use only)."""

    id: str
    title: str
    kind: Kind
    note: str = ""
    #: allows an organisation's non-production use (evaluation, tests, mock-ups and pitches that are
    #: not published or delivered): what ``usage: internal`` needs beyond the commercial licences
    internal: bool = False


_C: Kind = "commercial"
_T: Kind = "threshold"
_N: Kind = "noncommercial"
CATALOG: dict[str, LicenseInfo] = {i.id: i for i in [
    LicenseInfo("creativeml-openrail-m", "CreativeML Open RAIL-M (Stable Diffusion 1.x)", _C,
                "commercial use allowed under the licence's use restrictions"),
    LicenseInfo("openrail++", "CreativeML Open RAIL++-M (SDXL)", _C,
                "commercial use allowed under the licence's use restrictions"),
    LicenseInfo("openrail", "Open RAIL", _C),
    LicenseInfo("openrail-m", "Open RAIL-M", _C),
    LicenseInfo("bigscience-openrail-m", "BigScience Open RAIL-M", _C),
    LicenseInfo("apache-2.0", "Apache 2.0 (e.g. FLUX.1 [schnell])", _C),
    LicenseInfo("mit", "MIT", _C),
    LicenseInfo("bsd-3-clause", "BSD 3-Clause", _C),
    LicenseInfo("cc0-1.0", "CC0 1.0", _C),
    LicenseInfo("cc-by-4.0", "CC BY 4.0", _C),
    LicenseInfo("cc-by-sa-4.0", "CC BY-SA 4.0", _C),
    LicenseInfo("stabilityai-ai-community", "Stability AI Community Licence (SD3, SD3.5)", _T,
                f"commercial use only for organisations under USD {STABILITY_REVENUE_LIMIT_USD:,} annual revenue"),
    LicenseInfo("stabilityai-nc-research-community", "Stability AI Non-Commercial Research Community Licence", _N,
                "non-commercial and non-production use only", internal=True),
    LicenseInfo("sai-nc-community", "Stability AI Non-Commercial Community Licence (SD-Turbo, SDXL-Turbo)", _N,
                "non-commercial and non-production use only", internal=True),
    LicenseInfo("flux-1-dev-non-commercial-license", "FLUX.1 [dev] Non-Commercial Licence", _N,
                "companies may test and evaluate it in a non-production environment", internal=True),
    LicenseInfo("cc-by-nc-2.0", "CC BY-NC 2.0", _N),
    LicenseInfo("cc-by-nc-3.0", "CC BY-NC 3.0", _N),
    LicenseInfo("cc-by-nc-4.0", "CC BY-NC 4.0", _N),
    LicenseInfo("cc-by-nc-sa-4.0", "CC BY-NC-SA 4.0", _N),
    LicenseInfo("cc-by-nc-nd-4.0", "CC BY-NC-ND 4.0", _N),
]}


def default_allowed(usage: str) -> list[str]:
    """The built-in allowed licence ids of a usage.

    * ``commercial`` (published, delivered, paid work): the commercial licences and the
      revenue-threshold ones (checked against ``annual_revenue_usd``);
    * ``internal`` (inside the organisation, never published or delivered: tests, mock-ups,
      pitches): those, plus the non-commercial licences that allow an organisation's
      non-production use (FLUX.1 [dev], Stability's non-commercial community licences), not the
      CC BY-NC family (any use for commercial advantage is out); ``assetkit deliver`` refuses
      an internal campaign;
    * ``research``: every licence in the catalogue."""
    if usage == "research":
        return list(CATALOG)
    return [i.id for i in CATALOG.values() if i.kind in (_C, _T) or (usage == "internal" and i.internal)]


# ----------------------------------------------------------------------------------- model cards
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.DOTALL)


def card_license(folder: Path) -> str | None:
    """The licence id a model card (``folder/README.md``) declares: ``license:``, or
    ``license_name:`` when the licence is ``other``. None without a card or a licence."""
    readme = folder / "README.md"
    try:
        text = readme.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = _FRONT.match(text)
    if not m:
        return None
    from ruamel.yaml import YAML, YAMLError

    try:
        front = YAML(typ="safe").load(m.group(1))
    except YAMLError:
        return None
    if not isinstance(front, dict):
        return None
    lic, name = front.get("license"), front.get("license_name")
    if isinstance(lic, list):  # dual-licensed: the first id
        lic = lic[0] if lic else None
    lic = str(lic).strip().lower() if lic else None
    name = str(name).strip().lower() if name else None
    return name if lic in (None, "other") and name else lic


# ------------------------------------------------------------------------------------------ gate
@dataclass(frozen=True)
class ModelUse:
    """One model or LoRA a run uses, with its weights hash and licence (None: unknown)."""

    role: str  # "model" | "lora" | "tiny_vae"
    name: str
    path: str
    weights_sha256: str
    license: str | None

    def to_dict(self) -> dict:
        return {"role": self.role, "name": self.name, "weights_sha256": self.weights_sha256,
                "license": self.license}


class LicenseError(AssetkitError):
    """A model's licence does not allow the campaign's usage (and no exception is declared)."""

    exit_code = 2


def check_licenses(uses: list[ModelUse], usage: str, policy: LicensePolicy, campaign: str,
                   where: str) -> list[dict]:
    """Raise :class:`LicenseError` naming every model whose licence ``usage`` does not allow;
    returns the exceptions (``allow_models:`` entries) that were applied, for the manifest."""
    allowed = set(policy.allowed(usage))
    applied: list[dict] = []
    refused: list[str] = []
    first: ModelUse | None = None
    for use in uses:
        lic = use.license
        info = CATALOG.get(lic) if lic else None
        ok = lic is not None and lic in allowed
        why = ""
        if ok and info is not None and info.kind == _T and usage != "research":
            revenue = policy.annual_revenue_usd
            if revenue is None or revenue >= STABILITY_REVENUE_LIMIT_USD:
                ok = False
                why = (f"{info.note}; declare `annual_revenue_usd:` in {where} if your organisation is under "
                       "the limit")
        if ok:
            continue
        exception = policy.exception_for(use)
        if exception is not None:
            applied.append({"model": use.name, "role": use.role, "license": lic, "usage": usage,
                            "reason": exception.reason, "weights_sha256": use.weights_sha256})
            continue
        if not why:
            if lic is None:
                why = "its model card (README.md front matter `license:`) names no licence"
            elif info is None:
                why = f"licence {lic!r} is not one assetkit knows"
            elif usage == "internal" and info.kind == _N:
                why = f"{info.title} is non-commercial and does not allow an organisation's internal use"
            else:
                why = f"{info.title} is {'non-commercial' if info.kind == _N else info.kind}"
        refused.append(f"{use.role} {use.name!r} (licence: {lic or 'unknown'}): {why}")
        first = first or use
    if refused:
        lines = "\n  ".join(refused)
        raise LicenseError(
            f"campaign {campaign!r} is for {usage} use, which these models' licences do not allow:\n  {lines}\n"
            f"  hint: use a model whose licence allows {usage} use, set `usage:` in the brief if the campaign is "
            f"not {usage}, or declare an exception in {where}:\n"
            f"    allow_models:\n      - {{model: {first.name if first else 'MODEL'!r}, reason: \"cleared by legal, "
            "ticket #123\"}")
    return applied

