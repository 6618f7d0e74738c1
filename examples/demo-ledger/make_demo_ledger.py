"""Write the six-month demo ledger (seeded, reproducible) and, optionally, its quarter report.

    .venv/bin/python examples/demo-ledger/make_demo_ledger.py                 # → examples/demo-ledger/demo-ledger.sqlite
    .venv/bin/python examples/demo-ledger/make_demo_ledger.py --out out/demo/demo-ledger.sqlite --force \\
        --report out/demo/demo-quarter-report

The ledger holds June–November 2026: runs for three brands and six campaigns priced against
``examples/quotes/agency-2026.yaml``, manual translation / photography / CRM / social entries, two
runs without a baseline, a recorded review and a voided duplicate (see ``assetkit.ledger.seed_demo``).
``--report STEM`` also writes STEM.html, STEM.pdf (en-US) and STEM.de.pdf (de-DE) for 2026-Q3.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from assetkit.ledger import seed_demo  # noqa: E402

MONTHS = 6
SEED = 7
QUARTER = "2026-Q3"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "demo-ledger.sqlite", help="ledger file to write")
    ap.add_argument("--force", action="store_true", help="replace an existing file")
    ap.add_argument("--report", metavar="STEM", help="also write STEM.html, STEM.pdf and STEM.de.pdf for " + QUARTER)
    args = ap.parse_args(argv)
    if args.out.exists():
        if not args.force:
            print(f"{args.out} exists; use --force to replace it", file=sys.stderr)
            return 2
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.out) + suffix).unlink(missing_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    seed_demo(args.out, months=MONTHS, seed=SEED)
    print(f"wrote {args.out}")
    if args.report:
        from assetkit.files import atomic_write_bytes
        from assetkit.report import build_report
        from assetkit.report.html import render_html
        from assetkit.report.model import parse_period
        from assetkit.report.pdf import render_pdf
        from assetkit.settings import Settings

        period = parse_period(QUARTER)
        for locale, suffix, render in (("en-US", ".html", render_html), ("en-US", ".pdf", render_pdf),
                                       ("de-DE", ".de.pdf", render_pdf)):
            data = build_report(args.out, period, locale=locale, settings=Settings())
            out = Path(args.report + suffix)
            body = render(data)
            atomic_write_bytes(out, body.encode("utf-8") if isinstance(body, str) else body)
            print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
