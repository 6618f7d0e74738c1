"""Benchmark: first paint of the review gallery of a 256-asset campaign in headless Chromium.

The campaign: the example brief with 4 concepts × 2 variants × 8 formats × 4 locales = 256
assets from the draft generator (made once into --work, reused after). The review app is served
on 127.0.0.1 by uvicorn; Chromium (the system's, through Playwright) loads the gallery in a fresh
context (cold cache) --loads times. Reported: first paint and first contentful paint (the browser's
own Paint Timing entries), DOMContentLoaded, the HTML's size and server time, and the same
browser's first paint of a one-line page from the same server (the 403 answer to a wrong token)
as the floor it cannot go under.

    .venv/bin/python bench/review.py [--work DIR] [--loads 5] [--shots DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ruamel.yaml import YAML  # noqa: E402

EXTRA_COPY = {
    "fr-FR": {"headline": "Le printemps a le goût du café", "subline": "Notre nouvelle torréfaction claire.",
              "cta": "Découvrir", "disclaimer": "Offre valable jusqu'au 30 avril."},
    "sv-SE": {"headline": "Våren smakar nybryggt kaffe", "subline": "Vår nya ljusa rostning.",
              "cta": "Upptäck nu", "disclaimer": "Erbjudandet gäller till 30 april."},
}
EXTRA_CONCEPTS = [
    {"id": "harbour", "prompt": "a coffee cup on a harbour wall at sunrise, boats, soft light"},
    {"id": "picnic", "prompt": "a thermos of coffee on a picnic blanket in a spring meadow"},
]


def make_campaign(work: Path) -> Path:
    from assetkit.pipeline import RunOptions
    from assetkit.runner import run_brief

    folder = work / "out" / "spring-launch"
    if (folder / "manifest.json").exists():
        return folder
    shutil.copytree(ROOT / "brand" / "nordlicht", work / "brand" / "nordlicht", dirs_exist_ok=True)
    yaml = YAML()
    brief = yaml.load((ROOT / "examples" / "spring-launch" / "brief.yaml").read_text())
    brief["brand"] = "brand/nordlicht"
    brief["copy"].update(EXTRA_COPY)
    brief["concepts"].extend(EXTRA_CONCEPTS)
    with open(work / "brief.yaml", "w") as fh:
        yaml.dump(brief, fh)
    t0 = time.perf_counter()
    result = run_brief(work / "brief.yaml", RunOptions(out=work / "out", record=False))
    n = len(result.manifest["assets"])
    print(f"made the campaign: {n} assets in {time.perf_counter() - t0:.0f} s")
    assert n == 256, n
    return folder


PAINT = """() => new Promise((resolve) => {
  const done = () => {
    const p = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
    const nav = performance.getEntriesByType('navigation')[0];
    resolve({fp: p['first-paint'], fcp: p['first-contentful-paint'], dcl: nav ? nav.domContentLoadedEventEnd : null});
  };
  if (performance.getEntriesByType('paint').length >= 2) done(); else setTimeout(done, 500);
})"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "assetkit-bench-review")
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--shots", type=Path, help="save a screenshot of the gallery here")
    ap.add_argument("--chromium", default=os.environ.get("ASSETKIT_CHROMIUM", "/usr/bin/chromium"))
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    folder = make_campaign(args.work)

    import httpx
    from playwright.sync_api import sync_playwright

    from assetkit.review.server import BackgroundServer
    from assetkit.review.service import ReviewService

    service = ReviewService(folder, args.work / "ledger.sqlite", "bench")
    with BackgroundServer(service) as srv, sync_playwright() as pw:
        t0 = time.perf_counter()
        first_html = httpx.get(srv.url, timeout=60)
        cold_server = time.perf_counter() - t0  # includes hashing every file once
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            httpx.get(srv.url, timeout=60)
            times.append(time.perf_counter() - t0)
        print(f"gallery HTML: {len(first_html.content) / 1024:.0f} KiB, {first_html.text.count('<figure')} tiles; "
              f"server {cold_server * 1000:.0f} ms first (hashes every file), "
              f"{statistics.median(times) * 1000:.0f} ms after (median of 5)")
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        results, floor = [], []
        for i in range(args.loads):
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            page.goto(srv.url, wait_until="load")
            results.append(page.evaluate(PAINT))
            if i == 0 and args.shots:
                args.shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.shots / "bench-gallery-256.png"))
            page.goto(srv.base + "/?t=wrong", wait_until="load")
            floor.append(page.evaluate(PAINT))
            ctx.close()
        browser.close()
    service.close()

    def med(rows, key):
        vals = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(vals) if vals else float("nan")

    fp, fcp, dcl = med(results, "fp"), med(results, "fcp"), med(results, "dcl")
    ffp = med(floor, "fcp")
    print(f"256-asset gallery, headless Chromium, cold cache, median of {args.loads}: first paint {fp:.0f} ms, "
          f"first contentful paint {fcp:.0f} ms, DOMContentLoaded {dcl:.0f} ms")
    print(f"  floor (one-line page, same server and browser): first contentful paint {ffp:.0f} ms; "
          f"gallery / floor = {fcp / ffp:.2f}")


if __name__ == "__main__":
    main()
