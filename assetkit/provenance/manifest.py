"""What the C2PA manifests say: a master is *created* (by a diffusion model or the draft
generator), a delivered asset is the master *opened* and edited into a composite with the brand
logo and the product image *placed* on it.

IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/):

* a diffusion master is ``trainedAlgorithmicMedia`` — made by a model trained on sampled data;
* a draft master is ``algorithmicMedia`` — "created purely by an algorithm not based on any
  sampled training data": the draft generator paints brand-colour gradients and shapes with
  code, no model and no human hand (``digitalCreation`` would claim a person made it with
  digital tools, which is not what happened);
* a delivered asset is ``compositeWithTrainedAlgorithmicMedia`` over a diffusion master and
  ``compositeSynthetic`` ("a composite including synthetic elements") over a draft master.

The same types go into the XMP ``Iptc4xmpExt:DigitalSourceType`` of every exported file.
"""
from __future__ import annotations

from typing import Any

from .. import __version__

#: Label of assetkit's own assertion (model, weights hash, licence, brief hash, run id).
ASSERTION = "dev.assetkit.provenance"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def source_types(generator: str) -> tuple[str, str]:
    """(master, delivered asset) IPTC digital source types for a generator name (the generator
    registry says which of its backends are trained models)."""
    from ..generators import source_types as of_backend

    return of_backend(generator)


def _claim_generator() -> list[dict]:
    return [{"name": "assetkit", "version": __version__}]


def master_manifest(title: str, generator: str, agent: str, assertion: dict) -> dict:
    """The manifest of a master: ``c2pa.created`` with the generator's source type."""
    master_type, _ = source_types(generator)
    return {
        "claim_generator_info": _claim_generator(), "title": title, "format": "image/png",
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [{
                "action": "c2pa.created", "digitalSourceType": master_type,
                "softwareAgent": {"name": agent},
                "description": "master image generated for a campaign concept variant"}]}},
            {"label": ASSERTION, "data": assertion},
        ],
    }


def asset_manifest(title: str, fmt: str, generator: str, placed: list[str], assertion: dict) -> dict:
    """The manifest of a delivered asset: the master (ingredient ``master``) opened, each of
    ``placed`` (ingredient ids: ``logo``, ``product``) placed, the result a composite."""
    _, asset_type = source_types(generator)
    actions: list[dict[str, Any]] = [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["master"]}}]
    actions += [{"action": "c2pa.placed", "parameters": {"ingredientIds": [i]}} for i in placed]
    actions.append({"action": "c2pa.edited", "digitalSourceType": asset_type,
                    "softwareAgent": {"name": "assetkit", "version": __version__},
                    "description": "reframed to the ad format; logo, headline, subline and call to action composed"})
    return {"claim_generator_info": _claim_generator(), "title": title, "format": MIME[fmt],
            "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": actions}},
                           {"label": ASSERTION, "data": assertion}]}
