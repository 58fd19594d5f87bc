# perivigil: the two commands of the README, and their helpers.
#   make study   set up .venv if needed, then run the whole demo DAG on all cores
#   make test    set up .venv if needed, then lint (ruff, snakefmt, mypy), pytest, snakemake --lint,
#                dry runs
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.perivigil-installed
TRANSFORMER_STAMP := $(VENV)/.perivigil-transformer-installed
SNAKEMAKE := $(BIN)/snakemake
# Jobs call the venv's tools (jupyter-nbconvert for notebook: rules): put them first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: study status report notebooks checksums test test-slurm venv transformer lint format dryrun pytest lock demo-forum clean

venv: $(STAMP)

# The venv is (re)built when the lock or the package metadata change.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# The optional transformer extra (CPU torch, transformers) on top of the venv: `make transformer`.
transformer: $(TRANSFORMER_STAMP)

$(TRANSFORMER_STAMP): $(STAMP) requirements-transformer.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock \
	  -r requirements-transformer.lock
	touch $@

# The whole study: config checks, a stale lock cleared, the DAG (a real study stops at each human
# step and says what it waits for), the report, the headline numbers (perivigil.launch).
# Extra configuration: make study CONFIG=config/my-study.yaml
study: $(STAMP)
	$(BIN)/perivigil study --cores all $(foreach file,$(CONFIG),--configfile $(file))

# Where the study stands: what is done, what it waits for, the headline numbers.
status: $(STAMP)
	$(BIN)/perivigil status $(foreach file,$(CONFIG),--configfile $(file))

# The Snakemake report: every figure and table with its caption, rule and code (written
# beside, then moved, so that a failure leaves no half-written report in results/).
report: $(STAMP)
	$(SNAKEMAKE) $(foreach file,$(CONFIG),--configfile $(file)) --quiet all --report results/report.tmp.html
	mv results/report.tmp.html results/report.html

# The checksums docs/reproduce.md gives reviewers, from a finished `make study`
# (a test checks them against a fresh run of the DAG).
CHECKSUMMED = results/tables/* results/figures/* results/evaluation/predictions.csv results/notebooks/*
checksums:
	LC_ALL=C sha256sum $(sort $(wildcard $(CHECKSUMMED))) > docs/checksums.sha256

# Convert the jupytext notebooks (notebooks/*.py) to the .ipynb that notebook: rules run.
notebooks: $(STAMP)
	for source in notebooks/*.py; do \
	  $(BIN)/jupytext --quiet --to ipynb --update --set-kernel python3 \
	    --update-metadata '{"language_info":{"name":"python"}}' \
	    --output workflow/notebooks/$$(basename $$source .py).ipynb $$source; \
	done

test: $(STAMP) lint
	$(BIN)/python -m pytest
	$(SNAKEMAKE) --lint
	$(SNAKEMAKE) --dry-run --quiet rules
	$(SNAKEMAKE) --workflow-profile profiles/slurm --dry-run --quiet rules

# The checks of .pre-commit-config.yaml, with the lock's versions: lint and format (ruff,
# snakefmt) and types (mypy). `make format` applies the formatters.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile workflow/rules

# The demo study through profiles/slurm on a one-node SLURM stood up here (Debian packages, root,
# 127.0.0.1 only, stopped afterwards), compared byte for byte with a local run (docs/cluster.md).
test-slurm: $(STAMP)
	PERIVIGIL_VENV=$(abspath $(VENV)) tools/slurm/test_slurm.sh

pytest: $(STAMP)
	$(BIN)/python -m pytest

# Regenerate the demo forum snapshot (byte-identical for a given seed).
demo-forum: $(STAMP)
	$(BIN)/perivigil demo-forum --config config/config.yaml

# Re-pin every dependency from pyproject.toml into requirements.lock and
# environment.yml / workflow/envs/perivigil.yaml (they must agree: tested).
lock:
	rm -rf /tmp/perivigil-lock-venv
	$(PYTHON) -m venv /tmp/perivigil-lock-venv
	/tmp/perivigil-lock-venv/bin/pip install --quiet --upgrade pip
	/tmp/perivigil-lock-venv/bin/pip install --quiet ".[dev]"
	/tmp/perivigil-lock-venv/bin/pip freeze --exclude perivigil --exclude pip > requirements.lock.tmp
	{ echo "# Pinned by 'make lock' with $$($(PYTHON) --version) on $$(uname -m); do not edit by hand."; \
	  cat requirements.lock.tmp; } > requirements.lock
	rm requirements.lock.tmp
	$(PYTHON) tools/write_conda_envs.py requirements.lock environment.yml workflow/envs/perivigil.yaml
	/tmp/perivigil-lock-venv/bin/pip install --quiet -c requirements.lock ".[transformer]"
	/tmp/perivigil-lock-venv/bin/pip freeze --exclude perivigil --exclude pip > /tmp/perivigil-full.txt
	$(PYTHON) tools/write_extra_lock.py requirements.lock /tmp/perivigil-full.txt \
	  requirements-transformer.lock workflow/envs/transformer.yaml

clean:
	rm -rf results logs benchmarks .snakemake
