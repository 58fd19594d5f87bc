"""Check, from its logs, that a Snakemake run through profiles/slurm ran every job as a SLURM job.

Usage: python tools/slurm/check_run.py SNAKEMAKE_LOG SLURMCTLD_LOG SCONTROL_JOBS SLURM_LOGDIR

For every job of the run that is not a local rule (Snakemake's log: ``rule NAME:`` blocks with
their ``jobid`` and ``threads``, then ``Job J has been submitted with SLURM jobid S``), checks that
it was submitted once, that SLURM allocated it as many CPUs as the rule's threads (so that nothing
capped them, docs/cluster.md), that slurmctld saw it end with exit status 0, and that its SLURM log
is in SLURM_LOGDIR (``rule_<rule>/[<wildcards>/]<S>.log``). Prints one summary line; exits 1 with
the first problem on one line. Used by tools/slurm/test_slurm.sh (make test-slurm); the logs are
SLURM 22.05's and snakemake-executor-plugin-slurm 2.8's.

The CPUs come from SCONTROL_JOBS, ``scontrol -o show job`` taken after the run (``NumCPUs=``; the
test cluster keeps finished jobs for an hour, ``MinJobAge``), not from slurmctld's log: a job that
the backfill scheduler starts is logged as ``sched/backfill: _start_job: Started JobId=S in
PARTITION on NODES``, without its CPUs, where the main scheduler logs ``sched: Allocate JobId=S
... #CPUs=N``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

RULE = re.compile(r"^rule (\w+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
THREADS = re.compile(r"^\s+threads: (\d+)$")
SUBMITTED = re.compile(r"^Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+)\)\.$")
ALLOCATED = re.compile(r"^JobId=(\d+) .*?\bNumCPUs=(\d+)\b", re.MULTILINE)
ENDED = re.compile(r"_job_complete: JobId=(\d+) WEXITSTATUS (\d+)")


def jobs_of(snakemake_log: str) -> tuple[dict[int, tuple[str, int]], dict[int, tuple[int, Path]]]:
    """(Snakemake jobid -> (rule, threads)) of the non-local jobs, and (jobid -> (SLURM id, log))."""
    jobs: dict[int, tuple[str, int]] = {}
    submitted: dict[int, tuple[int, Path]] = {}
    block: dict | None = None  # the `rule NAME:` block being read: its rule, jobid and threads

    def close() -> None:
        if block is not None and "jobid" in block:
            jobs[block["jobid"]] = (block["rule"], block.get("threads", 1))

    for line in snakemake_log.splitlines():
        if block is not None and line.startswith(" "):
            if match := JOBID.match(line):
                block["jobid"] = int(match[1])
            elif match := THREADS.match(line):
                block["threads"] = int(match[1])
            continue
        close()
        block = {"rule": match[1]} if (match := RULE.match(line)) else None
        if match := SUBMITTED.match(line):
            if int(match[1]) in submitted:
                raise ValueError(f"Snakemake job {match[1]} was submitted twice")
            submitted[int(match[1])] = (int(match[2]), Path(match[3]))
    close()
    return jobs, submitted


def check(snakemake_log: str, slurmctld_log: str, scontrol_jobs: str, logdir: Path) -> str:
    jobs, submitted = jobs_of(snakemake_log)
    if not jobs:
        raise ValueError("no job in the Snakemake log")
    if sorted(submitted) != sorted(jobs):
        raise ValueError(f"jobs not submitted to SLURM: {sorted(set(jobs) - set(submitted))}")
    cpus = {int(m[1]): int(m[2]) for m in ALLOCATED.finditer(scontrol_jobs)}
    status = {int(m[1]): int(m[2]) for m in ENDED.finditer(slurmctld_log)}
    for jobid, (rule, threads) in sorted(jobs.items()):
        slurm_id, log = submitted[jobid]
        where = f"rule {rule} (Snakemake job {jobid}, SLURM job {slurm_id})"
        if cpus.get(slurm_id) != threads:
            raise ValueError(f"{where}: {cpus.get(slurm_id)} CPUs allocated for {threads} threads")
        if status.get(slurm_id) != 0:
            raise ValueError(f"{where}: exit status {status.get(slurm_id)} in slurmctld's log")
        if not (log.is_file() and log.name == f"{slurm_id}.log" and log.is_relative_to(logdir / f"rule_{rule}")):
            raise ValueError(f"{where}: no SLURM log {log} under {logdir / f'rule_{rule}'}")
    multi = ", ".join(sorted({f"{rule} {threads}" for rule, threads in jobs.values() if threads > 1})) or "none"
    return (
        f"{len(jobs)} jobs, each one SLURM job with CPUs = threads (more than 1: {multi}), exit 0, its log in {logdir}"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        logs = [Path(path).read_text() for path in argv[1:4]]
        print(check(*logs, Path(argv[4]).resolve()))
    except (OSError, ValueError) as error:
        print(f"check_run: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
