"""Every rule of the workflow has the same shape (issue 16): a log, a benchmark file, threads and
resources, and, when its script runs package code, the ``code`` digest among its parameters (so an
edit of the code reruns it: docs/audit.md, "What reruns when something changes").

Read from the Snakemake files' text, a rule being the lines from ``rule NAME:`` to the next
top-level statement."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

FILES = [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").glob("*.smk"))]
TARGET_RULES = {"all"}  # a target: no job runs for it
NETWORK_RULES = {"collect", "collect_bluesky"}  # no code digest on purpose: an edit must not refetch (docs/audit.md)


def rule_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", text, re.MULTILINE):
            assert match.group(1) not in blocks, f"rule {match.group(1)} defined twice"
            blocks[match.group(1)] = match.group(2)
    return blocks


BLOCKS = rule_blocks()


def test_the_workflow_has_the_rules_this_test_reads():
    # 31 rules in the Snakefile and the nine rule files (count: grep -c '^rule ' Snakefile workflow/rules/*.smk)
    assert len(BLOCKS) == 31
    assert {"all", "provenance", "preprocess", "evaluate", "collect"} <= set(BLOCKS)


@pytest.mark.parametrize("name", sorted(set(BLOCKS) - TARGET_RULES))
def test_every_rule_has_a_log_a_benchmark_threads_and_resources(name):
    block = BLOCKS[name]
    missing = [key for key in ("log:", "benchmark:", "threads:", "resources:") if f"\n    {key}" not in "\n" + block]
    assert not missing, f"rule {name} lacks {missing}"


@pytest.mark.parametrize("name", sorted(set(BLOCKS) - TARGET_RULES - NETWORK_RULES))
def test_every_rule_that_runs_package_code_has_its_code_digest(name):
    block = BLOCKS[name]
    if "script:" not in block and "notebook:" not in block:
        pytest.skip(f"rule {name} runs no script")
    assert re.search(r"\n        code=code\(", "\n" + block), f"rule {name} has no code=code(...) parameter"


def test_the_network_rules_have_no_code_digest():
    for name in NETWORK_RULES:
        assert "code=code(" not in BLOCKS[name]
