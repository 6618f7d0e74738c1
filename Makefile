# assetkit — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is pinned: 2.13.0 is the CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test]" "$(TORCH)"
	@touch $(STAMP)

install: $(STAMP)

DEMO_OUT    := out/demo
DEMO_LEDGER := $(DEMO_OUT)/ledger.sqlite

demo: $(STAMP)
	$(BIN)/assetkit quotes import examples/quotes/agency-2026.yaml --ledger $(DEMO_LEDGER)
	$(BIN)/assetkit run examples/spring-launch/brief.yaml --out $(DEMO_OUT) --ledger $(DEMO_LEDGER) --progress plain
	$(BIN)/assetkit run examples/packshot/brief.yaml --out $(DEMO_OUT) --ledger $(DEMO_LEDGER) --progress plain
	$(BIN)/assetkit report --ledger $(DEMO_LEDGER) --out $(DEMO_OUT)/savings-report.html
	$(BIN)/assetkit report --ledger $(DEMO_LEDGER) --out $(DEMO_OUT)/savings-report.pdf
	$(BIN)/python examples/demo-ledger/make_demo_ledger.py --out $(DEMO_OUT)/demo-ledger.sqlite --force --report $(DEMO_OUT)/demo-quarter-report
	@echo
	@echo "Demo done."
	@echo "  assets:         $(DEMO_OUT)/spring-launch/<locale>/<format>/ and $(DEMO_OUT)/spring-roast-packshot/"
	@echo "  contact sheets: $(DEMO_OUT)/spring-launch/contact-sheet-en-US.png, contact-sheet-de-DE.png"
	@echo "                  $(DEMO_OUT)/spring-roast-packshot/contact-sheet-en-US.png, contact-sheet-de-DE.png"
	@echo "  manifests:      $(DEMO_OUT)/spring-launch/manifest.json, $(DEMO_OUT)/spring-roast-packshot/manifest.json"
	@echo "  report:         $(DEMO_OUT)/savings-report.html (and .pdf)"
	@echo "  six-month demo: $(DEMO_OUT)/demo-quarter-report.html (and .pdf, .de.pdf) from examples/demo-ledger/"
	@echo "  ledger:         $(DEMO_LEDGER)"

# Lint and types first (seconds), then the suite.
test: $(STAMP)
	$(BIN)/ruff check assetkit tests bench
	$(BIN)/mypy assetkit
	$(BIN)/python -m pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python bench/units.py
	$(BIN)/python bench/compose.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/diffusion.py --quick
	$(BIN)/python bench/campaign.py --quick

clean:
	rm -rf out .assetkit
