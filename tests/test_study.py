"""Issue 11: returns complete or withdrawn, the lock of a killed run, progress lines, one-line errors."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pandas as pd
import pytest

from perivigil.annotation.returns import Returns, check_returns, report_rows, returns_progress
from perivigil.errors import InputError
from perivigil.launch import clear_stale_lock, failure_summary, merge_config, snakemake_processes
from perivigil.logs import Progress

ASSIGNMENTS = pd.DataFrame(
    {"post_id": ["p1", "p2", "p3", "p1", "p4"], "annotator": ["ann_a", "ann_a", "ann_a", "ann_b", "ann_b"]}
)


def _judgements(rows):
    return pd.DataFrame(rows, columns=["post_id", "annotator", "label", "value", "source_file"])


def test_returns_count_values_and_deliberate_skips_not_untouched_tasks():
    judgements = _judgements([("p1", "ann_a", "iso_t1", "0", "a.json"), ("p1", "ann_a", "nsaid_late", "0", "a.json")])
    progress = returns_progress(judgements, {"ann_a": {"p3"}}, ASSIGNMENTS, ["ann_a", "ann_b"], [], "inbox")
    assert progress == [Returns("ann_a", 3, 2, False, "p2"), Returns("ann_b", 2, 0, False, "p1")]
    assert [r.describe() for r in progress] == ["ann_a (2 of 3)", "ann_b (none yet)"]
    with pytest.raises(InputError) as caught:
        check_returns(progress, "annotation/inbox")
    assert str(caught.value) == (
        "annotation/inbox: waiting for returns from ann_a (2 of 3), ann_b (none yet) (e.g. post 'p2' not returned "
        "yet); rerun when they arrive, or list an annotator who will return nothing more in annotation.withdrawn"
    )


def test_a_withdrawn_annotator_lets_the_study_go_on_and_is_reported():
    judgements = _judgements(
        [(p, "ann_a", "iso_t1", "0", "a.json") for p in ("p1", "p2", "p3")] + [("p4", "ann_b", "iso_t1", "1", "b.csv")]
    )
    progress = returns_progress(judgements, {}, ASSIGNMENTS, ["ann_a", "ann_b"], ["ann_b"], "inbox")
    check_returns(progress, "inbox")
    assert progress[1].describe() == "ann_b (1 of 2, withdrawn)"
    assert report_rows(progress)[-3:] == [
        {"annotator": "ann_b", "file": "", "what": "posts assigned", "count": 2},
        {"annotator": "ann_b", "file": "", "what": "posts returned", "count": 1},
        {"annotator": "ann_b", "file": "", "what": "posts not returned (annotator withdrawn)", "count": 1},
    ]


def test_a_post_outside_the_annotators_batch_is_refused():
    judgements = _judgements([("p4", "ann_a", "iso_t1", "0", "inbox/ann_a/other.jsonl")])
    with pytest.raises(
        InputError,
        match=r"^inbox/ann_a/other\.jsonl: post 'p4' is not in the batch of 'ann_a' "
        r"\(another annotator's export in inbox/ann_a/\?\)$",
    ):
        returns_progress(judgements, {}, ASSIGNMENTS, ["ann_a", "ann_b"], [], "inbox")


# ----------------------------------------------------------------------------- the run
def test_merge_config_lays_mappings_key_by_key_and_replaces_the_rest():
    base = {"demo": True, "collect": {"delay_s": 2.0, "timeout_s": 30.0}, "sources": [{"name": "a"}]}
    merged = merge_config(base, {"demo": False, "collect": {"delay_s": 0.0}, "sources": [{"name": "b"}]})
    assert merged == {"demo": False, "collect": {"delay_s": 0.0, "timeout_s": 30.0}, "sources": [{"name": "b"}]}
    assert base["collect"]["delay_s"] == 2.0  # not modified


def _fake_proc(root, pid: int, command: str, cwd) -> None:
    entry = root / str(pid)
    entry.mkdir(parents=True)
    (entry / "cmdline").write_bytes(command.replace(" ", "\0").encode())
    os.symlink(cwd, entry / "cwd")


def test_a_lock_is_cleared_only_when_no_snakemake_works_in_the_folder(tmp_path):
    study, proc = tmp_path / "study", tmp_path / "proc"
    (study / ".snakemake/locks").mkdir(parents=True)
    (study / ".snakemake/locks/0.input.lock").write_text("results/x\n")
    proc.mkdir()
    _fake_proc(proc, 101, "/venv/bin/python -m snakemake --cores all", tmp_path)  # another folder
    _fake_proc(proc, 102, "/usr/bin/vim Snakefile", study)  # not Snakemake
    unlock = [sys.executable, "-c", "import pathlib, shutil; shutil.rmtree('.snakemake/locks')"]
    assert snakemake_processes(study, proc) == []
    assert clear_stale_lock(study, unlock, proc).startswith("cleared the lock left by an interrupted run")
    assert not (study / ".snakemake/locks").exists()
    assert clear_stale_lock(study, unlock, proc) is None  # nothing to clear


def test_a_lock_held_by_a_live_run_is_named_not_cleared(tmp_path):
    study, proc = tmp_path / "study", tmp_path / "proc"
    (study / ".snakemake/locks").mkdir(parents=True)
    (study / ".snakemake/locks/0.input.lock").write_text("results/x\n")
    _fake_proc(proc, 4242, "/venv/bin/python -m snakemake --cores all", study)
    with pytest.raises(InputError, match=rf"another Snakemake run is working in {study} \(process 4242\)"):
        clear_stale_lock(study, ["false"], proc)
    assert (study / ".snakemake/locks/0.input.lock").exists()


def test_the_failure_summary_is_the_failed_steps_own_line():
    output = (
        "Execute 1 jobs...\nperivigil error: source forum: no post collected: x (log: logs/collect/forum.log)\n"
        "RuleException:\nCalledProcessError in file collect.smk\nExiting because a job execution failed.\n"
    )
    assert failure_summary(output) == "source forum: no post collected: x (log: logs/collect/forum.log)"
    assert failure_summary("WorkflowError:\n") == "Snakemake stopped: see its messages above"


def test_progress_lines_come_at_most_every_interval_and_at_the_end(caplog):
    now = [0.0]
    progress = Progress("collect forum", "pages", every_s=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="perivigil.progress"):
        for second in range(1, 26):
            now[0] = float(second)
            progress.advance(detail=f"{second * 10} posts")
        progress.finish("250 posts")
    assert [r.getMessage() for r in caplog.records] == [
        "[collect forum] so far: 10 pages, 100 posts, 10 s",
        "[collect forum] so far: 20 pages, 200 posts, 20 s",
        "[collect forum] done: 25 pages, 250 posts, 25 s",
    ]


def test_a_step_ends_bad_input_with_one_line_and_a_bug_with_its_traceback(tmp_path):
    script = (
        "import sys\nfrom perivigil.logs import log_to\nfrom perivigil.errors import InputError\n"
        f"log_to({str(tmp_path / 'step.log')!r})\nraise InputError(sys.argv[1]) if sys.argv[1] else 1 / 0\n"
    )
    bad = subprocess.run(
        [sys.executable, "-c", script, "data.csv, row 3: field 'x' is empty"], capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert bad.stderr == f"perivigil error: data.csv, row 3: field 'x' is empty (log: {tmp_path / 'step.log'})\n"
    assert "perivigil error: data.csv, row 3: field 'x' is empty" in (tmp_path / "step.log").read_text()
    bug = subprocess.run([sys.executable, "-c", script, ""], capture_output=True, text=True)
    assert bug.returncode == 1 and bug.stderr == ""
    assert "ZeroDivisionError" in (tmp_path / "step.log").read_text()
