"""Memory benchmark: peak resident memory of a draft run against the number of assets.

The same brief structure (the draft generator, no model: 2 variants × 8 formats × 2 locales =
32 assets a concept, as ``bench/scale.py`` writes it) at 8, 16, 32 and 63 concepts = 256, 512,
1,024 and 2,016 assets. Each size is ``assetkit run --no-ledger`` in its own fresh process and
out folder; its peak RSS is the child's own ``ru_maxrss`` (``os.wait4``, so one run's peak never
hides another's). Printed per size: assets, masters, peak RSS (MB), wall seconds; then the ratio
peak(2,016) ÷ peak(512): memory is bounded when it stays near 1 (the streaming window, the
contact-sheet thumbnails and the per-run caches fill up by ~500 assets; after that only the
manifest's small records grow).

``--code SRC`` runs another source tree's assetkit (e.g. ``/work/main``: the before figures).
The machine may be shared: the load average is printed beside each run (it changes wall time,
not the peak).

    nice -n 19 .venv/bin/python bench/memory.py [--concepts 8,16,32,63] [--code SRC] [--work DIR]
                                                [--jobs N]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from scale import ASSETS_PER_CONCEPT, load, write_brief  # noqa: E402


def run_once(work: Path, brief: Path, out: Path, code: Path, jobs: int) -> dict:
    """``assetkit run`` of ``brief`` in a fresh process and out folder: its peak RSS and wall."""
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(code), XDG_CACHE_HOME=str(work / "xdg"))
    cmd = [sys.executable, "-m", "assetkit", "run", str(brief), "--out", str(out), "--no-ledger",
           "--progress", "none", "--json", *(["--jobs", str(jobs)] if jobs else [])]
    before = load()
    with open(work / "stdout.txt", "wb") as so, open(work / "stderr.txt", "wb") as se:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=so, stderr=se)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = (work / "stderr.txt").read_text()
    # exit 1 with findings at error level (a draft picture the copy cannot reach 4.5:1 on): the run
    # made and wrote everything (manifest, sheets) before the gate, so its memory counts the same
    gated = proc.returncode == 1 and "check finding(s) at error level" in err
    if proc.returncode != 0 and not gated:
        sys.exit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n"
                 f"{err[-3000:]}")
    manifest = json.loads((out / "scale" / "manifest.json").read_text())
    return {"assets": len(manifest["assets"]),
            "masters": len({a["master"] for a in manifest["assets"] if a.get("master")}),
            "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux: KiB
            "wall_s": round(wall, 1), "load": f"{before} → {load()}" + ("  (check gate: exit 1)" if gated else "")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concepts", default="8,16,32,63", help="comma-separated concept counts (32 assets each)")
    ap.add_argument("--code", type=Path, default=ROOT, help="source tree whose assetkit runs")
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--jobs", type=int, default=0, help="--jobs of each run (0: the CPUs)")
    args = ap.parse_args()
    counts = [int(c) for c in args.concepts.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="assetkit-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    code = args.code.resolve()
    print(f"code: {code}  cpus: {os.cpu_count()}  jobs: {args.jobs or 'cpus'}  work: {work}")
    print(f"{'concepts':>8} {'assets':>7} {'masters':>7} {'peak RSS MB':>11} {'wall s':>7}  load")
    rows = {}
    for n in counts:
        brief = write_brief(work, n)
        row = run_once(work, brief, work / "out", code, args.jobs)
        assert row["assets"] == n * ASSETS_PER_CONCEPT, row
        rows[row["assets"]] = row
        print(f"{n:>8} {row['assets']:>7} {row['masters']:>7} {row['peak_rss_mb']:>11} {row['wall_s']:>7}  "
              f"{row['load']}", flush=True)
    sizes = sorted(rows)
    if len(sizes) >= 2:
        mid = min(sizes, key=lambda a: abs(a - 500)) if len(sizes) > 2 else sizes[0]
        big = sizes[-1]
        print(f"peak({big}) / peak({mid}) = {rows[big]['peak_rss_mb'] / rows[mid]['peak_rss_mb']:.2f}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
