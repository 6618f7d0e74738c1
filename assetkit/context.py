"""What a run's steps share: the typed :class:`RunContext` and the :class:`RunOptions` behind it.

Every field is named here (no string-keyed extras), so a reader — and mypy — finds what a step
may read or set where the context is defined.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .outroot import OutRoot
from .threads import worker_started

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from .brand import BrandKit
    from .brief import Brief
    from .generators.base import Generator
    from .pipeline import Pipeline
    from .progress import Progress
    from .provenance.sign import RunProvenance
    from .runner import Plan

T = TypeVar("T")
R = TypeVar("R")

#: (concept, variant, aspect group): the id of one master image
MasterId = tuple[str, int, str]


@dataclass
class RunOptions:
    """How a run is carried out (not what it makes)."""

    out: Path = Path("out")
    jobs: int = 0  # 0 → number of CPUs
    force: bool = False
    model: str | None = None  # overrides brief/pipeline model
    generator: str | None = None  # 'draft' / 'diffusers' override
    allow_unsafe_weights: bool = False
    ledger: Path | None = None
    settings: Path | None = None
    record: bool = True  # write to the savings ledger
    stream: bool = True  # overlap later steps with generation (see runner.run_steps)
    show_checks: bool = False  # write checks/<asset>.png: what the checks measured, drawn over each asset
    locked: bool = False  # refuse to run when anything differs from OUT/CAMPAIGN/assetkit.lock
    executor: str | None = None  # 'local' / 'ray'; None → settings ``executor.name`` (default local)
    ray_address: str | None = None  # None → settings ``executor.ray.address`` (None: a local Ray instance)


@dataclass
class RunContext:
    """Everything a step may read, and the few things steps hand to the runner and each other."""

    brand: BrandKit
    brief: Brief
    pipeline: Pipeline
    options: RunOptions
    progress: Progress
    out_dir: Path  # <out>/<campaign>

    # set by the runner before the steps run
    plan: Plan | None = None
    run_id: str = ""
    started_at: datetime | None = None
    t0: float = 0.0  # time.perf_counter() at the start of the run
    #: the run's signing identity and what the C2PA manifests say about the run
    provenance: RunProvenance | None = None

    #: set by the runner while it streams: a source step (``Step.source``) calls it with the ids
    #: of each batch of masters as soon as they are ready, so later steps run on them at once
    on_masters: Callable[[list[MasterId]], None] | None = None
    #: True once the later steps ran on streamed batches (their timings then overlap)
    streamed: bool = False
    #: set by a distributed executor (``--executor ray``): nodes, actors, per-node counts and times
    executor_info: dict | None = None

    #: the run's image generator, made once (its fingerprint is needed before the run starts)
    generator: Generator | None = None
    #: export: thumbnails of the assets written by this run (job key → image), for contact sheets
    thumbs: dict[str, Image.Image] = field(default_factory=dict)
    #: export: locale → contact sheet file, relative to ``out_dir``
    contact_sheets: dict[str, str] = field(default_factory=dict)
    #: the licence gate's run-wide record (models, licences, exceptions), for manifests and C2PA
    provenance_extra: dict | None = None
    #: at most this many assets per locale on a contact sheet (settings ``runs.contact_sheet_tiles``)
    sheet_tiles: int = 200
    #: export: the job keys shown on the contact sheets (the first ``sheet_tiles`` per locale)
    sheet_keys: frozenset[str] | None = None
    #: export: job key → check findings (this run's, else the previous manifest's), for sheet badges
    findings: dict[str, list[dict]] = field(default_factory=dict)

    #: ``<out>/<campaign>``: every write, read and delete there goes through it (never a path)
    files: OutRoot = field(init=False)

    def __post_init__(self) -> None:
        self.files = OutRoot(self.options.out).sub(self.out_dir.name)

    @property
    def cache(self) -> OutRoot:
        """``<out>/<campaign>/.cache``: masters kept between runs."""
        return self.files.sub(".cache")

    @property
    def cache_dir(self) -> Path:
        return self.out_dir / ".cache"

    @property
    def workers(self) -> int:
        return self.options.jobs or (os.cpu_count() or 1)

    def map(self, fn: Callable[[T], R], items: Iterable[T], label: str) -> list[R]:
        """Apply ``fn`` to ``items`` on ``--jobs`` threads (Pillow releases the GIL), with progress."""
        items = list(items)
        with self.progress.task(label, len(items)) as task:
            if self.workers <= 1 or len(items) <= 1:
                out = []
                for it in items:
                    out.append(fn(it))
                    task.advance()
                return out
            with ThreadPoolExecutor(max_workers=self.workers, initializer=worker_started) as pool:
                futures = [pool.submit(fn, it) for it in items]
                out = []
                for f in futures:
                    out.append(f.result())
                    task.advance()
                return out
