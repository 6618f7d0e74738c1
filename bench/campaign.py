"""A real campaign at benchmark speed: the reference campaign end to end through ``assetkit run``.

The reference campaign: 4 concepts × 4 variants × 8 formats (Meta square/portrait/story/landscape,
IAB 300×250, 728×90, 300×600, 160×600) × 2 locales = 256 assets from 48 masters in three sizes
(512×512, 448×640, 640×448), on the SD-Turbo-shaped random model of ``bench/diffusion.py``
(``preset: fast``, TAESD decoder, default settings, no compile). ``--quick``: 1 concept, so
64 assets from 12 masters. Each run is the CLI (``assetkit run --no-ledger``) in a fresh out
folder, in its own process, so model load and every warm-up are counted. Before each run the
model's files are read once (timed, printed and in the JSON), so every run starts with them in
the page cache as run 1 does right after the model is built; ``--cold-cache`` skips that.
Before the runs the generator is loaded once in a child process, so the weights cache
(``$ASSETKIT_WEIGHTS_CACHE``, here ``WORK/weights-cache``) holds the model in bf16 as after any
user's first run (writing it is printed with its time: once per model and dtype); the runs, and
the page-cache read before each, use that entry.

Stock diffusers (fp32, full VAE, one image per call, as its docs show SD-Turbo) is measured per
size right after each run, in a child process (``--quick``: 512×512 only, used for every size),
and each run's speed-up is against the stock figures measured next to it: this host's speed
drifts (measured 2026-12-04: the same 48 masters took 170.7 s of model compute in one run and
189.3 s in the next, with no steal time and nothing else running), so a stock figure taken a
quarter of an hour later compares a run against another hour's machine. The speed-up against
the mean of all the runs' stock figures is printed too; ``--stock-once`` measures stock once,
after all runs, as before.

Measured after the runs:
  * steady state: the same generator (same model, preset, sizes) made image after image, per
    size, after one warm-up image of that size; s/image per size;
  * the compose/export share: the same brief re-run with its masters from the run's cache and
    the steps one after another (as ``bench/compose.py`` does), so reframe + compose + check +
    export time is their own.

Prints per run: wall, masters, s/master, campaign speed-up = masters × stock s/image ÷ wall, and
the target check wall ≤ 1.15 × (Σ masters × steady s/image) + compose/export share. The load
average (``os.getloadavg``) is printed before and after each phase: this CPU may be shared.

    .venv/bin/python bench/campaign.py [--quick] [--runs N] [--work DIR] [--masters per-aspect|shared]
                                       [--worker-nice N] [--compare SRC] [--skip-stock S_PER_IMAGE]
                                       [--stock-once] [--cold-cache]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

FORMATS = ["meta-square", "meta-portrait", "meta-story", "meta-landscape", "iab-medium-rectangle",
           "iab-leaderboard", "iab-half-page", "iab-wide-skyscraper"]
CONCEPTS = [
    ("morning-ritual", "a ceramic cup of light roast coffee on a wooden table by a window, spring morning"),
    ("roastery", "freshly roasted coffee beans pouring from a drum roaster, steam, warm light"),
    ("pour-over", "a barista pouring hot water over a glass pour-over dripper, close up, morning light"),
    ("picnic", "a thermos and two enamel mugs of coffee on a blanket in a birch forest, spring picnic"),
]


def child_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children: on a shared machine the
    work a run did, which other processes' load inflates far less than its wall time."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f}/{b:.2f}/{c:.2f}"


def write_campaign(work: Path, model: Path, tiny_vae: Path, concepts: int, masters: str, code: Path = ROOT) -> Path:
    """The reference brief and its pipeline (social-campaign with the fast preset) under ``work``,
    with the brand kit of the source tree ``code`` (an older tree reads its own kit's schema)."""
    brand = work / "brand" / "nordlicht"
    if not brand.is_dir():
        shutil.copytree(code / "brand" / "nordlicht", brand)
    gen = f"      preset: fast\n      tiny_vae: {tiny_vae}\n"
    if masters != "per-aspect":
        gen += f"      masters: {masters}\n"
    (work / "pipeline.yaml").write_text(f"""version: 1
name: bench-campaign
steps:
  - generate:
{gen}  - reframe: {{}}
  - compose: {{}}
  - check:
      fail_on: error
  - export:
      format: png
      contact_sheet: true
""")
    lines = "\n".join(f"  - id: {cid}\n    prompt: {prompt}" for cid, prompt in CONCEPTS[:concepts])
    brief = work / "brief.yaml"
    brief.write_text(f"""version: 1
campaign: reference
brand: brand/nordlicht
model: {model}
seed: 20270301
variants: 4
formats: [{", ".join(FORMATS)}]
copy:
  en-US:
    headline: Spring tastes like fresh coffee
    subline: Our new light roast, fairly traded and roasted in small batches.
    cta: Discover now
  de-DE:
    headline: Der Frühling schmeckt nach Kaffee
    subline: "Unsere neue Frühlingsröstung, fair gehandelt."
    cta: Jetzt entdecken
concepts:
{lines}
""")
    return brief


def cli_run(work: Path, brief: Path, out: Path, worker_nice: int | None = None, code: Path = ROOT) -> dict:
    """``assetkit run`` (from the source tree ``code``) in its own process, a fresh out folder, no
    ledger: wall time, CPU time and manifest."""
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(code) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if worker_nice is not None:
        env["ASSETKIT_WORKER_NICE"] = str(worker_nice)
    cmd = [sys.executable, "-m", "assetkit", "run", str(brief), "--out", str(out), "--no-ledger",
           "--pipeline", str(brief.parent / "pipeline.yaml"), "--progress", "none", "--json"]
    before = load()
    cpu0 = child_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=brief.parent, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    cpu = child_cpu() - cpu0
    after = load()
    if proc.returncode != 0:
        sys.exit(f"assetkit run failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    manifest = json.loads((out / "reference" / "manifest.json").read_text())
    masters = {a["master"] for a in manifest["assets"] if a.get("master")}
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "assets": len(manifest["assets"]),
            "masters": len(masters), "timings": manifest["timings"],
            "compute_s": round(manifest["compute_seconds"], 2), "load_before": before, "load_after": after}


def read_model_files(*folders: Path) -> tuple[float, int]:
    """Read every file of the model folders once (seconds, bytes), so each run starts with them in
    the page cache, as on a machine that keeps recently read files cached. Measured 2026-12-03 on
    a 24 GB VM: the page cache held 1.9 GB minutes after a run (the model is 4.8 GiB) and a cold
    read of the UNet took 9.9 s; without this, run 1 (model just built) loaded in 5.5 s, runs 2
    and 3 in 8.5 and 11.9 s. With it the load was 9.6-10.6 s on a slower hour of the same host:
    the read time printed shows whether a run started cold."""
    t0, n = time.perf_counter(), 0
    for folder in folders:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                with open(f, "rb") as fh:
                    while chunk := fh.read(1 << 23):
                        n += len(chunk)
    return time.perf_counter() - t0, n


def run_sizes(res: dict, quick: bool) -> list[tuple[int, int]]:
    """The sizes a run's masters have (``--quick``: the square's only, standing for every size)."""
    sizes = sorted({tuple(int(v) for v in k.split("x")) for k in res["masters_by_size"]},
                   key=lambda s: (s[0] != s[1], s))
    return sizes[:1] if quick else sizes  # type: ignore[return-value]


def master_sizes(out: Path) -> dict[str, int]:
    """Masters per size, read from the run's master cache sidecars."""
    sizes: dict[str, int] = {}
    for meta in sorted((out / "reference" / ".cache" / "masters").glob("*.json")):
        w, h = json.loads(meta.read_text())["params"]["size"]
        sizes[f"{w}x{h}"] = sizes.get(f"{w}x{h}", 0) + 1
    return sizes


def compose_share(work: Path, brief: Path, out: Path) -> dict:
    """reframe + compose + check + export of the same brief, masters from the run's cache, steps
    one after another (not streamed), so their time is their own."""
    from assetkit.context import RunOptions
    from assetkit.runner import run_brief

    camp = out / "reference"
    for child in camp.iterdir():  # keep only the master cache
        if child.name != ".cache":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    t0 = time.perf_counter()
    res = run_brief(brief, RunOptions(out=out, record=False, stream=False), pipeline=str(work / "pipeline.yaml"))
    wall = time.perf_counter() - t0
    tm = res.manifest["timings"]
    share = sum(tm.get(k, 0.0) for k in ("reframe", "compose", "check", "export"))
    return {"share_s": round(share, 2), "wall_s": round(wall, 2), "generate_s": round(tm.get("generate", 0.0), 2),
            "timings": tm}


def steady(model: Path, tiny_vae: Path, sizes: list[tuple[int, int]], n: int) -> dict[str, dict]:
    """Steady-state s/image per size of the run's generator: one warm-up image, then ``n``."""
    from assetkit.generators import GenerationRequest, get_generator

    prompt = ", ".join([CONCEPTS[0][1], "warm morning light, nordic interior, specialty coffee"])
    gen = get_generator("diffusers", model=str(model), preset="fast", tiny_vae=str(tiny_vae))
    gen.load()
    out = {}
    for w, h in sizes:
        reqs = [GenerationRequest("bench", i, prompt, "", w, h, seed=i, palette={}) for i in range(n + 1)]
        t0 = time.perf_counter()
        gen.generate(reqs[:1])
        warm = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        gen.generate(reqs[1:])
        out[f"{w}x{h}"] = {"s_per_image": round((time.perf_counter() - t0) / n, 3), "warmup_s": round(warm, 2),
                           "cpu_s_per_image": round((time.process_time() - c0) / n, 3)}
    if len(sizes) > 1:  # what a size change costs: back to the first size, packed copies kept or not
        from assetkit.generators import cpu_kernels

        back = {}
        for kept in (cpu_kernels.PACKED_SHAPES, 1):
            cpu_kernels.PACKED_SHAPES = kept
            gen.generate([GenerationRequest("bench", 0, prompt, "", *sizes[1], seed=0, palette={})])
            packs = cpu_kernels.stats["packs"]
            t0 = time.perf_counter()
            gen.generate([GenerationRequest("bench", 0, prompt, "", *sizes[0], seed=0, palette={})])
            back[kept] = {"s": round(time.perf_counter() - t0, 3), "packs": cpu_kernels.stats["packs"] - packs}
        out["_size_change"] = {f"shapes_kept_{k}": v for k, v in back.items()}
    gen.close()
    return out


def prime(model: Path, tiny_vae: Path) -> dict:
    """Load the run's generator once, so the weights cache holds the model in the run's dtype
    (``assetkit/generators/weights_cache.py``: written by a model's first load, once per model and
    dtype, as any user's first run does): the entry's folder, and whether this load wrote it."""
    from assetkit.generators import get_generator
    from assetkit.generators.weights_cache import WeightsCache

    said: list[str] = []
    gen = get_generator("diffusers", model=str(model), preset="fast", tiny_vae=str(tiny_vae), log=said.append)
    gen.load()
    cache = WeightsCache.for_load(None, gen.ref, gen.resolved_device()[1], gen.pipeline_class, said.append)
    gen.close()
    entry = cache.find() if cache is not None else None
    return {"entry": str(entry) if entry else None, "wrote": any(" kept in " in line for line in said), "said": said}


def stock(model: Path, sizes: list[tuple[int, int]], n: int) -> dict[str, dict]:
    """Stock diffusers as documented for SD-Turbo (fp32, full VAE, one image per call), per size."""
    import torch
    from diffusers import AutoPipelineForText2Image
    from diffusion import PROMPT

    pipe = AutoPipelineForText2Image.from_pretrained(model, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    out = {}
    for w, h in sizes:
        t0 = time.perf_counter()
        pipe(prompt=PROMPT, num_inference_steps=1, guidance_scale=0.0, width=w, height=h)  # warm-up
        warm = time.perf_counter() - t0
        times = []
        c0 = time.process_time()
        for _ in range(n):
            t0 = time.perf_counter()
            pipe(prompt=PROMPT, num_inference_steps=1, guidance_scale=0.0, width=w, height=h)
            times.append(time.perf_counter() - t0)
        out[f"{w}x{h}"] = {"s_per_image": round(sum(times) / n, 2), "warmup_s": round(warm, 2),
                           "times": [round(t, 2) for t in times],
                           "cpu_s_per_image": round((time.process_time() - c0) / n, 2)}
    del pipe
    return out


def in_child(phase: str, model: Path, tiny_vae: Path, sizes: list[tuple[int, int]], n: int) -> dict:
    """Run a measuring phase in a fresh process: each holds its model alone (peak memory is the
    largest phase's, not their sum) and none inherits another's warm caches."""
    cmd = [sys.executable, __file__, "--phase", phase, "--phase-args",
           json.dumps({"model": str(model), "tiny_vae": str(tiny_vae), "sizes": sizes, "n": n})]
    env = dict(os.environ)
    if phase == "stock":  # stock diffusers as a user runs it: without assetkit's huge-page setting
        env.pop("THP_MEM_ALLOC_ENABLE", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{phase} phase failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_gb() -> float:
    """The largest resident set of any finished child process (file-backed model pages included)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20, 2)


def main() -> None:
    if "--phase" in sys.argv:  # a measuring phase in its own process (see in_child)
        phase = sys.argv[sys.argv.index("--phase") + 1]
        a = json.loads(sys.argv[sys.argv.index("--phase-args") + 1])
        from assetkit.generators.diffusers import quiet_libraries

        quiet_libraries()
        sizes = [tuple(s) for s in a["sizes"]]
        out = (steady(Path(a["model"]), Path(a["tiny_vae"]), sizes, a["n"]) if phase == "steady"
               else prime(Path(a["model"]), Path(a["tiny_vae"])) if phase == "prime"
               else stock(Path(a["model"]), sizes, a["n"]))
        print(json.dumps(out))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 concept: 64 assets from 12 masters")
    ap.add_argument("--runs", type=int, default=1, help="campaign runs (each a fresh CLI process and folder)")
    ap.add_argument("--work", type=Path, help="keep the random models here and reuse them (saves ~30 s)")
    ap.add_argument("--masters", default="per-aspect", help="the generate step's masters option")
    ap.add_argument("--steady-images", type=int, default=2, help="steady-state images per size (default 2)")
    ap.add_argument("--stock-images", type=int, default=1, help="stock images per size after its warm-up")
    ap.add_argument("--worker-nice", help="ASSETKIT_WORKER_NICE for the runs: idle (the default, SCHED_IDLE), "
                                          "N (nice +N) or 0 (workers keep normal priority while the model runs)")
    ap.add_argument("--compare", type=Path, metavar="SRC", help="another source tree (e.g. a checkout of an older "
                    "commit): its runs alternate with this tree's, so both see the same load drift")
    ap.add_argument("--skip-stock", type=float, metavar="S_PER_IMAGE",
                    help="use this stock s/image instead of measuring (saves minutes; say so when quoting)")
    ap.add_argument("--stock-once", action="store_true",
                    help="measure stock diffusers once after all runs instead of right after each (saves ~2 min a "
                         "run; a host whose speed drifts then compares runs against another hour's stock)")
    ap.add_argument("--cold-cache", action="store_true",
                    help="don't read the model's files before each run: runs start with whatever the page cache "
                         "holds")
    args = ap.parse_args()
    from diffusion import build_sd_turbo, model_card

    from assetkit.generators.diffusers import quiet_libraries

    quiet_libraries()
    keep = args.work is not None
    work = args.work or Path(tempfile.mkdtemp(prefix="assetkit-campaign-"))
    try:
        t = time.perf_counter()
        work.mkdir(parents=True, exist_ok=True)
        if (work / "sd-turbo-random" / "model_index.json").exists() and (work / "taesd-random").is_dir():
            model = model_card(work / "sd-turbo-random")
        else:
            model = build_sd_turbo(work)
        tiny = work / "taesd-random"
        print(f"model ready in {time.perf_counter() - t:.1f}s; {os.cpu_count()} CPUs; load average {load()}",
              flush=True)
        os.environ.setdefault("ASSETKIT_WEIGHTS_CACHE", str(work / "weights-cache"))  # not the user's ~/.cache
        t = time.perf_counter()
        primed = in_child("prime", model, tiny, [], 0)
        entry = Path(primed["entry"]) if primed["entry"] else None
        where = os.environ["ASSETKIT_WEIGHTS_CACHE"]
        if entry is None:
            said = "; ".join(primed["said"]) or "the model's files already hold the run's dtype"
            print(f"weights cache ({where}): not used ({said})", flush=True)
        else:
            how = "written (a model's first load: once per model and dtype)" if primed["wrote"] else "found"
            print(f"weights cache: entry {how} in {time.perf_counter() - t:.1f} s at {entry}; the runs load it",
                  flush=True)
        brief = write_campaign(work, model, tiny, 1 if args.quick else 4, args.masters)
        runs = []
        codes = [("this", ROOT, brief)]
        if args.compare:
            src = args.compare.resolve()
            (work / "compare").mkdir(exist_ok=True)
            codes.append(("compare", src, write_campaign(work / "compare", model, tiny, 1 if args.quick else 4,
                                                         args.masters, src)))
        for r in range(args.runs * len(codes)):
            label, code, run_brief = codes[r % len(codes)]  # with --compare: this, compare, this, ... (same drift)
            cache, secs = "page cache as it was", None
            if not args.cold_cache:
                secs, nbytes = read_model_files(entry or model, tiny)  # the files the run reads
                cache = f"model files ({nbytes / 2**30:.1f} GiB) read into the page cache before it in {secs:.1f} s"
            res = cli_run(work, run_brief, work / f"out{r}", args.worker_nice, code)
            res["model_files_read_s"] = None if secs is None else round(secs, 2)
            res["masters_by_size"] = master_sizes(work / f"out{r}")
            res["code"] = label if label == "this" else str(code)
            runs.append(res)
            if not (args.skip_stock or args.stock_once):  # stock right after each run: the same hour's host
                before = load()
                res["stock"] = in_child("stock", model, tiny, run_sizes(res, args.quick), args.stock_images)
                res["stock_load"] = f"{before} → {load()}"
                first = next(iter(res["stock"].values()))
                for k in res["masters_by_size"]:  # --quick: the square's figure stands for every size
                    res["stock"].setdefault(k, dict(first, assumed_from="square"))
            print(f"run {r + 1} ({label} code): {res['assets']} assets from {res['masters']} masters "
                  f"{res['masters_by_size']} in {res['wall_s']} s = {res['wall_s'] / res['masters']:.2f} s/master, "
                  f"CPU {res['cpu_s']} s "
                  f"(generate {res['timings'].get('generate', 0):.1f} s, model compute {res['compute_s']} s, "
                  f"model load {res['timings'].get('generate.model_load', 0):.1f} s, "
                  f"prompt encode {res['timings'].get('generate.prompt_encode', 0):.2f} s, "
                  f"waiting for compose/export {res['timings'].get('generate.waiting_for_later_steps', 0):.1f} s); "
                  f"load average {res['load_before']} → {res['load_after']}; {cache}", flush=True)
            if "stock" in res:
                print(f"  stock diffusers right after run {r + 1} (fp32, full VAE, 1 image/call): "
                      + ", ".join(f"{k} {v['s_per_image']} s/image (warm-up {v['warmup_s']} s)"
                                  for k, v in res["stock"].items()) + f"; load average {res['stock_load']}", flush=True)
        sizes = sorted({tuple(int(v) for v in k.split("x")) for r in runs for k in r["masters_by_size"]},
                       key=lambda s: (s[0] != s[1], s))
        before = load()
        share = compose_share(work, brief, work / "out0")
        print(f"compose/export share: {share['share_s']} s (reframe+compose+check+export, masters from cache, "
              f"not streamed); load average {before} → {load()}", flush=True)
        before = load()
        st = in_child("steady", model, tiny, sizes, args.steady_images)
        change = st.pop("_size_change", None)
        print("steady state (same generator, after one warm-up per size): "
              + ", ".join(f"{k} {v['s_per_image']} s/image (warm-up {v['warmup_s']} s)" for k, v in st.items())
              + f"; load average {before} → {load()}", flush=True)
        if change:
            print("a size change (an image of the first size right after one of the second): "
                  + ", ".join(f"{k.replace('_', ' ')}: {v['s']} s, {v['packs']} re-packs" for k, v in change.items()),
                  flush=True)
        if args.skip_stock:
            sk = {k: {"s_per_image": args.skip_stock, "given": True} for k in st}
            print(f"stock: {args.skip_stock} s/image GIVEN on the command line, not measured", flush=True)
        elif not args.stock_once:  # the mean of the runs' stock figures, per size
            sk = {}
            for k in st:
                got = [r["stock"][k] for r in runs if k in r.get("stock", {})]
                sk[k] = {"s_per_image": round(sum(g["s_per_image"] for g in got) / len(got), 2),
                         "cpu_s_per_image": round(sum(g["cpu_s_per_image"] for g in got) / len(got), 2),
                         "times": [g["s_per_image"] for g in got]}
            print("stock diffusers, mean of the runs' figures: "
                  + ", ".join(f"{k} {v['s_per_image']} s/image {v['times']}" for k, v in sk.items()), flush=True)
        else:
            before = load()
            stock_sizes = sizes[:1] if args.quick else sizes
            sk = in_child("stock", model, tiny, stock_sizes, args.stock_images)
            for k in st:  # --quick: the square's figure stands for every size
                sk.setdefault(k, dict(sk[f"{stock_sizes[0][0]}x{stock_sizes[0][1]}"], assumed_from=stock_sizes[0]))
            print("stock diffusers (fp32, full VAE, 1 image/call): "
                  + ", ".join(f"{k} {v['s_per_image']} s/image" + (" (square's figure)" if "assumed_from" in v else
                                                                   f" (warm-up {v['warmup_s']} s)")
                              for k, v in sk.items()) + f"; load average {before} → {load()}", flush=True)
        print(f"peak resident memory of any process of this bench: {peak_rss_gb()} GB (file-backed model "
              "pages included)", flush=True)
        summary = []
        for i, r in enumerate(runs):
            m = r["masters"]
            steady_total = sum(n * st[k]["s_per_image"] for k, n in r["masters_by_size"].items())
            own = r.get("stock", {})
            stock_mean = sum(n * sk[k]["s_per_image"] for k, n in r["masters_by_size"].items())
            stock_total = sum(n * own.get(k, sk[k])["s_per_image"] for k, n in r["masters_by_size"].items())
            speedup = stock_total / r["wall_s"]
            limit = 1.15 * steady_total + share["share_s"]
            cpu_stock = sum(n * own.get(k, sk[k]).get("cpu_s_per_image", float("nan"))
                            for k, n in r["masters_by_size"].items())
            cpu_steady = sum(n * st[k]["cpu_s_per_image"] for k, n in r["masters_by_size"].items())
            row = {"run": i + 1, "wall_s": r["wall_s"], "masters": m, "s_per_master": round(r["wall_s"] / m, 2),
                   "steady_total_s": round(steady_total, 1), "stock_total_s": round(stock_total, 1),
                   "speedup": round(speedup, 2), "speedup_vs_mean_stock": round(stock_mean / r["wall_s"], 2),
                   "target_wall_s": round(limit, 1),
                   "wall_over_steady": round(r["wall_s"] / steady_total, 3),
                   "cpu_s": r["cpu_s"], "cpu_speedup": round(cpu_stock / r["cpu_s"], 2),
                   "cpu_over_steady": round(r["cpu_s"] / cpu_steady, 3)}
            summary.append(row)
            row["code"] = r["code"]
            paired = " (measured right after it)" if own else ""
            vs_mean = f"; against the mean stock {row['speedup_vs_mean_stock']}x" if own else ""
            print(f"run {i + 1} ({r['code']}): wall {r['wall_s']} s, {m} masters, {row['s_per_master']} s/master; "
                  f"masters × steady = {row['steady_total_s']} s (wall ÷ that = {row['wall_over_steady']}); "
                  f"campaign speed-up = masters × stock {row['stock_total_s']} s{paired} ÷ wall = {speedup:.2f}x "
                  f"(target ≥ 6x: {'met' if speedup >= 6 else 'MISSED'}{vs_mean}); "
                  f"wall ≤ 1.15 × steady + share = "
                  f"{limit:.1f} s: {'met' if r['wall_s'] <= limit else 'MISSED'}", flush=True)
            print(f"run {i + 1} in CPU seconds (less sensitive to other load): campaign {r['cpu_s']} s, "
                  f"masters × steady {cpu_steady:.1f} s (ratio {row['cpu_over_steady']}), speed-up over stock "
                  f"{row['cpu_speedup']}x", flush=True)
        if args.compare:
            import statistics

            for label in {r["code"] for r in summary}:
                rows = [r for r in summary if r["code"] == label]
                print(f"{label}: wall {[r['wall_s'] for r in rows]} (median "
                      f"{statistics.median(r['wall_s'] for r in rows)} s), CPU {[r['cpu_s'] for r in rows]} "
                      f"(median {statistics.median(r['cpu_s'] for r in rows)} s), speed-up "
                      f"{[r['speedup'] for r in rows]}, CPU speed-up {[r['cpu_speedup'] for r in rows]}", flush=True)
        print(json.dumps({"quick": args.quick, "masters_option": args.masters, "worker_nice": args.worker_nice,
                          "weights_cache": {"entry": primed["entry"], "wrote": primed["wrote"]},
                          "runs": runs, "steady": st,
                          "stock": sk, "size_change": change, "compose_share": share, "summary": summary,
                          "load_average_end": load(), "peak_rss_gb": peak_rss_gb()},
                         default=str))
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
