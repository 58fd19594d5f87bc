"""profiles/slurm without a cluster: what Snakemake resolves from it (docs/cluster.md).

The profile's layering (which profile caps the threads, which status command) is read from
Snakemake's own argument parser; the per-rule resources from a dry run, which prints each job's
resources. `make test-slurm` runs the study through the profile on a real one-node SLURM.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

HELPER = ROOT / "tools/slurm/set_resources.py"
DOCUMENTED = (
    "snakemake --workflow-profile profiles/slurm"
    " --set-resources $(python tools/slurm/set_resources.py extract:mem_mb=8000)"
)
TARGETS = ("results/models/transformer_iso_t1.json", "results/corpus/mentions.parquet")


def _helper():
    spec = importlib.util.spec_from_file_location("set_resources", HELPER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dry_run_resources(*args: str) -> dict[str, dict[str, str]]:
    """Each rule's resources as a dry run prints them (`resources: k=v, ...` under `rule NAME:`)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            *args,
            "--dry-run",
            "--forcerun",
            "train_transformer",
            "extract",
            "--",
            *TARGETS,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    resources, rule = {}, None
    for line in result.stdout.splitlines():
        if match := re.match(r"^(?:local)?rule (\w+):$", line):
            rule = match[1]
        elif rule and line.strip().startswith("resources: "):
            pairs = line.strip().removeprefix("resources: ").split(", ")
            resources[rule] = dict(pair.split("=", 1) for pair in pairs)
    return resources


@pytest.mark.slow
def test_the_documented_override_keeps_the_profiles_per_rule_resources():
    """docs/cluster.md's command: extract gets 8000 MB, train_transformer keeps its GPU partition, GPU and 32 GB."""
    assert DOCUMENTED in (ROOT / "docs/cluster.md").read_text(encoding="utf-8")
    words = subprocess.run(
        [sys.executable, str(HELPER), "extract:mem_mb=8000"], capture_output=True, text=True, check=True
    ).stdout.split()
    resources = _dry_run_resources("--workflow-profile", "profiles/slurm", "--set-resources", *words)
    assert resources["extract"]["mem_mb"] == "8000"
    assert resources["extract"]["slurm_partition"] == "normal"
    transformer = resources["train_transformer"]
    assert (transformer["slurm_partition"], transformer["gpu"], transformer["mem_mb"], transformer["runtime"]) == (
        "gpu",
        "1",
        "32000",
        "240",
    )


@pytest.mark.slow
def test_a_bare_set_resources_replaces_the_profiles_whole_mapping():
    """Why the helper: with `--set-resources extract:mem_mb=8000` alone the transformer loses the GPU partition.

    If a Snakemake release merges the two, this fails: docs/cluster.md can then drop the helper.
    """
    resources = _dry_run_resources("--workflow-profile", "profiles/slurm", "--set-resources", "extract:mem_mb=8000")
    assert resources["extract"]["mem_mb"] == "8000"
    transformer = resources["train_transformer"]
    assert (transformer["slurm_partition"], transformer["mem_mb"]) == ("normal", "16000")  # the rule's own 16 GB


def test_the_workflow_profile_replaces_profiles_default_so_nothing_caps_the_threads(monkeypatch):
    """`--workflow-profile profiles/slurm` sets no `cores` (profiles/default's `cores: all` caps each job's threads)."""
    from snakemake.cli import parse_args

    monkeypatch.chdir(ROOT)
    _, args = parse_args(["--workflow-profile", "profiles/slurm", "--dry-run"])
    assert (args.executor, args.cores, args.slurm_status_command) == ("slurm", None, "squeue")
    assert args.printshellcmds and args.rerun_incomplete and args.show_failed_logs  # as profiles/default
    # The pitfall docs/cluster.md warns about: with --profile, profiles/default comes on top and sets cores.
    _, layered = parse_args(["--profile", "profiles/slurm", "--dry-run"])
    assert layered.executor == "slurm" and isinstance(layered.cores, int)


def test_the_helper_puts_overrides_in_place_and_adds_new_rules(tmp_path):
    helper = _helper()
    (tmp_path / "config.yaml").write_text(
        "set-resources:\n  train_transformer:\n    slurm_partition: gpu\n    mem_mb: 32000\n"
        "  collect:\n    slurm_account: '123456'\n",
        encoding="utf-8",
    )
    resources = helper.profile_resources(tmp_path)
    # A string that reads as a number stays a string, quoted as Snakemake's profile reader does.
    assert resources == {
        "train_transformer": {"slurm_partition": "gpu", "mem_mb": "32000"},
        "collect": {"slurm_account": "'123456'"},
    }
    assert helper.merged(resources, ["train_transformer:mem_mb=64000", "extract:mem_mb=8000"]) == [
        "train_transformer:slurm_partition=gpu",
        "train_transformer:mem_mb=64000",
        "collect:slurm_account='123456'",
        "extract:mem_mb=8000",
    ]
    with pytest.raises(ValueError, match="expected RULE:RESOURCE=VALUE"):
        helper.merged(resources, ["extract mem_mb=8000"])


def test_the_helper_prints_the_shipped_profiles_entries_and_fails_in_one_line():
    shipped = subprocess.run([sys.executable, str(HELPER)], capture_output=True, text=True, check=True).stdout
    assert shipped.split() == [
        "train_transformer:slurm_partition=gpu",
        "train_transformer:gpu=1",
        "train_transformer:mem_mb=32000",
        "train_transformer:runtime=240",
    ]
    bad = subprocess.run([sys.executable, str(HELPER), "extract:mem_mb"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "set_resources: 'extract:mem_mb': expected RULE:RESOURCE=VALUE (no spaces), e.g. extract:mem_mb=8000"
    ]
