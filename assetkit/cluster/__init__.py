"""Executors: where a run's work happens.

``local`` (the default) runs the pipeline's steps on this machine's threads
(:func:`assetkit.runner.run_steps`). ``ray`` hands master generation to Ray actors that keep the
model loaded and the later steps to Ray tasks next to the masters, while this process (the
driver) stays the run's only bookkeeper: the manifest, contact sheets and ledger are written here,
from the records the tasks return (:mod:`assetkit.cluster.ray_driver`).

Nothing here imports Ray: ``assetkit --help`` and local runs never pay for it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..context import RunOptions
    from ..settings import Settings

EXECUTORS = ("local", "ray")


class ClusterError(UsageError):
    """The cluster cannot run this campaign (unreachable, versions differ, --out not shared...): exit 2."""


def executor_name(options: RunOptions, settings: Settings) -> str:
    """``--executor``, else ``executor.name`` of assetkit.yaml, else ``local``; with ``ray`` the
    [ray] extra must be installed (one line naming it otherwise, exit 2)."""
    name = options.executor or settings.executor.name
    if name not in EXECUTORS:
        raise UsageError(f"unknown executor {name!r}; known: {', '.join(EXECUTORS)}")
    if options.ray_address and name != "ray":
        raise UsageError("--ray-address is for --executor ray (or executor.name: ray in assetkit.yaml)")
    if name == "ray":
        from ..extras import require

        require("ray", "--executor ray")
    return name


__all__ = ["EXECUTORS", "ClusterError", "executor_name"]
