"""The test configurations of config/test/ (issue 16): each one is a valid study whose DAG builds.

Dry runs in the repository (as `make test`'s own dry run), with the study's configuration and the
overlay; a scratch Snakemake folder keeps the repository's own .snakemake/ untouched. What each
configuration must change in the DAG is checked from the job list Snakemake prints.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

TEST_CONFIGS = sorted((ROOT / "config/test").glob("*.yaml"))
# A key for the real-study configuration: the DAG refuses to start without one (protocol §7).
ENV = {**os.environ, "PERIVIGIL_PSEUDONYM_KEY": "a-test-key-of-32-characters-or-more!"}


def jobs(output: str) -> dict[str, int]:
    """The job counts per rule of a `snakemake --dry-run --quiet rules` listing."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, re.M) if rule != "job"}


def dry_run(*configfiles: Path, directory: Path | None = None, snakefile: Path = ROOT / "Snakefile") -> str:
    """The dry run's listing (stdout and stderr) of the study with these configuration files."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--dry-run", "--quiet", "rules"]
    if directory is not None:
        command += ["--directory", str(directory)]
    command += ["--configfile", *map(str, configfiles)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=directory or ROOT, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_the_test_configurations_are_those_documented():
    documented = re.findall(r"^\| `([\w-]+\.yaml)` \|", (ROOT / "config/test/README.md").read_text(), re.M)
    assert sorted(documented) == [p.name for p in TEST_CONFIGS]
    assert [p.name for p in TEST_CONFIGS] == [
        "applied-model.yaml",
        "real-study.yaml",
        "threshold.yaml",
        "two-sources.yaml",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("overlay", TEST_CONFIGS, ids=lambda p: p.stem)
def test_each_test_configuration_builds_its_dag(overlay, tmp_path):
    scratch = _scratch(tmp_path)
    listing = jobs(dry_run(scratch / "config/config.yaml", scratch / "config/test" / overlay.name, directory=scratch))
    if overlay.stem == "real-study":
        # the first stop: collection to the annotators' batches, nothing simulated, nothing evaluated
        assert "export_batches" in listing and "notebook" in listing
        assert not {"simulate_annotators", "import_annotations", "evaluate", "provenance"} & set(listing)
    elif overlay.stem == "two-sources":
        assert listing["collect"] == 1 and listing["collect_reddit"] == 1
    else:
        # the whole demo study: 2 linear models x 2 labels trained, 4 stage notebooks
        assert listing["train"] == 4 and listing["notebook"] == 4 and listing["provenance"] == 1


def _scratch(tmp_path: Path) -> Path:
    """A working folder whose config/ is the repository's (every path of the configuration absolute)."""
    from test_workflow import _config_in

    _config_in(tmp_path)
    for overlay in TEST_CONFIGS:
        config = yaml.safe_load(overlay.read_text(encoding="utf-8"))
        for source in config.get("sources", []):
            for key in ("profile", "snapshot", "snapshot_manifest"):
                if key in source:
                    source[key] = str(ROOT / source[key])
            if "dumps" in source:
                source["dumps"] = [str(ROOT / dump) for dump in source["dumps"]]
        (tmp_path / "config/test").mkdir(parents=True, exist_ok=True)
        (tmp_path / "config/test" / overlay.name).write_text(yaml.safe_dump(config), encoding="utf-8")
    return tmp_path
