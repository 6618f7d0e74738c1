"""Steps and generators from other packages, found through entry points.

A plugin package declares them in its ``pyproject.toml``::

    [project.entry-points."assetkit.steps"]
    watermark = "acme_assetkit:WatermarkStep"

    [project.entry-points."assetkit.generators"]
    acme = "acme_assetkit:AcmeGenerator"

The step and generator registries read these names the first time a step or generator is looked
up (:func:`load_entry_points` imports nothing) and import a plugin's module only when a pipeline
or brief uses one of its names, like the built-in steps and backends.
"""
from __future__ import annotations

from importlib.metadata import entry_points

#: entry-point group → what its entries are
STEPS = "assetkit.steps"
GENERATORS = "assetkit.generators"


def load_entry_points(group: str) -> dict[str, str]:
    """``name → "module:attr"`` of every installed entry point in ``group``, sorted by name.

    Nothing is imported. Two installed packages claiming one name is an error (which one would
    run depends on install order), reported with both packages."""
    found: dict[str, str] = {}
    owner: dict[str, str] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
        dist = ep.dist.name if ep.dist is not None else "?"
        if ep.name in found and found[ep.name] != ep.value:
            raise ValueError(f"entry point {ep.name!r} in group {group!r} is claimed twice: "
                             f"{found[ep.name]} ({owner[ep.name]}) and {ep.value} ({dist})")
        found[ep.name], owner[ep.name] = ep.value, dist
    return found
