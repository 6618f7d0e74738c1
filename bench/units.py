"""Benchmark: the speed targets that used to be wall-clock asserts in unit tests.

  - one 1024×1024 draft master (target < 0.8 s)
  - ``fit_problems`` for every catalogue format × the example copy in two locales (target < 2 s)

Wall-clock limits fail on a loaded machine, so they live here, not in ``make test``. Prints one
line per measurement (best of --repeat runs) and exits 1 when a target is missed.

Usage: .venv/bin/python bench/units.py [--repeat R]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PALETTE = {"primary": "#1B3A4B", "secondary": "#F2A65A", "accent": "#E4572E", "background": "#F7F3EC",
           "text": "#1A1A1A", "light": "#FFFFFF"}


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from assetkit.brand import load_brand
    from assetkit.brief import Copy
    from assetkit.formats import CATALOG
    from assetkit.generators.base import GenerationRequest
    from assetkit.generators.draft import DraftGenerator
    from assetkit.layout import fit_problems

    gen = DraftGenerator()

    def request(seed: int, size: int) -> GenerationRequest:
        return GenerationRequest("spring", 1, "a cup of coffee", "", size, size, seed, PALETTE)

    gen.generate([request(0, 64)])  # warm up imports
    brand = load_brand(ROOT / "brand" / "nordlicht")
    copies = [Copy(headline="Spring tastes like coffee", subline="Our new roast: smooth, bright and fairly traded",
                   cta="Discover now", disclaimer="Offer valid until 30 April while supplies last."),
              Copy(headline="Der Frühling schmeckt nach Kaffee",
                   subline="Unsere neue Röstung: Kaffeevollautomatenfreundlich und fair gehandelt",
                   cta="Jetzt entdecken",
                   disclaimer="Angebot gültig bis 30.04. Solange der Vorrat reicht.")]

    def fits() -> None:
        for fmt in CATALOG.values():
            for copy in copies:
                fit_problems(brand, copy, fmt)

    results = [("draft master 1024x1024", best_of(args.repeat, lambda: gen.generate([request(11, 1024)])), 0.8),
               (f"fit_problems x {len(CATALOG) * len(copies)}", best_of(args.repeat, fits), 2.0)]
    missed = 0
    for name, seconds, target in results:
        ok = seconds < target
        missed += not ok
        print(f"{name:32s} {seconds:7.3f} s   target < {target:.1f} s   {'ok' if ok else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
