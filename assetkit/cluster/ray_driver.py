"""The Ray executor's driver: connect, check every node, stream batches, book the records.

The work split: model actors (:class:`~assetkit.cluster.work.MasterMaker`, one GPU each on GPU
clusters, ``actor_cpus`` on CPU ones) make the masters in the same size-grouped batches as a
local run; each batch's ObjectRef goes straight to a task (:func:`~assetkit.cluster.work.finish_batch`)
that reframes, composes, checks and exports it. Ray schedules a task where its arguments are
(locality-aware scheduling) and the driver never fetches the masters (``fetch_local=False``), so
pixels cross the network once, as finished files on the shared ``--out``. At most
``max_masters_in_flight`` masters are made and not yet exported (backpressure).

The driver is the only bookkeeper: it keeps the first record of each content key (a task that
was retried after its worker died returns one record; the key makes a duplicate harmless), and
the runner then writes the manifest, contact sheets and ledger from them exactly as for a local
run.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from collections import deque
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import AssetkitError
from . import ClusterError
from .work import Item, MasterMaker, WorkSpec, finish_batch, plan_digest, probe, python_version

if TYPE_CHECKING:  # pragma: no cover
    from ..campaign import Campaign
    from ..context import RunContext
    from ..settings import RaySettings, Settings
    from ..state import RunState

#: the port a bare ``host`` means for ``ray://`` (Ray Client) and for a GCS address
CLIENT_PORT, GCS_PORT = 10001, 6379


def run_on_ray(ctx: RunContext, state: RunState, campaign: Campaign, settings: Settings) -> None:
    """Run the pipeline's steps on Ray (the ``--executor ray`` counterpart of ``runner.run_steps``)."""
    steps = ctx.pipeline.steps
    first, rest = steps[0], steps[1:]
    from ..steps.generate import GenerateStep

    if not isinstance(first, GenerateStep) or not rest or not all(s.streamable for s in rest):
        not_ok = [s.name for s in rest if not s.streamable]
        raise ClusterError(f"--executor ray needs a pipeline that starts with 'generate' and whose later steps "
                           f"run per batch of masters; pipeline {ctx.pipeline.name!r} "
                           + (f"has {', '.join(not_ok)}" if not_ok else f"starts with {first.name!r}")
                           + ": run it with --executor local")
    conf = settings.executor.ray
    from .storage import open_storage

    open_storage(ctx.options.out)  # an object-store URL: exit 2 before connecting
    from ..runner import run_steps

    if not state.pending:  # nothing to make: no cluster needed (the steps only record the generator)
        run_steps(ctx, state)
        return

    def execute(ctx: RunContext, state: RunState) -> None:
        ray, started = connect(ctx.options.ray_address or conf.address, conf)
        try:
            spec = work_spec(ctx, campaign, settings)
            nodes = check_nodes(ray, spec, conf, ctx)
            _drive(ray, ctx, state, first, spec, conf, nodes)
        finally:
            if started:
                ray.shutdown()

    run_steps(ctx, state, execute)  # the driver's part after it: finish (contact sheets), close


# ------------------------------------------------------------------------------ connecting
def connect(address: str | None, conf: RaySettings) -> tuple[Any, bool]:
    """``(ray, started)``: the Ray module, connected; ``started`` when this call started the
    instance or joined the cluster (and must shut down or disconnect). An instance this process
    already joined is used as is. An address that does not answer within ``connect_timeout`` is
    one line, exit 2."""
    import ray

    timeout = conf.connect_timeout
    if address not in (None, "auto", "local"):  # an address named is checked even when joined already
        assert address is not None
        _reachable(address, timeout)
    if ray.is_initialized():
        return ray, False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
    if address is None or address == "local":
        start_local(ray, conf.num_cpus, **kwargs)
        return ray, True
    box: dict[str, Any] = {}

    def join() -> None:
        try:
            box["ctx"] = ray.init(address=address, **kwargs)
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    t = threading.Thread(target=join, name="assetkit-ray-init", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise ClusterError(f"Ray cluster {address} did not answer within {timeout:g} s; check the address and "
                           "that the cluster is up (executor.ray.connect_timeout sets the wait)")
    if "error" in box:
        raise ClusterError(f"cannot join the Ray cluster at {address}: {_one_line(box['error'])}") from None
    return ray, True


def start_local(ray, num_cpus: int | None = None, attempts: int = 3, **kwargs: Any) -> None:
    """Start a local Ray instance (``ray.init``), in this thread: Ray ties the processes it starts to
    the thread that starts them. Ray gives its node 30 s to come up; on a busy machine that can
    pass, so a timed-out start is tried again (``attempts`` in all)."""
    kwargs = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR", **kwargs}
    for attempt in range(1, attempts + 1):
        try:
            ray.init(**kwargs, **({"num_cpus": num_cpus} if num_cpus else {}))
            return
        except Exception as exc:
            with contextlib.suppress(Exception):
                ray.shutdown()
            if attempt == attempts or "timed out during startup" not in str(exc):
                raise ClusterError(f"cannot start a local Ray instance: {_one_line(exc)}") from None


def _reachable(address: str, timeout: float) -> None:
    """Fail fast (one line) when nothing listens at ``address`` (ray://host:port or host:port)."""
    parts = urlsplit(address if "://" in address else f"gcs://{address}")
    host = parts.hostname
    try:
        port = parts.port or (CLIENT_PORT if parts.scheme == "ray" else GCS_PORT)
    except ValueError:
        raise ClusterError(f"--ray-address {address}: not a valid address (give auto, ray://host:10001 or "
                           "host:6379)") from None
    if not host or parts.scheme not in ("ray", "gcs"):
        raise ClusterError(f"--ray-address {address}: not a valid address (give auto, ray://host:10001 or "
                           "host:6379)")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except TimeoutError:
        raise ClusterError(f"Ray cluster {address} did not answer within {timeout:g} s; check the address and that "
                           "the cluster is up (executor.ray.connect_timeout sets the wait)") from None
    except OSError as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}; check the address "
                           "and that the cluster is up") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "version mismatch" in text.lower() or "Version mismatch" in str(exc):
        return ("Ray or Python versions differ between this machine and the cluster (" + text[:300] + "); "
                "install the cluster's Ray and Python versions here (pip install 'assetkit[ray]' pins Ray)")
    return text[:400]


# ------------------------------------------------------------------------------ the start-up check
def work_spec(ctx: RunContext, campaign: Campaign, settings: Settings) -> WorkSpec:
    """What every worker needs to rebuild this run's context: absolute paths (the nodes see the
    same files at the same paths) and what the driver decided (run id, licence record)."""
    import dataclasses

    options = ctx.options
    model = options.model
    if model and Path(model).exists():
        model = str(Path(model).resolve())
    opts = dataclasses.replace(options, out=Path(os.path.realpath(options.out)), model=model, jobs=1,
                               settings=Path(settings.path).resolve() if settings.path else None, ledger=None)
    assert ctx.plan is not None
    from ..steps.export import sheet_keys

    brief_path = campaign.brief.path
    assert brief_path is not None
    return WorkSpec(brief=str(Path(brief_path).resolve()), pipeline=str(campaign.pipeline.path.resolve()),
                    options=opts, settings=str(opts.settings) if opts.settings else None, run_id=ctx.run_id,
                    admitted=dict(ctx.provenance_extra or {}), sheet_tiles=ctx.sheet_tiles,
                    sheet_keys=sheet_keys(ctx), plan_digest=plan_digest([j.key for j in ctx.plan.jobs]),
                    model_threads=settings.executor.ray.model_threads or _local_threads(),
                    token=ctx.run_id + secrets.token_hex(4))


def _local_threads() -> int:
    """The torch thread count a local run here uses, when this process has torch loaded (a CPU
    model's pixels depend on it); 0 otherwise (an actor then takes its node's cores)."""
    import sys

    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else 0


def check_nodes(ray, spec: WorkSpec, conf: RaySettings, ctx: RunContext) -> list[dict]:
    """Before any asset is made: on every node, a worker writes a probe file in ``--out`` that the
    driver reads back (is --out shared?), and reports its assetkit and Python versions and the keys
    of what it would make (same brand kit, brief, pipeline and model files?). Every node that
    fails is named in one error (exit 2)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from .storage import open_storage

    nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
    if not nodes:
        raise ClusterError("the Ray cluster has no live node with CPUs")
    task = ray.remote(num_cpus=0, max_retries=0)(probe)
    calls = []
    for i, node in enumerate(nodes):
        name, text = f".assetkit-probe-{secrets.token_hex(4)}-{i}.tmp", secrets.token_hex(8)
        strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
        calls.append((node, name, text, task.options(scheduling_strategy=strategy).remote(spec, name, text)))
    storage = open_storage(spec.options.out)
    problems, found = [], []
    here = python_version()
    for node, name, text, ref in calls:
        where = f"node {node.get('NodeManagerHostname') or node.get('NodeManagerAddress')}"
        try:
            got = ray.get(ref, timeout=max(conf.connect_timeout, 60.0))
        except ray.exceptions.GetTimeoutError:
            problems.append(f"{where} did not answer the start-up probe within {max(conf.connect_timeout, 60):g} s")
            continue
        except Exception as exc:  # a worker that cannot import assetkit, a dead node...
            problems.append(f"{where}: the start-up probe failed: {_one_line(exc)} (is assetkit "
                            f"{spec.assetkit_version} installed there?)")
            continue
        found.append(got)
        try:
            shared = storage.read_bytes(name).decode() == text
        except FileNotFoundError:
            shared = False
        except AssetkitError as exc:
            problems.append(f"{where}: {exc}")
            continue
        finally:
            storage.unlink(name)
        if got["error"] and "probe file" in got["error"]:
            problems.append(f"{where}: {got['error']}")
        elif not shared:
            problems.append(f"{where} wrote its probe file in --out {spec.options.out} but this machine does not "
                            "see it: --out must be a folder every node shares (NFS or a cluster file system) at "
                            "the same path")
        elif got["assetkit"] != spec.assetkit_version:
            problems.append(f"{where} runs assetkit {got['assetkit']}, this machine {spec.assetkit_version}: install "
                            "the same version everywhere")
        elif got["python"] != here:
            problems.append(f"{where} runs Python {got['python']}, this machine {here}: use the same Python version")
        elif got["error"]:
            problems.append(f"{where}: {got['error']}")
        elif got["plan_digest"] != spec.plan_digest:
            problems.append(f"{where} sees other inputs than this machine (brand kit, brief, pipeline or model files "
                            "differ, or the model resolves to another device): give every node the same files at "
                            "the same paths")
    if problems:
        raise ClusterError("the cluster cannot run this campaign; nothing was made:\n  " + "\n  ".join(problems))
    ctx.progress.log(f"ray: {len(nodes)} node(s) checked (--out shared, same assetkit {spec.assetkit_version}, "
                     "same inputs)")
    return found


# ------------------------------------------------------------------------------ the run
def _drive(ray, ctx: RunContext, state: RunState, gen_step, spec: WorkSpec, conf: RaySettings,
           nodes: list[dict]) -> None:
    """Stream every batch of masters through actors and tasks; book the records as they come."""
    gen, items = gen_step.prepare(ctx, state)
    by_master: dict[Any, list] = {}
    for job in state.pending:
        by_master.setdefault(job.master_id, []).append(job)
    cache = ctx.cache.sub("masters")
    cached: list[Item] = []
    todo: list[Item] = []
    for item in items:  # only the files' presence is looked at here: the pixels are read on the workers
        key = item[2]
        if not ctx.options.force and cache.exists(f"{key}.png") and cache.exists(f"{key}.json"):
            cached.append(item)
        else:
            todo.append(item)
    chunk = max(1, gen.batch_size)
    todo = gen_step.order(state, todo)
    batches: deque[tuple[str, list[Item]]] = deque()
    batches.extend(("load", cached[i:i + chunk]) for i in range(0, len(cached), chunk))
    batches.extend(("make", todo[i:i + chunk]) for i in range(0, len(todo), chunk))

    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    n_actors = conf.actors or max(1, gpus)
    retries = conf.max_retries
    actor_cls = ray.remote(num_gpus=1 if gpus else 0, num_cpus=0 if gpus else conf.actor_cpus, max_restarts=retries,
                           max_task_retries=retries)(MasterMaker)
    task = ray.remote(num_cpus=conf.task_cpus, max_retries=retries, retry_exceptions=False)(finish_batch)
    actors: list = []
    book = _Book(ctx, state, by_master)
    info = dict(state.generator_info)
    cap = conf.max_masters_in_flight
    inflight: dict[Any, tuple[str, list[Item]]] = {}  # finish task → its batch
    making: dict[Any, int] = {}  # actor call → masters it makes (for the progress bar)
    held = 0
    failed: BaseException | None = None
    labels = [s.name for s in ctx.pipeline.steps[1:]]
    with ExitStack() as stack:
        bars = {"generate": stack.enter_context(ctx.progress.task("generate", len(items)))}
        for label in labels:
            bars[label] = stack.enter_context(ctx.progress.task(label, len(state.pending)))
        book.bars = bars
        while batches or inflight:
            while failed is None and batches and (not inflight or held + len(batches[0][1]) <= cap):
                kind, part = batches.popleft()
                jobs = [j for mid, _, _ in part for j in by_master.get(mid, [])]
                if kind == "make":
                    if not actors:
                        actors = [actor_cls.remote(spec) for _ in range(n_actors)]
                    actor = actors[book.made_batches % len(actors)]
                    book.made_batches += 1
                    made = actor.make.remote(part)
                    making[made] = len(part)
                    ref = task.remote(spec, info, jobs, made, [])
                else:
                    ref = task.remote(spec, info, jobs, None, part)
                inflight[ref] = (kind, part)
                held += len(part)
            waiting = list(inflight) + list(making)
            done, _ = ray.wait(waiting, num_returns=1, fetch_local=False)
            for ref in done:
                if ref in making:
                    bars["generate"].advance(making.pop(ref))
                    continue
                kind, part = inflight.pop(ref)
                held -= len(part)
                try:
                    record = ray.get(ref)
                except Exception as exc:  # after Ray's retries: stop cleanly, keep what is done
                    failed = failed or _cause(exc)
                    continue
                if kind == "load":
                    bars["generate"].advance(record["loaded"])
                if record["damaged"]:  # unreadable cached masters: made again by the model
                    batches.extend(("make", record["damaged"][i:i + chunk])
                                   for i in range(0, len(record["damaged"]), chunk))
                book.add(record)
            if failed is not None:
                for ref in making:
                    with contextlib.suppress(Exception):  # best effort: it may be done already
                        ray.cancel(ref, force=False)
                making.clear()
                batches.clear()
    for actor in actors:
        ray.kill(actor)
    if failed is not None:
        done_n = len(book.seen)
        ctx.progress.log(f"ray: stopped after an error; {done_n} asset(s) were exported and the masters made are "
                         "cached: the next run picks up from there")
        raise failed
    ctx.streamed = True
    ctx.executor_info = book.summary(conf, n_actors, gpus, len(nodes))


def _cause(exc: BaseException) -> BaseException:
    """The error a task raised (an assetkit error keeps its message and exit code), else a
    ClusterError naming what Ray said."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, AssetkitError):
        return cause
    return ClusterError(f"the Ray run stopped: {_one_line(cause or exc)}")


class _Book:
    """The driver's books: each content key once, per-node counts and busy seconds."""

    def __init__(self, ctx: RunContext, state: RunState, by_master: dict):
        self.ctx, self.state, self.by_master = ctx, state, by_master
        self.seen: set[str] = set()
        self.nodes: dict[str, dict] = {}
        self.made_batches = 0
        self.bars: dict = {}
        self.duplicates = 0

    def add(self, record: dict) -> None:
        state, ctx = self.state, self.ctx
        new = [e for e in record["outputs"] if e["key"] not in self.seen]
        self.duplicates += len(record["outputs"]) - len(new)
        keys = {e["key"] for e in new}
        self.seen |= keys
        state.outputs.extend(new)
        state.checks.extend(c for c in record["checks"] if c.job.key in keys)
        for k, thumb in record["thumbs"].items():
            if k in keys:
                ctx.thumbs[k] = thumb
        for name, secs in record["timings"].items():
            state.timings[name] = state.timings.get(name, 0.0) + secs
            if name in self.bars:
                self.bars[name].advance(len(new))
        if new:  # a batch is booked once: its masters' compute with it
            state.compute_seconds += record["compute_seconds"]
            state.compute_ms += record["compute_ms"]
            state.timings["generate"] = state.timings.get("generate", 0.0) + record["generate_seconds"]
        node = self.nodes.setdefault(record["node"], {"assets": 0, "masters": 0, "seconds": 0.0, "workers": set()})
        node["assets"] += len(new)
        node["masters"] += record["made"] + record["loaded"] if new else 0
        node["seconds"] += record["seconds"]
        node["workers"].add(record["pid"])

    def summary(self, conf: RaySettings, actors: int, gpus: int, nodes: int) -> dict:
        return {"name": "ray", "nodes": nodes, "actors": actors, "gpus": gpus, "duplicates_dropped": self.duplicates,
                "max_masters_in_flight": conf.max_masters_in_flight,
                "per_node": {name: {"assets": n["assets"], "masters": n["masters"], "seconds": round(n["seconds"], 3),
                                    "worker_processes": len(n["workers"])}
                             for name, n in sorted(self.nodes.items())}}
