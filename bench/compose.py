"""Benchmark: compose+export throughput vs a bare Pillow resize+encode, and re-run cost.

Prints (all measured in this one run, draft generator, example campaign):
  - assets/second for compose+check+export
  - per-asset time of assetkit vs a bare Pillow cover-resize + encode of the same master pixels
    (same PNG settings, same thread count) — target ratio ≤ 1.5
  - the wall time of re-running the unchanged brief as a fraction of the first run — target ≤ 5 %

Usage: .venv/bin/python bench/compose.py [--jobs N] [--repeat R]
"""
from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bare_resize_encode(jobs, masters_dir: Path, workers: int) -> float:
    """Seconds for: open master, cover-resize to the format, encode PNG — per asset, like assetkit."""
    from PIL import Image, ImageOps

    masters = {}
    for job in jobs:
        masters.setdefault(job["master"], None)
    loaded = {}
    for key in masters:
        with Image.open(masters_dir / f"{key}.png") as im:
            loaded[key] = im.convert("RGB")

    def one(job):
        im = ImageOps.fit(loaded[job["master"]], (job["width"], job["height"]), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, "PNG", compress_level=3)
        return len(buf.getvalue())

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2, help="worker threads for both sides (default 2)")
    ap.add_argument("--repeat", type=int, default=3, help="repeat and keep the best (default 3)")
    args = ap.parse_args()

    from assetkit.context import RunOptions
    from assetkit.runner import run_brief

    tmp = Path(tempfile.mkdtemp(prefix="assetkit-bench-"))
    try:
        shutil.copytree(ROOT / "brand" / "nordlicht", tmp / "brand" / "nordlicht")
        shutil.copytree(ROOT / "examples" / "spring-launch", tmp / "examples" / "spring-launch")
        brief = tmp / "examples" / "spring-launch" / "brief.yaml"
        best = None
        for r in range(args.repeat):
            out = tmp / f"out{r}"
            t0 = time.perf_counter()
            # stream=False: steps run one after another, so each step's time is its own (streamed,
            # the later steps share the CPU with generation and their timings overlap)
            res = run_brief(brief, RunOptions(out=out, jobs=args.jobs, record=False, stream=False))
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            res2 = run_brief(brief, RunOptions(out=out, jobs=args.jobs, record=False))
            rerun = time.perf_counter() - t0
            assert res2.made == 0, "re-run remade assets"
            tm = res.manifest["timings"]
            ours = tm["reframe"] + tm["compose"] + tm.get("check", 0.0) + tm["export"]
            jobs = [{"master": a.get("master"), "width": a["width"], "height": a["height"]}
                    for a in res.manifest["assets"]]
            if all(j["master"] for j in jobs):
                bare = bare_resize_encode(jobs, out / "spring-launch" / ".cache" / "masters", args.jobs)
            else:
                bare = float("nan")
            t0 = time.perf_counter()
            run_brief(brief, RunOptions(out=tmp / f"streamed{r}", jobs=args.jobs, record=False))
            streamed = time.perf_counter() - t0
            row = {"assets": len(jobs), "first_run_s": first, "streamed_run_s": streamed,
                   "generate_s": tm["generate"], "ours_s": ours, "bare_s": bare, "rerun_s": rerun}
            if best is None or row["ours_s"] < best["ours_s"]:
                best = row
        n = best["assets"]
        print(f"assets per run:                 {n}  (jobs={args.jobs}, best of {args.repeat})")
        print(f"first run wall time:            {best['first_run_s']:.2f} s sequential (generate "
              f"{best['generate_s']:.2f} s), {best['streamed_run_s']:.2f} s streamed")
        print(f"compose+check+export:           {best['ours_s']:.2f} s  = {n / best['ours_s']:.1f} assets/s, "
              f"{1000 * best['ours_s'] / n:.1f} ms/asset (incl. reframe, contact sheets, manifest)")
        print(f"bare Pillow resize+encode:      {best['bare_s']:.2f} s  = {1000 * best['bare_s'] / n:.1f} ms/asset")
        print(f"ratio assetkit / bare:          {best['ours_s'] / best['bare_s']:.2f}  (target ≤ 1.5)")
        print(f"re-run of unchanged brief:      {best['rerun_s']:.3f} s = "
              f"{100 * best['rerun_s'] / best['first_run_s']:.1f} % of the first run (target ≤ 5 %)")
        print(json.dumps({k: round(v, 4) for k, v in best.items()}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
