"""YAML limits benchmark: how long hostile YAML takes to be refused (target: well under a second).

Before the limits, the alias bomb below (9 lists nested 10 deep) ran 5 minutes at 2.9 GB without
finishing, and 9^8 took 39 s and 1.2 GB; 300 nested lists raised RecursionError. Each case is
loaded with ``assetkit.yamlfile.load_yaml`` (what every command uses); best of --repeat.
The baseline is loading the example brief, a normal file of the same size class.

    .venv/bin/python bench/yaml_limits.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assetkit.errors import ConfigError  # noqa: E402
from assetkit.yamlfile import load_yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def bomb(width: int, depth: int) -> str:
    lines = ["version: 1", "a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, depth)]
    return "\n".join(lines) + "\n"


CASES = {
    "alias bomb 9 wide × 10 deep": bomb(9, 10),
    "alias bomb 9 wide × 8 deep": bomb(9, 8),
    "alias bomb 1000 wide × 3 deep": bomb(1000, 3),
    "300 nested flow lists": "version: 1\nx: " + "[" * 300 + "]" * 300 + "\n",
    "10,000 nested flow lists": "version: 1\nx: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "5,000-digit integer": "version: 1\nseed: " + "9" * 5000 + "\n",
    "100,000 nested flow lists": "version: 1\nx: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "2,000 impossible dates": "version: 1\nd:\n" + "  - 2026-02-30\n" * 2_000,
    "2 MB file (over the 1 MiB limit)": "version: 1\nd:\n" + "  - abcdefghijk\n" * 140_000,
}


def best(path: Path, repeat: int) -> tuple[float, str]:
    times, outcome = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            load_yaml(path)
            outcome = "loaded"
        except ConfigError as exc:
            more = f" (+{len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
            outcome = str(exc.problems[0]).split(": ", 1)[1][:80] + more
        times.append(time.perf_counter() - t0)
    return min(times), outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    base, _ = best(ROOT / "examples" / "spring-launch" / "brief.yaml", args.repeat)
    print(f"{'baseline: the example brief':<34} {base * 1000:8.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for label, text in CASES.items():
            path = Path(tmp) / "case.yaml"
            path.write_text(text)
            t, outcome = best(path, args.repeat)
            print(f"{label:<34} {t * 1000:8.1f} ms  ({t / base:5.1f}× baseline, {len(text):,} bytes)  → {outcome}")


if __name__ == "__main__":
    main()
