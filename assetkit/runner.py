"""Running a brief: plan the deliverables, skip what is up to date, run the steps, write the manifest."""
from __future__ import annotations

import getpass
import hashlib
import json
import secrets
import socket
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .campaign import Campaign, effective_copy, load_campaign
from .context import RunContext, RunOptions
from .errors import AssetkitError, StepError, UsageError
from .files import sha256_file
from .outroot import OutRoot, OutRootError
from .progress import Progress
from .state import Job, RunState
from .threads import model_running, model_waiting

MANIFEST = "manifest.json"


@dataclass
class Plan:
    """What a run of a brief makes: every job, and which are already up to date on disk."""

    campaign: Campaign
    out_dir: Path
    jobs: list[Job]
    cached: list[Job] = field(default_factory=list)
    previous: dict = field(default_factory=dict)  # key → manifest entry of the last run

    @property
    def pending(self) -> list[Job]:
        done = {j.key for j in self.cached}
        return [j for j in self.jobs if j.key not in done]

    def counts(self) -> dict[str, dict[str, int]]:
        """Assets per format and locale."""
        out: dict[str, dict[str, int]] = {}
        for j in self.jobs:
            out.setdefault(j.format.name, {}).setdefault(j.locale, 0)
            out[j.format.name][j.locale] += 1
        return out


@dataclass
class RunResult:
    """What a run made: the manifest (as written) and where it is."""

    manifest: dict
    manifest_path: Path
    out_dir: Path
    made: int
    cached: int
    ledger: object | None = None

    def summary(self) -> dict:
        m = self.manifest
        return {
            "run_id": m["run_id"], "campaign": m["campaign"], "out": str(self.out_dir),
            "manifest": str(self.manifest_path), "assets": len(m["assets"]), "made": self.made,
            "cached": self.cached, "contact_sheets": m.get("contact_sheets", {}),
            "timings": m["timings"], **({"executor": m["executor"]} if m.get("executor") else {}),
            "checks": {"errors": sum(c["level"] == "error" for c in m.get("checks", [])),
                                               "warnings": sum(c["level"] == "warning" for c in m.get("checks", []))},
        }


class ChecksFailed(StepError):
    """A run's assets have findings at the failing level (the message names rule, assets, fix)."""


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _hash(obj) -> str:
    return hashlib.sha256(_canonical(obj).encode()).hexdigest()


def job_seed(base: int, concept: str, variant: int) -> int:
    """Seed of a concept variant: stable under reordering concepts; variant n → base + n − 1."""
    return (base + zlib.crc32(concept.encode()) + variant - 1) % 2**32


def plan_run(ctx: RunContext, campaign: Campaign) -> Plan:
    """Every deliverable of the brief with its content key; marks those already on disk."""
    brief, brand, pipe, options = campaign.brief, campaign.brand, campaign.pipeline, ctx.options
    out_dir = Path(options.out) / brief.campaign
    if Path(brief.campaign).name != brief.campaign or brief.campaign in ("", ".", ".."):
        raise UsageError(f"campaign id {brief.campaign!r} would write outside --out")
    step_fps = [step.fingerprint(ctx) for step in pipe.steps]
    prov = ctx.provenance
    common = _hash({"assetkit": __version__, "brand": brand.fingerprint(), "steps": step_fps,
                    "model": options.model, "generator": options.generator,
                    "signing": prov.fingerprint() if prov is not None else None})
    files: dict[str, str] = {}
    jobs = []
    gen_step = pipe.step("generate")
    master = "shared" if getattr(getattr(gen_step, "params", None), "masters", "per-aspect") == "shared" else ""
    formats = brief.ad_formats()
    # A job's key is _hash() of {common, concept, copy, files, format, locale, seed, variant}: the
    # JSON of what is the same for many jobs is encoded once and the text put together per job,
    # byte for byte what json.dumps(sort_keys=True) of the whole dict gives (100k jobs: 5× faster).
    enc = _canonical
    fmt_text = {}
    for fmt in formats:
        scale_key = _scale_key(campaign, fmt)
        for locale in brief.locales:
            copy = effective_copy(brand, brief.copy[locale], locale).for_format(fmt).model_dump(
                mode="json", exclude={"source"})
            copy["type_scale_of"] = scale_key  # the format's type scale depends on every locale's copy for it
            fmt_text[fmt.name, locale] = (f'"copy": {enc(copy)}, "files": ',
                                          f', "format": {enc(fmt.to_dict())}, "locale": {enc(locale)}, "seed": ')
    head = f'{{"common": {enc(common)}, "concept": '
    for concept in brief.concepts:
        for ref in (concept.image, concept.product):
            if ref:
                p = brief.concept_path(ref)
                assert p is not None
                files[ref] = files.get(ref) or sha256_file(p)
        concept_text = head + enc(concept.model_dump(mode="json")) + ", "
        files_text = enc(files)  # the files of this concept and every one before it (as ever)
        for variant in range(1, brief.variants_of(concept) + 1):
            seed = job_seed(brief.seed, concept.id, variant)
            tail = f'{enc(seed)}, "variant": {enc(variant)}}}'
            for fmt in formats:
                for locale in brief.locales:
                    copy_text, fmt_locale = fmt_text[fmt.name, locale]
                    text = concept_text + copy_text + files_text + fmt_locale + tail
                    key = hashlib.sha256(text.encode()).hexdigest()[:32]
                    jobs.append(Job(concept.id, variant, fmt, locale, seed, key, master))
    plan = Plan(campaign, out_dir, jobs)
    plan.previous = _previous_entries(ctx.files)
    if not options.force:
        for job in jobs:
            entry = plan.previous.get(job.key)
            if entry and _file_matches(ctx.files, entry):
                plan.cached.append(job)
    return plan


def _scale_key(campaign: Campaign, fmt) -> str:
    """What of the other locales' copy shapes an asset: the format's type scale (the sizes that fit
    every locale), so a copy change that leaves the scale alone remakes only its own locale. With
    a packshot the scale also depends on where the product lands: then every locale's copy counts."""
    from .layout import panel_boxes, type_scale

    brief, brand, pipe = campaign.brief, campaign.brand, campaign.pipeline
    copies = {loc: effective_copy(brand, brief.copy[loc], loc).for_format(fmt) for loc in brief.locales}
    compose, reframe = pipe.step("compose"), pipe.step("reframe")
    if compose is None or any(c.product for c in brief.concepts):
        return _hash([c.model_dump(mode="json", exclude={"source"}) for c in copies.values()])[:16]
    image_box, field_box = panel_boxes(fmt, getattr(reframe.params, "panel", 0.38)) if reframe else \
        panel_boxes(fmt)
    from .layout import LayoutParams

    params = compose.params if isinstance(compose.params, LayoutParams) else None
    caps = type_scale(brand, copies, fmt, params, field_box=field_box, image_box=image_box,
                      has_field=field_box is not None)
    return _hash(caps)[:16]


def _previous_entries(files: OutRoot) -> dict:
    """The last run's manifest entries by key; every path they name is checked now, so a link
    planted on the way (pruning would follow it) is refused before any work."""
    try:
        data = json.loads(files.read_text(MANIFEST))
        entries = {a["key"]: a for a in data.get("assets", []) if "key" in a and "path" in a}
    except FileNotFoundError:
        return {}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}  # not a manifest of ours: nothing is pruned, every asset is made again
    for entry in entries.values():
        try:
            files.check_file_path(str(entry["path"]))
        except OutRootError as exc:
            raise OutRootError(f"{files.display(MANIFEST)} lists {str(entry['path'])!r}: {exc}") from None
    return entries


def _file_matches(files: OutRoot, entry: dict) -> bool:
    info = files.file_info(str(entry["path"]))
    return info is not None and info == (entry.get("bytes"), entry.get("sha256"))


def make_context(campaign: Campaign, options: RunOptions, progress: Progress | None = None) -> RunContext:
    out_dir = Path(options.out) / campaign.brief.campaign
    return RunContext(brand=campaign.brand, brief=campaign.brief, pipeline=campaign.pipeline, options=options,
                      progress=progress or Progress(), out_dir=out_dir)


def run_brief(brief_path: str | Path, options: RunOptions | None = None, pipeline: str | None = None,
              progress: Progress | None = None) -> RunResult:
    """Run a brief end to end: the library call behind ``assetkit run``."""
    options = options or RunOptions()
    progress = progress or Progress()
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    from .settings import load_settings

    settings = load_settings(options.settings)
    from .cluster import executor_name

    executor = executor_name(options, settings)  # --executor ray without the [ray] extra: exit 2 now
    campaign = load_campaign(brief_path, pipeline, max_side=settings.runs.max_side)
    if options.record:  # bad settings, an unusable ledger or an unknown quote fail before any work
        from .ledger import check_ready

        check_ready(options.ledger, options.settings, campaign.brief)
    from .provenance.run import setup_signing

    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    ctx = make_context(campaign, options, progress)
    # PROVENANCE HOOK: the signing identity is checked before any work (provenance.required → exit 2)
    ctx.provenance = setup_signing(settings, run_id)
    OutRoot(options.out).ensure()  # --out a file, under a file, in /proc, unwritable: exit 2 now
    ctx.files.check_folders(_folders(campaign))  # a link or file where a folder goes: exit 2 now
    if options.record:  # a run killed between its manifest and the ledger is booked before it is replaced
        from .ledger import reconcile

        for rec in reconcile([p for p in [ctx.out_dir / MANIFEST] if p.is_file() and not p.is_symlink()],
                             options.ledger, options.settings):
            progress.log(f"booked the interrupted run {rec.run_id} from its manifest: {rec.describe()}")
    stale = ctx.files.remove_stale_temp_files()  # what a killed run left half-written
    if stale:
        progress.log(f"removed {stale} unfinished temp file(s) of an interrupted run")
    plan = plan_run(ctx, campaign)
    from .provenance.run import admit_run

    # LICENCE GATE: every model's licence must allow the campaign's usage (exit 2 before generating)
    admitted = admit_run(ctx, campaign, settings)
    assert ctx.provenance is not None
    ctx.provenance.run_info.update(admitted)
    ctx.provenance_extra = admitted
    warning = big_run_warning(plan, ctx, settings.runs.warn_assets)
    if warning:
        progress.log(warning)
    ctx.sheet_tiles = settings.runs.contact_sheet_tiles
    from .provenance.lock import build_lock, check_locked, write_lock

    lock = build_lock(ctx, campaign, plan, admitted, signed=ctx.provenance.signed)
    if options.locked:  # LOCKFILE HOOK: refuse (exit 2) when anything differs from assetkit.lock
        check_locked(plan.out_dir, lock)
    state = RunState(jobs=plan.jobs, pending=plan.pending)
    ctx.plan = plan
    ctx.run_id = run_id
    ctx.started_at = started
    ctx.t0 = t0
    if plan.cached and not state.pending:
        progress.log(f"{len(plan.cached)} assets up to date, nothing to make (use --force to remake)")
    if executor == "ray":
        from .cluster.ray_driver import run_on_ray

        try:
            run_on_ray(ctx, state, campaign, settings)
        except AssetkitError as exc:
            if not state.outputs:
                raise
            raise book_stopped_run(ctx, state, exc) from None
    else:
        run_steps(ctx, state)
    manifest = build_manifest(ctx, state)
    for step in ctx.pipeline.steps:
        step.finalize(ctx, manifest)
    write_lock(ctx.files, lock)
    manifest_path = plan.out_dir / MANIFEST
    result = RunResult(manifest, manifest_path, plan.out_dir, made=len(state.pending), cached=len(plan.cached))
    gate(ctx, manifest, manifest_path)  # assets with error findings are not delivered: fail (no ledger entry)
    if options.record:
        # LEDGER HOOK: every run is recorded in the savings ledger (opt out with --no-ledger)
        from .ledger import record_run

        result.ledger = record_run(manifest, manifest_path, options.ledger, options.settings, campaign.brief)
    return result


class StoppedRun(AssetkitError):
    """A distributed run stopped mid-way; what it finished is in the manifest and the ledger."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def book_stopped_run(ctx: RunContext, state: RunState, exc: AssetkitError) -> StoppedRun:
    """A Ray run stopped by an error after some assets were exported: write the manifest of what
    is done (those assets and the ones already up to date) and book it in the ledger, so the next
    run makes only the rest; returns the error to raise (the cause's message and exit code)."""
    manifest = build_manifest(ctx, state)
    manifest["stopped"] = str(exc)
    for step in ctx.pipeline.steps:
        step.finalize(ctx, manifest)
    path = ctx.out_dir / MANIFEST
    booked = f"{len(state.outputs)} asset(s) finished before the stop are in {path}"
    if ctx.options.record:
        from .ledger import record_run

        record_run(manifest, path, ctx.options.ledger, ctx.options.settings, ctx.brief)
        booked += " and the ledger"
    return StoppedRun(f"{exc}\n{booked}; the next run makes the rest", exc.exit_code)


#: rough costs for the estimate of a big run: seconds per master by generator (draft: measured;
#: diffusers: a 512 px image on a 2-core CPU, README), per asset (compose+check+export, on one
#: worker) and encoded bytes per pixel by export format (png: 1.26 measured over a 2,000-asset
#: draft run, 1.85 GB; jpeg/webp: not yet measured on such a run)
SECONDS_PER_MASTER = {"draft": 0.05, "diffusers": 25.0}
SECONDS_PER_ASSET = 0.07
BYTES_PER_PIXEL = {"png": 1.3, "jpeg": 0.12, "webp": 0.06}


def estimate(plan: Plan, ctx: RunContext) -> dict:
    """What the pending part of ``plan`` will take: masters, seconds and bytes (rough)."""
    gen = ctx.pipeline.step("generate")
    params = getattr(gen, "params", None)
    model = ctx.options.model or getattr(params, "model", None) or ctx.brief.model
    name = ctx.options.generator or getattr(params, "generator", "auto")
    name = ("diffusers" if model else "draft") if name == "auto" else name
    export = ctx.pipeline.step("export")
    fmt = getattr(getattr(export, "params", None), "format", "png")
    pending = plan.pending
    masters = len({j.master_id for j in pending})
    seconds = masters * SECONDS_PER_MASTER.get(str(name), 25.0) + len(pending) * SECONDS_PER_ASSET / max(ctx.workers, 1)
    size = sum(j.format.width * j.format.height for j in pending) * BYTES_PER_PIXEL.get(fmt, 1.3)
    return {"assets": len(pending), "masters": masters, "generator": name, "seconds": round(seconds, 1),
            "bytes": int(size)}


def describe_estimate(est: dict) -> str:
    secs = est["seconds"]
    took = f"{secs / 3600:.1f} h" if secs >= 3600 else f"{secs / 60:.0f} min" if secs >= 90 else f"{secs:.0f} s"
    size = est["bytes"]
    disk = f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"
    return f"~{took} and ~{disk} of disk ({est['masters']:,} masters, {est['generator']} generator; a rough estimate)"


def big_run_warning(plan: Plan, ctx: RunContext, limit: int) -> str | None:
    """A warning line when the run makes more than ``limit`` assets (settings ``runs.warn_assets``)."""
    n = len(plan.pending)
    if n <= limit:
        return None
    return (f"warning: {n:,} assets to make, over runs.warn_assets = {limit:,}: "
            f"{describe_estimate(estimate(plan, ctx))}")


def _folders(campaign: Campaign) -> list[str]:
    """Every folder of the campaign a run writes in (checked before any work)."""
    brief = campaign.brief
    out = [".", ".cache", ".cache/masters"]
    for locale in brief.locales:
        out.append(locale)
        out.extend(f"{locale}/{fmt.name}" for fmt in brief.ad_formats())
    return out


def gate(ctx: RunContext, manifest: dict, manifest_path: Path) -> None:
    """Raise :class:`ChecksFailed` when findings reach the check step's ``fail_on`` level."""
    from .rules import format_summary

    check = ctx.pipeline.step("check")
    fail_on = getattr(getattr(check, "params", None), "fail_on", "error")
    if fail_on == "never":
        return
    levels = {"error"} if fail_on == "error" else {"error", "warning"}
    failing = [g for g in manifest.get("check_summary", []) if g["level"] in levels]
    if failing:
        assets = {a for g in failing for a in g["assets"]}
        raise ChecksFailed(f"{sum(g['count'] for g in failing)} check finding(s) at {fail_on} level on "
                           f"{len(assets)} asset(s); nothing here is ready to deliver "
                           f"(files, manifest and contact sheets are written for review: {manifest_path}):\n"
                           + format_summary(failing))


def run_steps(ctx: RunContext, state: RunState, execute: Callable[[RunContext, RunState], None] | None = None
              ) -> None:
    """Run the pipeline's steps over the pending jobs (``execute``: an executor that runs them
    instead, e.g. on a Ray cluster; ``finish`` and ``close`` still run here).

    When the pipeline starts with a source step (``generate``) and every later step is
    streamable, the later steps run in a second thread on each batch of masters as soon as it
    is made, overlapping the model's work, and each batch's images are released once exported
    (memory stays flat however large the campaign). Otherwise the steps run one after another
    over all jobs. Every step's ``close`` runs at the end, whether the run failed or not.
    """
    steps = ctx.pipeline.steps
    first, rest = steps[0], steps[1:]
    try:
        if execute is not None:
            execute(ctx, state)
        elif ctx.options.stream and state.pending and first.source and rest and all(s.streamable for s in rest):
            _run_streaming(ctx, state, first, rest)
        else:
            for step in steps:
                _timed(state, step.name, step.run, ctx, state)
        for step in steps:
            _timed(state, step.name, step.finish, ctx, state)
    finally:
        for step in steps:
            step.close(ctx)
    order = [s.name for s in steps]
    state.timings = {k: round(state.timings[k], 4) for k in sorted(state.timings, key=lambda k: (
        order.index(k) if k in order else len(order), k))}


def _timed(state: RunState, name: str, fn, *args) -> None:
    s = time.perf_counter()
    try:
        fn(*args)
    finally:
        state.timings[name] = state.timings.get(name, 0.0) + time.perf_counter() - s


#: manifest timing: seconds the generate step waited, its masters made, for the later steps
#: to take them (their queue was full)
WAITED = "generate.waiting_for_later_steps"


def _run_streaming(ctx: RunContext, state: RunState, first, rest) -> None:
    import dataclasses
    import queue
    import threading

    from .progress import SharedProgress

    by_master: dict[tuple, list[Job]] = {}
    for job in state.pending:
        by_master.setdefault(job.master_id, []).append(job)
    batches: queue.Queue = queue.Queue(maxsize=2)  # back-pressure: at most two batches in memory
    failed: list[BaseException] = []
    shared = SharedProgress(ctx.progress)
    sub_ctx = dataclasses.replace(ctx, progress=shared)

    def consume() -> None:
        while (mids := batches.get()) is not None:
            if failed:
                continue  # drain so the producer never blocks
            sub = RunState(jobs=state.jobs, pending=[j for m in mids for j in by_master.get(m, [])],
                           masters=state.masters, checks=state.checks, outputs=state.outputs,
                           timings=state.timings, generator_info=state.generator_info)
            try:
                for step in rest:
                    _timed(state, step.name, step.run, sub_ctx, sub)
            except BaseException as exc:  # handed to the main thread
                failed.append(exc)
            for m in mids:  # this batch is on disk: free its pixels now, not when the next one arrives
                state.masters.pop(m, None)
            sub.frames.clear()
            sub.composed.clear()
            del sub

    def hand_on(mids) -> None:
        if failed:
            raise failed[0]
        try:
            batches.put_nowait(list(mids))
        except queue.Full:  # the model waits for the later steps: theirs are the cores, at normal priority
            waited = time.perf_counter()
            with model_waiting():
                batches.put(list(mids))
            # part of the generate step's time, not the model's: the manifest says how much
            state.timings[WAITED] = state.timings.get(WAITED, 0.0) + time.perf_counter() - waited

    return_freed_images()
    worker = threading.Thread(target=consume, name="assetkit-steps", daemon=True)
    worker.start()
    ctx.on_masters = hand_on
    try:
        with model_running():  # the streamed steps' worker threads leave the model its cores
            _timed(state, first.name, first.run, ctx, state)
    finally:
        ctx.on_masters = None
        batches.put(None)
        worker.join()
        shared.close()
    if failed:
        raise failed[0]
    ctx.streamed = True


#: glibc's M_MMAP_THRESHOLD: allocations from this size up are mmapped and go back to the system
#: when freed. glibc raises the threshold by itself after each large free, up to 32 MB, so a run's
#: image buffers (Pillow allocates them in blocks of up to 16 MB) came from the heap and stayed
#: there, fragmented: resident memory climbed with every batch. Setting it fixes it.
MMAP_THRESHOLD = 1 << 20


def return_freed_images() -> bool:
    """Make freed image memory go back to the system (glibc only; elsewhere a no-op). Once per
    process; returns whether the setting took."""
    global _MALLOPT_DONE
    if _MALLOPT_DONE is None:
        _MALLOPT_DONE = False
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _MALLOPT_DONE = bool(libc.mallopt(-3, MMAP_THRESHOLD))  # M_MMAP_THRESHOLD = -3
        except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt)
            pass
    return _MALLOPT_DONE


_MALLOPT_DONE: bool | None = None


def build_manifest(ctx: RunContext, state: RunState) -> dict:
    """The run's manifest: every asset (made now or up to date), timings, generator, copy."""
    brief, brand, plan = ctx.brief, ctx.brand, ctx.plan
    assert plan is not None and ctx.started_at is not None, "build_manifest runs after plan_run"
    cached_keys = {j.key for j in plan.cached}
    made = {e["key"]: e for e in state.outputs}
    found: dict[str, list[dict]] = {}
    for c in state.checks:
        found.setdefault(c.job.key, []).append({"check": c.check, "level": c.level, "message": c.message})
    assets = []
    for job in plan.jobs:
        if job.key in made:
            entry = dict(made[job.key])
            entry["checks"] = found.get(job.key, []) + entry.get("checks", [])
            assets.append(entry)
        elif job.key in cached_keys:  # up to date: its findings are those of the run that made it
            entry = dict(plan.previous[job.key])
            entry["cached"] = True
            entry["compute_seconds"] = 0.0
            entry["compute_ms"] = 0
            entry.setdefault("checks", [])
            assets.append(entry)
    checks = [{"asset": a["path"], **c} for a in assets for c in a["checks"]]
    from .rules import summarise

    finished = datetime.now(UTC)
    timings = dict(state.timings)
    timings["total"] = round(time.perf_counter() - ctx.t0, 4)
    try:
        who = f"{getpass.getuser()}@{socket.gethostname()}"
    except Exception:  # pragma: no cover - no user in some containers
        who = f"unknown@{socket.gethostname()}"
    return {
        "assetkit_version": __version__,
        "run_id": ctx.run_id,
        "started_at": ctx.started_at.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "who": who,
        "campaign": brief.campaign,
        "campaign_name": brief.name or brief.campaign,
        "brand": brand.name,
        "brand_slug": brand.slug,
        "brief": str(brief.path),
        "brief_sha256": sha256_file(brief.path),
        "pipeline": ctx.pipeline.name,
        "source_locale": brief.source,
        "locales": brief.locales,
        "formats": brief.formats,
        "quote": brief.quote,
        "device": state.generator_info.get("device", "cpu"),
        "generator": state.generator_info or {"name": "draft"},
        "timings": timings,
        "compute_seconds": round(state.compute_seconds, 4),
        "compute_ms": state.compute_ms,  # whole ms: exactly the sum of the assets' compute_ms
        "streamed": ctx.streamed,  # step timings overlap when true
        "copy": {loc: effective_copy(brand, c, loc).model_dump(mode="json") for loc, c in brief.copy.items()},
        **_alt_texts(brief),
        "assets": assets,
        "checks": checks,
        "check_summary": summarise(checks),
        "contact_sheets": ctx.contact_sheets,
        "provenance": _provenance(ctx),
        **({"executor": ctx.executor_info} if ctx.executor_info else {}),
    }


def _alt_texts(brief) -> dict:
    """The manifest's ``alt_text``: ``{concept: {locale: what the picture shows}}`` for the
    concepts whose brief describes them (left out when none does, so older manifests compare)."""
    alts = {c.id: {loc: t for loc in brief.locales if (t := c.alt_for(loc, brief.source))} for c in brief.concepts}
    alts = {k: v for k, v in alts.items() if v}
    return {"alt_text": alts} if alts else {}


def _provenance(ctx: RunContext) -> dict:
    from .provenance.run import provenance_record

    return provenance_record(ctx.provenance, ctx.provenance_extra) if ctx.provenance is not None else {}
