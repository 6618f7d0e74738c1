"""The runner's hooks: signing set up before planning, the licence gate before generation, the
manifest's ``provenance`` record after the run."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import ConfigError, Problem
from .sign import RunProvenance

if TYPE_CHECKING:  # pragma: no cover
    from ..settings import Settings


def setup_signing(settings: Settings, run_id: str) -> RunProvenance:
    """Load and check the signing identity; with ``provenance.required`` a run that could not
    sign fails here, before anything is made (exit 2)."""
    from .keys import load_identity

    identity, why = load_identity(settings)
    prov = settings.provenance
    if identity is None and prov.required:
        msg = (f"signing is required but {why}; nothing was made (run `assetkit keys init DIR` for "
               "development keys)")
        if settings.path is None:
            raise ConfigError([Problem("assetkit.yaml", None, None, "provenance.required", msg)])
        from ..yamlfile import load_yaml

        raise ConfigError([load_yaml(settings.path).problem(("provenance", "required"), msg)])
    return RunProvenance(identity, {"assetkit": __version__, "run_id": run_id}, thumbnail=prov.thumbnail,
                         unsigned_reason=why)


def provenance_record(prov: RunProvenance, extra: dict[str, Any] | None = None) -> dict:
    """The manifest's top-level ``provenance`` entry."""
    return {"signing": prov.describe(), **(extra or {})}


def admit_run(ctx: Any, campaign: Any, settings: Settings) -> dict:
    """The model-licence gate, before anything is generated: every model and LoRA's licence
    (from its model card) must be allowed for the campaign's usage, or be declared in
    ``allow_models:``. Returns the run-wide part of assetkit's C2PA assertion (campaign, brief
    hash, generator, models with weights hashes and licences, usage, the exceptions applied),
    which is also the manifest's ``provenance`` record."""
    from ..files import sha256_file
    from .licenses import check_licenses

    brief = campaign.brief
    usage = brief.usage or settings.usage
    info: dict[str, Any] = {"campaign": brief.campaign, "brand": campaign.brand.name,
                            "brief_sha256": sha256_file(brief.path), "usage": usage, "generator": "draft",
                            "models": [], "license_exceptions": []}
    step = ctx.pipeline.step("generate")
    gen = step.generator(ctx) if step is not None else None  # made once per run, model not loaded
    if gen is not None:
        fp = gen.fingerprint()
        uses = model_uses(gen)
        where = str(settings.path) if settings.path else "assetkit.yaml"
        info["generator"] = fp.get("generator", "draft")
        info["models"] = [u.to_dict() for u in uses]
        info["license_exceptions"] = check_licenses(uses, usage, settings, brief.campaign, where)
        for exc in info["license_exceptions"]:
            ctx.progress.log(f"warning: {exc['role']} {exc['model']!r} (licence {exc['license'] or 'unknown'}) is "
                             f"used for {usage} work by exception: {exc['reason']}")
    return info


def model_uses(generator: Any) -> list:
    """Every model and LoRA a generator uses, with weights hash and model-card licence."""
    from pathlib import Path

    from .licenses import ModelUse, card_license

    ref = getattr(generator, "ref", None)
    if ref is None:  # the draft generator: no weights
        return []
    fp = generator.fingerprint()
    card_dir = ref.path if ref.kind == "folder" else ref.path.parent
    uses = [ModelUse("model", ref.name, str(ref.path), fp["weights_sha256"], card_license(card_dir))]
    lora = getattr(generator, "lora", None)
    if lora is not None:
        lora = Path(lora)
        uses.append(ModelUse("lora", lora.name, str(lora), fp["lora"], card_license(lora.parent)))
    return uses
