"""tools/slurm/check_run.py, which `make test-slurm` runs on a real run's logs, on logs written here.

The lines are those of Snakemake 9.27 with snakemake-executor-plugin-slurm 2.8 and of slurmctld 22.05
(copied from a `make test-slurm` run, paths shortened).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from conftest import ROOT

CHECK = ROOT / "tools/slurm/check_run.py"


def _module():
    spec = importlib.util.spec_from_file_location("check_run", CHECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _snakemake_log(logdir, preprocess_submitted=True) -> str:
    lines = [
        "[Mon Nov 23 11:25:20 2026]",
        "rule collect:",
        "    input: config/sites/demo_forum.yaml, resources/demo_forum/site.sha256",
        "    log: logs/collect/demo_forum.log",
        "    jobid: 2",
        "    wildcards: source=demo_forum",
        "    resources: tmpdir=<TBD>, mem_mb=1000, mem=1 GB, runtime=720, slurm_partition=normal",
        "Shell command: None",
        "",
        "[Mon Nov 23 11:25:20 2026]",
        "rule preprocess:",
        "    input: results/corpus/collection_report.csv",
        "    jobid: 1",
        "    threads: 2",
        "    resources: tmpdir=<TBD>, mem_mb=4000, mem=4 GB, runtime=60, slurm_partition=normal",
        "Shell command: None",
        f"Job 2 has been submitted with SLURM jobid 4 (log: {logdir}/rule_collect/demo_forum/4.log).",
    ]
    if preprocess_submitted:
        lines.append(f"Job 1 has been submitted with SLURM jobid 5 (log: {logdir}/rule_preprocess/5.log).")
    lines += [
        "[Mon Nov 23 11:37:58 2026]",
        "localrule all:",
        "    input: results/provenance.json",
        "    jobid: 0",
        "    resources: tmpdir=/tmp",
        "33 of 33 steps (100%) done",
    ]
    return "\n".join(lines) + "\n"


def _slurmctld_log(preprocess_status=0) -> str:
    # Job 5 is started by the backfill scheduler, whose line does not give its CPUs (make test-slurm failed
    # on this once: the CPUs are read from scontrol instead).
    return (
        "[2026-11-23T11:25:21.443] sched: Allocate JobId=4 NodeList=localhost #CPUs=1 Partition=normal\n"
        "[2026-11-23T11:25:21.450] sched/backfill: _start_job: Started JobId=5 in normal on localhost\n"
        "[2026-11-23T11:25:28.896] _job_complete: JobId=4 WEXITSTATUS 0\n"
        "[2026-11-23T11:25:28.896] _job_complete: JobId=4 done\n"
        f"[2026-11-23T11:25:32.385] _job_complete: JobId=5 WEXITSTATUS {preprocess_status}\n"
        "[2026-11-23T11:25:32.385] _job_complete: JobId=5 done\n"
    )


def _scontrol_jobs(preprocess_cpus=2) -> str:
    # `scontrol -o show job` of SLURM 22.05, one line per job (fields cut)
    return (
        "JobId=4 JobName=collect UserId=root(0) GroupId=root(0) Priority=4294901756 JobState=COMPLETED "
        "Reason=None ExitCode=0:0 NodeList=localhost NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1\n"
        "JobId=5 JobName=preprocess UserId=root(0) GroupId=root(0) Priority=4294901755 JobState=COMPLETED "
        f"Reason=None ExitCode=0:0 NodeList=localhost NumNodes=1 NumCPUs={preprocess_cpus} NumTasks=1 "
        f"CPUs/Task={preprocess_cpus}\n"
    )


@pytest.fixture
def logdir(tmp_path):
    logdir = tmp_path / ".snakemake/slurm_logs"
    for log in ("rule_collect/demo_forum/4.log", "rule_preprocess/5.log"):
        (logdir / log).parent.mkdir(parents=True, exist_ok=True)
        (logdir / log).write_text("SNAKEMAKE\n", encoding="utf-8")
    return logdir


def test_a_run_whose_jobs_all_ran_on_slurm_passes(logdir):
    summary = _module().check(_snakemake_log(logdir), _slurmctld_log(), _scontrol_jobs(), logdir)
    assert summary == (
        f"2 jobs, each one SLURM job with CPUs = threads (more than 1: preprocess 2), exit 0, its log in {logdir}"
    )


@pytest.mark.parametrize(
    ("snakemake", "slurmctld", "scontrol", "problem"),
    [
        (
            {"preprocess_submitted": False},
            {},
            {},
            "jobs not submitted to SLURM: [1]",
        ),
        (
            {},
            {},
            {"preprocess_cpus": 1},  # threads capped, e.g. by profiles/default's `cores` on a 1-core login node
            "rule preprocess (Snakemake job 1, SLURM job 5): 1 CPUs allocated for 2 threads",
        ),
        (
            {},
            {"preprocess_status": 1},
            {},
            "rule preprocess (Snakemake job 1, SLURM job 5): exit status 1 in slurmctld's log",
        ),
    ],
)
def test_a_job_not_submitted_capped_or_failed_is_named(logdir, snakemake, slurmctld, scontrol, problem):
    with pytest.raises(ValueError) as error:
        _module().check(
            _snakemake_log(logdir, **snakemake), _slurmctld_log(**slurmctld), _scontrol_jobs(**scontrol), logdir
        )
    assert str(error.value) == problem


def test_a_missing_slurm_log_fails_in_one_line_from_the_command_line(logdir, tmp_path):
    (logdir / "rule_collect/demo_forum/4.log").unlink()
    (tmp_path / "snakemake.log").write_text(_snakemake_log(logdir), encoding="utf-8")
    (tmp_path / "slurmctld.log").write_text(_slurmctld_log(), encoding="utf-8")
    (tmp_path / "jobs.txt").write_text(_scontrol_jobs(), encoding="utf-8")
    logs = [str(tmp_path / name) for name in ("snakemake.log", "slurmctld.log", "jobs.txt")]
    result = subprocess.run(
        [sys.executable, str(CHECK), *logs, str(logdir)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"check_run: rule collect (Snakemake job 2, SLURM job 4): no SLURM log {logdir}/rule_collect/demo_forum/4.log"
        f" under {logdir}/rule_collect"
    ]
