#!/bin/sh
# The demo `make demo` runs: two example campaigns with the draft generator, the savings report
# and the six-month demo ledger. Needs only the core install (no torch): `assetkit` and `python`
# are taken from PATH (the Makefile puts .venv/bin first). Usage: scripts/demo.sh [OUT]
set -eu
OUT=${1:-out/demo}
LEDGER=$OUT/ledger.sqlite
assetkit quotes import examples/quotes/agency-2026.yaml --ledger "$LEDGER"
assetkit run examples/spring-launch/brief.yaml --out "$OUT" --ledger "$LEDGER" --progress plain
assetkit run examples/packshot/brief.yaml --out "$OUT" --ledger "$LEDGER" --progress plain
assetkit report --ledger "$LEDGER" --out "$OUT/savings-report.html"
assetkit report --ledger "$LEDGER" --out "$OUT/savings-report.pdf"
python examples/demo-ledger/make_demo_ledger.py --out "$OUT/demo-ledger.sqlite" --force \
    --report "$OUT/demo-quarter-report"
cat <<DONE

Demo done.
  assets:         $OUT/spring-launch/<locale>/<format>/ and $OUT/spring-roast-packshot/
  contact sheets: $OUT/spring-launch/contact-sheet-en-US.png, contact-sheet-de-DE.png
                  $OUT/spring-roast-packshot/contact-sheet-en-US.png, contact-sheet-de-DE.png
  manifests:      $OUT/spring-launch/manifest.json, $OUT/spring-roast-packshot/manifest.json
  report:         $OUT/savings-report.html (and .pdf)
  six-month demo: $OUT/demo-quarter-report.html (and .pdf, .de.pdf) from examples/demo-ledger/
  ledger:         $LEDGER
DONE
