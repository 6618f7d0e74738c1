"""Scale benchmark: the local executor against Ray on this machine, and what the driver can book.

1. **Executors.** The draft campaign and the tiny-model campaign (the tiny random SD pipeline of
   ``tests/tinymodels.py``, 64×64 masters in 2 steps, assets composed at full format size), each
   run through the CLI in its own process and a fresh out folder: ``--executor local`` (the
   baseline), then Ray with 1 and 2 worker processes, side by side in this one invocation.
   Printed per run: wall, CPU of the process tree, assets, masters; for Ray its overhead over
   local per asset and per master, and the ratio to local. Every run's asset bytes are compared
   with the local run's (same sha256 per path, or the bench says which differ).
2. **Driver saturation.** A synthetic stream of ``--assets`` asset records (default 100,000; the
   draft run's real records as templates, one per format × locale, given each job's own path,
   key, concept, variant and hashes) fed through the code the runner runs after the workers are
   done: ``runner.build_manifest``, ``runner.gate``, every step's ``finalize`` (export writes
   manifest.json) and ``ledger.record_run`` (pricing against the example quote, the entries,
   totals and hash chain in one transaction). Planning (``runner.plan_run``) and receiving the
   records (unpickling them per master batch, the least that a transfer from a worker costs the
   driver) are reported beside it. Records per second of booking = the asset rate at which a
   single driver saturates. ``--baseline SRC`` books the same stream with another source tree
   (e.g. ``/work/main``) in a child process and prints the ratio.

Timings are wall and CPU seconds; this machine is shared, so the load average
(``os.getloadavg``) is printed before and after every phase. No GPU is used.

    .venv/bin/python bench/scale.py [--quick] [--assets N] [--baseline SRC] [--skip-executors]
                                    [--skip-driver] [--work DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
# --code SRC (the driver child of --baseline): book with that tree's assetkit instead of this one's
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv else ROOT
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(ROOT / "tests"))

FORMATS = ["meta-square", "meta-portrait", "meta-story", "meta-landscape", "iab-medium-rectangle",
           "iab-leaderboard", "iab-half-page", "iab-wide-skyscraper"]
LOCALES = {
    "en-US": ("Spring tastes like fresh coffee", "Our new light roast, fairly traded and roasted in small batches.",
              "Discover now"),
    "de-DE": ("Der Frühling schmeckt nach Kaffee", "Unsere neue Frühlingsröstung, fair gehandelt.",
              "Jetzt entdecken"),
}
VARIANTS = 2
ASSETS_PER_CONCEPT = VARIANTS * len(FORMATS) * len(LOCALES)
SETTINGS_YAML = """\
currency: EUR
compute: {gpu_hour: 2.40, cpu_hour: 0.36}
internal_hourly_rate: 60
tool_cost_per_asset: 0.10
"""


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def child_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def write_brief(work: Path, concepts: int, model: Path | None = None) -> Path:
    """A brief of ``concepts`` concepts × 2 variants × 8 formats × 2 locales under ``work``."""
    brand = work / "brand" / "nordlicht"
    if not brand.is_dir():
        shutil.copytree(ROOT / "brand" / "nordlicht", brand)
    copy = "\n".join(f"  {loc}:\n    headline: {h}\n    subline: \"{s}\"\n    cta: {c}"
                     for loc, (h, s, c) in LOCALES.items())
    lines = "\n".join(f"  - id: c{i:05d}\n    prompt: a ceramic cup of light roast coffee number {i} on a wooden "
                      "table by a window, spring morning" for i in range(concepts))
    brief = work / "brief.yaml"
    brief.write_text(f"""version: 1
campaign: scale
brand: brand/nordlicht
{f"model: {model}" if model else ""}
seed: 20270301
variants: {VARIANTS}
formats: [{", ".join(FORMATS)}]
copy:
{copy}
concepts:
{lines}
""")
    return brief


# -- 1. executors -----------------------------------------------------------------------------

def executor_flags() -> set[str]:
    """The options ``assetkit run`` has here (which executors can be benchmarked)."""
    out = subprocess.run([sys.executable, "-m", "assetkit", "run", "--help"], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return {w.strip(",") for w in out.stdout.split() if w.startswith("--")}


def cli_run(work: Path, brief: Path, out: Path, extra: list[str], pipeline: Path | None) -> dict:
    """``assetkit run`` in its own process and a fresh out folder, no ledger."""
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(work / "xdg"))
    cmd = [sys.executable, "-m", "assetkit", "run", str(brief), "--out", str(out), "--no-ledger",
           "--progress", "none", "--json", *extra]
    if pipeline is not None:
        cmd += ["--pipeline", str(pipeline)]
    before, cpu0, t0 = load(), child_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, child_cpu() - cpu0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    manifest = json.loads((out / "scale" / "manifest.json").read_text())
    return {"wall_s": wall, "cpu_s": cpu, "assets": len(manifest["assets"]),
            "masters": len({a["master"] for a in manifest["assets"] if a.get("master")}),
            "sha256": {a["path"]: a["sha256"] for a in manifest["assets"]}, "load": f"{before} → {load()}",
            "manifest": manifest}


def executors(work: Path, quick: bool) -> dict:
    """Local vs Ray (1 and 2 workers) for the draft and the tiny-model campaign."""
    from tinymodels import build_tiny_sd

    flags = executor_flags()
    ray_ok = "--executor" in flags
    try:
        import ray  # noqa: F401
    except ImportError:
        ray_ok = False
    model = work / "tiny-sd"
    if not (model / "model_index.json").is_file():
        build_tiny_sd(model)
    tiny = work / "tiny.yaml"
    tiny.write_text("version: 1\nsteps:\n  - generate: {generator: diffusers, steps: 2, width: 64, height: 64, "
                    "dtype: float32, device: cpu}\n  - reframe: {}\n  - compose: {}\n  - check: {}\n  - export: {}\n")
    campaigns = [("draft", work / "draft", 1 if quick else 2, None, None),
                 ("tiny-model", work / "tinym", 1, model, tiny)]
    runs = [("local", ["--executor", "local"] if ray_ok else [])]
    if ray_ok:
        for n in (1, 2):  # a local Ray instance of n CPUs: the model actor and the tasks take half a CPU each
            settings = work / f"ray-{n}.yaml"
            settings.write_text(f"version: 1\nexecutor:\n  name: ray\n  ray:\n    num_cpus: {n}\n    actors: 1\n"
                                "    actor_cpus: 0.5\n    task_cpus: 0.5\n")
            runs.append((f"ray ×{n}", ["--executor", "ray", "--settings", str(settings)]))
        print("  Ray: a local instance per run (num_cpus 1 or 2; one model actor and the tasks at 0.5 CPU each)")
    else:
        print("  Ray columns skipped: " + ("`assetkit run` has no --executor option in this tree"
                                           if "--executor" not in flags else "ray is not installed (pip install "
                                           "'assetkit[ray]')"))
    results: dict = {}
    for name, cwork, concepts, mdl, pipe in campaigns:
        cwork.mkdir(parents=True, exist_ok=True)
        brief = write_brief(cwork, concepts, mdl)
        results[name] = {}
        for label, extra in runs:
            r = cli_run(cwork, brief, cwork / ("out-" + label.replace(" ×", "")), extra, pipe)
            results[name][label] = r
            base = results[name]["local"]
            line = (f"  {name:<10} {label:<7} {r['wall_s']:7.2f} s wall {r['cpu_s']:7.2f} s CPU  "
                    f"{r['assets']} assets, {r['masters']} masters  load {r['load']}")
            if label != "local":
                over = r["wall_s"] - base["wall_s"]
                same = r["sha256"] == base["sha256"]
                line += (f"\n  {'':<18} vs local: ×{r['wall_s'] / base['wall_s']:.2f} wall; overhead "
                         f"{over / r['assets'] * 1000:+.0f} ms/asset, {over / max(r['masters'], 1):+.2f} s/master; "
                         + ("assets byte-identical" if same else "ASSETS DIFFER: " + ", ".join(
                             p for p in base["sha256"] if base["sha256"][p] != r["sha256"].get(p))[:300]))
            print(line, flush=True)
    return results


# -- 2. driver saturation ------------------------------------------------------------------------

def synthetic_records(plan, templates: dict) -> list[dict]:
    """One record per job of ``plan``, as the export step returns it: a real record of the same
    format and locale with this job's path, key, concept, variant, seed and hashes."""
    out = []
    for j in plan.jobs:
        r = dict(templates[(j.format.name, j.locale)])
        sha = hashlib.sha256(j.key.encode()).hexdigest()
        r.update(path=j.relpath("png"), key=j.key, concept=j.concept, variant=j.variant, seed=j.seed, sha256=sha,
                 content_sha256=sha, master=hashlib.sha256(repr(j.master_id).encode()).hexdigest(),
                 generator="diffusers")
        out.append(r)
    return out


class Clock:
    """Wall and CPU seconds of named phases."""

    def __init__(self) -> None:
        self.phases: dict[str, tuple[float, float]] = {}

    def __call__(self, name: str):
        clock = self

        class _Phase:
            def __enter__(self):
                self.t, self.c = time.perf_counter(), time.process_time()

            def __exit__(self, *exc):
                clock.phases[name] = (time.perf_counter() - self.t, time.process_time() - self.c)

        return _Phase()


def driver(work: Path, n_assets: int, templates: dict) -> dict:
    """Plan, receive and book ``n_assets`` synthetic records with this tree's assetkit."""
    from datetime import UTC, datetime

    from assetkit import runner
    from assetkit.campaign import load_campaign
    from assetkit.context import RunOptions
    from assetkit.ledger import Ledger, record_run
    from assetkit.quotes import load_quotes
    from assetkit.state import RunState

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    concepts = -(-n_assets // ASSETS_PER_CONCEPT)
    brief = write_brief(work, concepts)
    (work / "settings.yaml").write_text(SETTINGS_YAML)
    opts = RunOptions(out=work / "out", ledger=work / "ledger.sqlite", settings=work / "settings.yaml")
    with Ledger(opts.ledger) as lg:
        lg.import_quote(load_quotes(ROOT / "examples" / "quotes" / "agency-2026.yaml")[0], "agency-2026.yaml")
    clock = Clock()
    with clock("load brief"):
        campaign = load_campaign(brief)
    ctx = runner.make_context(campaign, opts)
    with clock("plan"):
        plan = runner.plan_run(ctx, campaign)
    records = synthetic_records(plan, templates)
    by_master: dict = {}
    for j, r in zip(plan.jobs, records):
        by_master.setdefault(j.master_id, []).append(r)
    blobs = [pickle.dumps(batch, protocol=5) for batch in by_master.values()]
    del records, by_master
    state = RunState(jobs=plan.jobs, pending=plan.pending)
    state.generator_info = {"name": "diffusers", "model": "sd-turbo", "device": "cuda:0"}
    ctx.plan, ctx.run_id = plan, "20261202T000000Z-bench0"
    ctx.started_at, ctx.t0 = datetime.now(UTC), time.perf_counter()
    (opts.out / campaign.brief.campaign).mkdir(parents=True, exist_ok=True)
    with clock("receive"):
        for b in blobs:
            state.outputs.extend(pickle.loads(b))
    state.compute_seconds = sum(r["compute_seconds"] for r in state.outputs)
    with clock("manifest"):
        manifest = runner.build_manifest(ctx, state)
        runner.gate(ctx, manifest, plan.out_dir / runner.MANIFEST)
    with clock("write manifest.json"):
        for step in ctx.pipeline.steps:
            step.finalize(ctx, manifest)
    with clock("ledger"):
        rec = record_run(manifest, plan.out_dir / runner.MANIFEST, opts.ledger, opts.settings, campaign.brief)
    with Ledger(opts.ledger, readonly=True) as lg:
        booked = lg.conn.execute("SELECT COUNT(*) FROM entries WHERE kind = 'asset' AND run_id = ?",
                                 (ctx.run_id,)).fetchone()[0]
        h = hashlib.sha256()  # what was booked, less the clock and the folder (they differ between the two)
        for row in lg.conn.execute("SELECT * FROM entries ORDER BY id"):
            skip = ("recorded_at", "manifest_path", "occurred_at", "month")
            h.update(repr({k: row[k] for k in row.keys() if k not in skip}).encode())  # noqa: SIM118
    digest = hashlib.sha256(json.dumps({k: v for k, v in manifest.items()
                                        if k not in ("timings", "finished_at", "started_at", "brief")},
                                       sort_keys=True).encode()).hexdigest()
    return {"assets": len(plan.jobs), "booked": booked, "entries": rec.entries, "phases": clock.phases,
            "manifest_bytes": (plan.out_dir / runner.MANIFEST).stat().st_size, "manifest_digest": digest,
            "entries_digest": h.hexdigest(), "peak_rss_mb": peak_rss_mb(),
            "code": str(CODE)}


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BOOKING = ("manifest", "write manifest.json", "ledger")


def print_driver(r: dict, label: str) -> None:
    n = r["assets"]
    print(f"  driver ({label}: {r['code']}), {n:,} asset records, {r['booked']:,} asset entries booked "
          f"({r['entries']:,} entries), manifest.json {r['manifest_bytes'] / 1e6:.0f} MB, peak RSS "
          f"{r['peak_rss_mb']:,.0f} MB")
    for name, (wall, cpu) in r["phases"].items():
        print(f"    {name:<20} {wall:8.2f} s wall {cpu:8.2f} s CPU  ({n / max(cpu, 1e-9):>9,.0f} records/s CPU)")
    wall = sum(r["phases"][k][0] for k in BOOKING)
    cpu = sum(r["phases"][k][1] for k in BOOKING)
    print(f"    booking (manifest + manifest.json + ledger): {wall:.2f} s wall, {cpu:.2f} s CPU → "
          f"{n / cpu:,.0f} records/s CPU ({n / wall:,.0f}/s wall)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 draft concept, 10,000 driver records")
    ap.add_argument("--assets", type=int, help="driver records (default 100,000; --quick 10,000)")
    ap.add_argument("--baseline", type=Path, metavar="SRC", help="also book the stream with this source tree")
    ap.add_argument("--skip-executors", action="store_true", help="only the driver part")
    ap.add_argument("--skip-driver", action="store_true", help="only the executors part")
    ap.add_argument("--work", type=Path, help="keep the models and runs here")
    ap.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # the --baseline child
    ap.add_argument("--driver-json", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    n = args.assets or (10_000 if args.quick else 100_000)
    work = args.work or Path(tempfile.mkdtemp(prefix="assetkit-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.driver_json:  # the --baseline child: templates from the parent, result as JSON
        templates = {tuple(k.split("|")): v for k, v in json.loads((work / "templates.json").read_text()).items()}
        args.driver_json.write_text(json.dumps(driver(work / "driver-baseline", n, templates)))
        return
    print(f"load average {load()}, {os.cpu_count()} CPUs; work folder {work}")
    results: dict = {}
    if not args.skip_executors:
        print("executors (each run a fresh `assetkit run` process and out folder, no ledger):")
        results = executors(work, args.quick)
    if args.skip_driver:
        return
    draft = results.get("draft", {}).get("local")
    if draft is None:  # templates need one real draft run
        cwork = work / "draft"
        cwork.mkdir(parents=True, exist_ok=True)
        draft = cli_run(cwork, write_brief(cwork, 1), cwork / "out-local", [], None)
    templates = {(a["format"], a["locale"]): a for a in draft["manifest"]["assets"]}
    print(f"driver saturation: {n:,} synthetic asset records through build_manifest, gate, finalize "
          f"(manifest.json) and ledger.record_run (load {load()})")
    mine = driver(work / "driver", n, templates)
    print_driver(mine, "this tree")
    if args.baseline:
        (work / "templates.json").write_text(json.dumps({"|".join(k): v for k, v in templates.items()}))
        out = work / "driver-baseline.json"
        subprocess.run([sys.executable, __file__, "--code", str(args.baseline), "--driver-json", str(out),
                        "--work", str(work), "--assets", str(n)], check=True)
        base = json.loads(out.read_text())
        print_driver(base, "baseline")
        cpu = {k: (sum(r["phases"][p][1] for p in BOOKING)) for k, r in (("mine", mine), ("base", base))}
        print(f"  booking CPU: this tree {cpu['mine']:.2f} s vs baseline {cpu['base']:.2f} s → "
              f"×{cpu['base'] / cpu['mine']:.1f} faster; plan ×"
              f"{base['phases']['plan'][1] / mine['phases']['plan'][1]:.1f}; same manifest content: "
              f"{'yes' if base['manifest_digest'] == mine['manifest_digest'] else 'NO'}, same ledger entries: "
              f"{'yes' if base['entries_digest'] == mine['entries_digest'] else 'NO'}")
    print(f"load average {load()}")


if __name__ == "__main__":
    main()
