# assetkit — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is pinned: 2.13.0 is the CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
TORCH  ?= torch==2.13.0
# One venv, two install levels. The core (draft generator, ledger, report; no torch) is all
# `make demo` needs; `make test` installs every extra, the test tools and pinned torch. The full
# install includes the core, so it refreshes both stamps; either reinstalls after pyproject.toml
# or this Makefile changes.
CORE_STAMP := $(VENV)/.installed-core
FULL_STAMP := $(VENV)/.installed-all

.PHONY: install install-core demo test bench clean

# The venv's own pip (23.2 with Python 3.11) installs the core; the full install upgrades it first.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(CORE_STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(FULL_STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[all,test]" "$(TORCH)"
	@touch $@ $(CORE_STAMP)

install-core: $(CORE_STAMP)
install: $(FULL_STAMP)

# The demo: scripts/demo.sh with this venv's assetkit and python (core install only).
demo: $(CORE_STAMP)
	PATH="$(abspath $(BIN)):$$PATH" sh scripts/demo.sh out/demo

# Lint and types first (seconds), then the suite.
test: $(FULL_STAMP)
	$(BIN)/ruff check assetkit tests bench scripts
	$(BIN)/mypy assetkit
	$(BIN)/python -m pytest -q -n 2

bench: $(FULL_STAMP)
	$(BIN)/python bench/units.py
	$(BIN)/python bench/compose.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/review.py
	$(BIN)/python bench/diffusion.py --quick
	$(BIN)/python bench/campaign.py --quick
	$(BIN)/python bench/scale.py --quick

clean:
	rm -rf out .assetkit
