# perivigil: the two commands of the README, and their helpers.
#   make study   set up .venv if needed, then run the whole demo DAG on all cores
#   make test    set up .venv if needed, then pytest, snakemake --lint, a dry run
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.perivigil-installed
TRANSFORMER_STAMP := $(VENV)/.perivigil-transformer-installed
SNAKEMAKE := $(BIN)/snakemake

.PHONY: study test venv transformer lint dryrun pytest lock demo-forum clean

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

study: $(STAMP)
	$(SNAKEMAKE) --cores all

test: $(STAMP)
	$(BIN)/python -m pytest
	$(SNAKEMAKE) --lint
	$(SNAKEMAKE) --dry-run --quiet rules

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
