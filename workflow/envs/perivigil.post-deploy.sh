#!/usr/bin/env bash
# Run by Snakemake inside a rule's conda env right after creating it (--sdm conda): the env
# pins every dependency (requirements.lock) but not perivigil itself, which the rules'
# scripts import. Snakemake runs this from its working directory, the clone's root; set
# PERIVIGIL_ROOT when the workflow runs with --directory elsewhere. Editable, so that the
# env follows the clone's code.
set -euo pipefail
root="${PERIVIGIL_ROOT:-$PWD}"
if [ ! -f "$root/pyproject.toml" ]; then
  echo "perivigil post-deploy: $root has no pyproject.toml; set PERIVIGIL_ROOT to the clone's root" >&2
  exit 1
fi
python -m pip install --quiet --no-deps --disable-pip-version-check -e "$root"
