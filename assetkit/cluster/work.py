"""What runs on a cluster's workers: plain Python (no Ray import), so it is tested like any code.

Every worker rebuilds the run's context from a :class:`WorkSpec` (absolute paths of the brief,
pipeline, settings and ``--out``, which every node must see at the same paths), once per process.
The model actor (:class:`MasterMaker`) makes masters batch by batch with the generate step's own
code; :func:`finish_batch` runs the later steps (reframe, compose, check, export) on one batch of
masters where the masters are, and returns the records the driver books. Workers write asset
files and cached masters under ``--out`` (atomic renames: a retried task rewrites the same bytes)
and never the manifest, contact sheets or ledger.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import __version__

if TYPE_CHECKING:  # pragma: no cover
    from ..campaign import Campaign
    from ..context import MasterId, RunContext, RunOptions
    from ..state import Job, Master

#: (master id, generation request, master key): one master to make or load
Item = tuple[Any, Any, str]


@dataclass(frozen=True)
class WorkSpec:
    """Everything a worker needs to rebuild the driver's run context (picklable, paths absolute)."""

    brief: str
    pipeline: str
    options: RunOptions
    settings: str | None  # the settings file the driver used (None: the defaults)
    run_id: str
    admitted: dict
    sheet_tiles: int
    sheet_keys: frozenset[str]
    plan_digest: str  # sha256 of the driver's job keys: a node that sees other inputs differs
    assetkit_version: str = __version__
    model_threads: int = 0
    token: str = field(default="", compare=False)


def python_version() -> str:
    import platform

    return platform.python_version()


def plan_digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def node_name() -> str:
    """How records name the machine a worker runs on."""
    return socket.gethostname()


_CONTEXTS: dict[str, tuple[RunContext, Campaign]] = {}


def worker_context(spec: WorkSpec) -> RunContext:
    """The run's context on this worker (built once per process and run)."""
    return _worker(spec)[0]


def _worker(spec: WorkSpec) -> tuple[RunContext, Campaign]:
    hit = _CONTEXTS.get(spec.token)
    if hit is not None:
        return hit
    from ..campaign import load_campaign
    from ..models import set_offline
    from ..progress import Progress
    from ..provenance.run import setup_signing
    from ..runner import make_context
    from ..settings import Settings, load_settings

    set_offline()  # a worker never downloads either
    settings = load_settings(spec.settings) if spec.settings else Settings()
    campaign = load_campaign(spec.brief, spec.pipeline, max_side=settings.runs.max_side)
    ctx = make_context(campaign, spec.options, Progress())
    ctx.provenance = setup_signing(settings, spec.run_id)
    ctx.provenance.run_info.update(spec.admitted)
    ctx.provenance_extra = spec.admitted
    ctx.run_id = spec.run_id
    ctx.sheet_tiles = spec.sheet_tiles
    ctx.sheet_keys = spec.sheet_keys
    _CONTEXTS.clear()  # one run at a time per worker process
    _CONTEXTS[spec.token] = (ctx, campaign)
    return ctx, campaign


def probe(spec: WorkSpec, probe_name: str, text: str) -> dict:
    """The start-up check of one node: write ``text`` to ``probe_name`` at the top of ``--out``
    (the driver reads it back: is --out shared?), and say what this node would make (versions,
    the plan's keys: the same brand kit, brief, pipeline and model files?). Errors are returned,
    not raised, so the driver reports every node at once."""

    from ..errors import AssetkitError
    from .storage import open_storage

    out: dict[str, Any] = {"node": node_name(), "pid": os.getpid(), "assetkit": __version__,
                           "python": python_version(), "error": None, "plan_digest": None}
    try:
        open_storage(spec.options.out).write_bytes(probe_name, text.encode())
    except (AssetkitError, OSError) as exc:
        out["error"] = f"cannot write the probe file in --out {spec.options.out}: {exc}"
        return out
    if __version__ != spec.assetkit_version:
        return out  # the driver names both versions
    try:
        from ..runner import plan_run

        ctx, campaign = _worker(spec)
        opts = dataclasses.replace(ctx.options, force=True)  # keys only: no look at the files made
        plan = plan_run(dataclasses.replace(ctx, options=opts), campaign)
        out["plan_digest"] = plan_digest([j.key for j in plan.jobs])
    except AssetkitError as exc:
        out["error"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except OSError as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


class MasterMaker:
    """A model actor's body: the run's generator, loaded once, making masters batch by batch with
    the generate step's code (same batches → same pixels as a local run). Made masters go to the
    run's master cache, as locally."""

    def __init__(self, spec: WorkSpec):
        self.spec = spec
        ctx = worker_context(spec)
        self.step = ctx.pipeline.steps[0]
        if getattr(self.step, "generator", None) and self.step.generator(ctx).name != "draft":  # type: ignore[attr-defined]
            _torch_threads(spec.model_threads)

    def node(self) -> dict:
        return {"node": node_name(), "pid": os.getpid()}

    def make(self, items: list[Item]) -> dict:
        """Masters of ``items`` from one generate call: ``{"masters": [(mid, Master)], ...}``."""
        from ..steps.generate import GenerateStep

        ctx = worker_context(self.spec)
        step = self.step
        assert isinstance(step, GenerateStep)
        t0 = time.perf_counter()
        masters = step.make(step.generator(ctx), items)
        cache = ctx.cache.sub("masters")
        for (_, _, key), master in zip(items, masters):
            GenerateStep._store(cache, key, master)
        return {"masters": [(mid, m) for (mid, _, _), m in zip(items, masters)], "node": node_name(),
                "pid": os.getpid(), "seconds": time.perf_counter() - t0}


def _torch_threads(n: int) -> None:
    """Give torch the node's cores (Ray sets OMP_NUM_THREADS=1 in workers); only if torch is
    already needed (a draft run never imports it)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(n or cores)


def finish_batch(spec: WorkSpec, generator_info: dict, jobs: list[Job], made: dict | None,
                 cached: list[Item]) -> dict:
    """Reframe, compose, check and export the ``jobs`` of one batch of masters: those ``made`` by
    a model actor and those ``cached`` by an earlier run (read here, next to where they are used).

    Returns the records the driver books: manifest entries, findings, contact-sheet thumbnails,
    step timings; and the cached masters that could not be read (``damaged``: the driver has
    them made). Files are written atomically, so a retry after a worker died rewrites the same
    bytes and the driver books each asset once (by its content key)."""
    from ..state import RunState
    from ..steps.generate import GenerateStep

    t0 = time.perf_counter()
    ctx = worker_context(spec)
    masters: dict[MasterId, Master] = dict(made["masters"]) if made else {}
    damaged: list[Item] = []
    loaded = 0
    if cached:
        cache = ctx.cache.sub("masters")
        for mid, req, key in cached:
            master = GenerateStep.from_cache(cache, req, key)
            if master is None:
                damaged.append((mid, req, key))
            else:
                masters[mid] = master
                loaded += 1
    todo = [j for j in jobs if j.master_id in masters]
    state = RunState(jobs=todo, pending=todo, masters=masters, generator_info=generator_info)
    ctx.thumbs = {}
    for step in ctx.pipeline.steps[1:]:
        s = time.perf_counter()
        try:
            step.run(ctx, state)
        finally:
            state.timings[step.name] = state.timings.get(step.name, 0.0) + time.perf_counter() - s
    keys = {j.key for j in todo}
    thumbs = {k: v for k, v in ctx.thumbs.items() if k in keys}
    ctx.thumbs = {}
    compute = sum(m.compute_seconds for m in masters.values() if not m.cached)
    return {"outputs": state.outputs, "checks": state.checks, "thumbs": thumbs, "timings": state.timings,
            "damaged": damaged, "loaded": loaded, "made": len(masters) - loaded,
            "compute_seconds": compute, "compute_ms": sum(m.compute_ms for m in masters.values()),
            "generate_seconds": made["seconds"] if made else 0.0,
            "assets": len(todo), "node": node_name(), "pid": os.getpid(),
            "seconds": time.perf_counter() - t0}
