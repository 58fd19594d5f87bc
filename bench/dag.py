"""Benchmark: the whole DAG, from raw JSONL to the report, on a generated corpus of N posts.

    python bench/dag.py --posts 100000 [--cores 2] [--keep] [--output FILE.md] [--workdir DIR]

1. Copies the repository (its tracked and untracked, not ignored, files: the working tree
   as it is) into a temporary folder, so that nothing of the checkout is touched.
2. Generates N posts with ``perivigil demo-forum --jsonl FILE --posts N`` (raw records,
   without the three fields that came later, which the JSONL source fills) and the truth
   table of the same posts (the same generator and seed), for the simulated annotators and
   adjudicator (``demo: true``), so that every rule runs, up to the report.
3. Writes the copy's ``config/config.yaml``: the shipped one, with one source of ``type:
   jsonl`` reading that file (named ``demo_forum``, so that post ids read as in the demo)
   and ``demo_forum.truth`` pointing at that truth table.
4. Runs ``snakemake --cores C`` there (the copy's ``src/`` first on ``PYTHONPATH``), timing
   it from start to end and taking the CPU time of all its processes from the kernel
   (``getrusage(RUSAGE_CHILDREN)``: user + system of every job, and of Snakemake itself).
5. Reads each job's ``benchmark:`` file (Snakemake's: ``s``, ``cpu_time``, ``max_rss``...),
   found from Snakemake's own log (which prints each job's rule, jobid, log and benchmark
   file), and prints a table per rule: jobs, wall seconds, CPU seconds, the largest job's
   peak RSS. A rule without ``benchmark:`` is listed as "no benchmark", with its wall time
   from the log's timestamps (1 s resolution).

Snakemake's benchmark timer samples a job's processes every 0.5 s for its first 30 samples,
then every 30 s: a job's CPU time misses what it spent after the last sample (up to 30 s of
CPU for a job longer than 15 s; most of it for a job of 20 s) and its peak RSS is the largest
sample. So the run also takes each job's exact figures from the kernel: a ``sitecustomize``
module, on the ``PYTHONPATH`` of this run only (``.bench/`` in the copy), registers an
``atexit`` hook in every Python process; in a job's script process (the one that holds
Snakemake's ``snakemake`` object) it writes the rule, the job's log file, and
``getrusage`` of the process and of its waited-for children (user + system CPU seconds, and
the largest process's peak RSS) to ``.bench/rusage/``. These "kernel" columns cover every
rule, benchmarked or not; "wall per CPU-s" is the benchmark's wall (else the log's) over the
kernel's CPU: 1 for a job that had a core to itself, more when it waited for a core or for
I/O (a shared machine), about 1/threads for a job that kept its threads busy. The total CPU
of the run (every process, Snakemake's own included) comes from the kernel too. With C cores
jobs overlap: the rules' wall times add up to more than the DAG's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "demo_forum"
EXPORT, TRUTH = "export/corpus.jsonl", "export/truth.csv"
STAMP = re.compile(r"^\[(\w{3} \w{3} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4})\]$")
JOB = re.compile(r"^(?:local)?rule (\S+):$")
FINISHED = re.compile(r"^Finished jobid: (\d+)")


# ----------------------------------------------------------------------------- the study copy
def copy_repository(target: Path) -> Path:
    """The working tree (tracked and untracked files that git does not ignore) copied into ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree but still in the index
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    return target


# Written to <copy>/.bench/sitecustomize.py: each job's exact CPU time and peak RSS (see the module docstring).
RUSAGE_HOOK = """\
import atexit, json, os, resource, sys, time

_STARTED = time.perf_counter()


def _write_rusage():
    job = getattr(sys.modules.get("__main__"), "snakemake", None)
    folder = os.environ.get("PERIVIGIL_BENCH_RUSAGE")
    if not folder or not hasattr(job, "rule") or not hasattr(job, "log"):  # not a job's script process
        return
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    record = {
        "rule": job.rule,
        "log": list(job.log)[0] if len(job.log) else "",
        "wall_s": time.perf_counter() - _STARTED,
        "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "max_rss_mib": max(own.ru_maxrss, children.ru_maxrss) / 1024,
    }
    with open(os.path.join(folder, f"{job.rule}-{os.getpid()}.json"), "w") as handle:
        json.dump(record, handle)


atexit.register(_write_rusage)
"""


def study_env(copy: Path, hook: bool = False) -> dict[str, str]:
    """The environment of a command run in the copy: its ``src/`` first, the demo key; ``hook``: the rusage hook."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERIVIGIL_PSEUDONYM_KEY")}
    paths = [str(copy / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    if hook:
        (copy / ".bench/rusage").mkdir(parents=True, exist_ok=True)
        (copy / ".bench/sitecustomize.py").write_text(RUSAGE_HOOK, encoding="utf-8")
        paths.insert(0, str(copy / ".bench"))
        env["PERIVIGIL_BENCH_RUSAGE"] = str(copy / ".bench/rusage")
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def generate_corpus(copy: Path, posts: int) -> float:
    """Write ``EXPORT`` (``perivigil demo-forum --jsonl``) and ``TRUTH`` in the copy; return the seconds taken."""
    started = time.perf_counter()
    (copy / EXPORT).parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "perivigil", "demo-forum", "--jsonl", EXPORT, "--posts", str(posts)]
    subprocess.run(command, cwd=copy, env=study_env(copy), check=True, stdout=subprocess.DEVNULL)
    # The truth of the same posts: the generator the command above streams (same settings, seed and N).
    script = (
        "import sys, yaml\n"
        "from pathlib import Path\n"
        "from perivigil.demo.build import write_demo_truth\n"
        "s = yaml.safe_load(Path('config/config.yaml').read_text(encoding='utf-8'))['demo_forum']\n"
        "write_demo_truth(s, int(sys.argv[1]), Path(sys.argv[2]))\n"
    )
    subprocess.run([sys.executable, "-c", script, str(posts), TRUTH], cwd=copy, env=study_env(copy), check=True)
    return time.perf_counter() - started


def write_config(copy: Path) -> None:
    """The copy's config: the shipped one, the JSONL export as its only source, the truth of its posts."""
    path = copy / "config/config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["demo"] = True
    config["sources"] = [{"name": SOURCE, "type": "jsonl", "path": EXPORT}]
    config["demo_forum"]["truth"] = TRUTH
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


@dataclass
class Run:
    """One run of the DAG: wall seconds start to end, CPU seconds of all its processes; saved in the copy."""

    posts: int
    cores: int
    generate_s: float
    wall_s: float = 0.0
    cpu_s: float = 0.0
    returncode: int = -1

    def save(self, copy: Path) -> None:
        (copy / ".bench").mkdir(exist_ok=True)
        (copy / ".bench/run.json").write_text(json.dumps(self.__dict__, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, copy: Path) -> Run:
        return cls(**json.loads((copy / ".bench/run.json").read_text(encoding="utf-8")))


SNAKEMAKE_LOG = "logs/bench_snakemake.txt"


def run_dag(copy: Path, run: Run) -> Run:
    """``snakemake --cores`` in the copy, timed; its output goes to ``SNAKEMAKE_LOG`` there."""
    (copy / "logs").mkdir(exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with (copy / SNAKEMAKE_LOG).open("w", encoding="utf-8") as log:
        result = subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", str(run.cores)],
            cwd=copy,
            env=study_env(copy, hook=True),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    run.wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run.returncode = result.returncode
    run.save(copy)
    return run


# ----------------------------------------------------------------------------- reading the run
@dataclass
class Job:
    """One job of the run, as Snakemake's log states it."""

    rule: str
    jobid: str
    log: str = ""
    benchmark: str | None = None
    started: datetime | None = None
    finished: datetime | None = None
    figures: dict[str, float] = field(default_factory=dict)  # its benchmark file's first row
    kernel: dict[str, float] = field(default_factory=dict)  # its script process's getrusage (the hook)

    @property
    def log_wall_s(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()


def parse_log(text: str) -> list[Job]:
    """The jobs of a Snakemake log, in start order: rule, jobid, benchmark file, start and end (1 s).

    Reads the lines Snakemake 9 prints: ``[Mon Nov 23 11:23:11 2026]`` before each event,
    ``rule NAME:`` or ``localrule NAME:`` followed by indented ``key: value`` lines (``jobid``,
    ``log``, ``benchmark``...), and ``Finished jobid: N (Rule: NAME)``. Lines the jobs print between
    them are skipped.
    """
    jobs: dict[str, Job] = {}
    stamp: datetime | None = None
    current: Job | None = None
    for line in text.splitlines():
        if current is not None:
            key, _, value = line.strip().partition(": ")
            if line.startswith("    ") and value:
                if key == "jobid":
                    current.jobid = value
                    jobs[value] = current
                elif key == "benchmark":
                    current.benchmark = value
                elif key == "log":
                    current.log = value.split(", ")[0]
                continue
            current = None
        if match := STAMP.match(line):
            stamp = datetime.strptime(" ".join(match.group(1).split()), "%a %b %d %H:%M:%S %Y")
        elif match := JOB.match(line):
            current = Job(rule=match.group(1), jobid="", started=stamp)
        elif (match := FINISHED.match(line)) and match.group(1) in jobs:
            jobs[match.group(1)].finished = stamp
    return list(jobs.values())


def read_benchmark(path: Path) -> dict[str, float]:
    """The first row of a Snakemake benchmark file (``s``, ``max_rss`` in MiB, ``cpu_time``...); NA left out."""
    with path.open(encoding="utf-8") as handle:
        row = next(csv.DictReader(handle, delimiter="\t"))
    return {key: float(value) for key, value in row.items() if key != "h:m:s" and value not in ("NA", "", None)}


def read_rusage(folder: Path) -> dict[tuple[str, str], dict[str, float]]:
    """The hook's records, by (rule, log file): ``cpu_s``, ``max_rss_mib``, ``wall_s``."""
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = json.loads(path.read_text(encoding="utf-8"))
        found[(record["rule"], record["log"])] = {k: float(record[k]) for k in ("cpu_s", "max_rss_mib", "wall_s")}
    return found


@dataclass
class RuleRow:
    """The figures of one rule, summed over its jobs (peak RSS: the largest job's)."""

    rule: str
    jobs: int = 0
    benchmarked: int = 0
    wall_s: float = 0.0  # benchmark files
    cpu_s: float = 0.0
    max_rss_mib: float = 0.0
    log_wall_s: float = 0.0  # Snakemake's log, 1 s resolution
    measured: int = 0  # jobs with the hook's figures
    kernel_cpu_s: float = 0.0
    kernel_rss_mib: float = 0.0

    @property
    def wall(self) -> float:
        """The benchmark's wall time when every job has one, else the log's."""
        return self.wall_s if self.benchmarked == self.jobs else self.log_wall_s


def rule_rows(jobs: list[Job], copy: Path) -> list[RuleRow]:
    """One row per rule, heaviest first (by wall time); ``all`` left out. Fills each job's figures."""
    kernel = read_rusage(copy / ".bench/rusage")
    rows: dict[str, RuleRow] = {}
    for job in jobs:
        if job.rule == "all":
            continue
        row = rows.setdefault(job.rule, RuleRow(job.rule))
        row.jobs += 1
        row.log_wall_s += job.log_wall_s or 0.0
        if job.benchmark and (copy / job.benchmark).is_file():
            job.figures = read_benchmark(copy / job.benchmark)
            row.benchmarked += 1
            row.wall_s += job.figures.get("s", 0.0)
            row.cpu_s += job.figures.get("cpu_time", 0.0)
            row.max_rss_mib = max(row.max_rss_mib, job.figures.get("max_rss", 0.0))
        job.kernel = kernel.get((job.rule, job.log), {})
        if job.kernel:
            row.measured += 1
            row.kernel_cpu_s += job.kernel["cpu_s"]
            row.kernel_rss_mib = max(row.kernel_rss_mib, job.kernel["max_rss_mib"])
    return sorted(rows.values(), key=lambda r: (-r.wall, r.rule))


# ----------------------------------------------------------------------------- the tables
def _ratio(wall: float, cpu: float) -> str:
    return f"{wall / cpu:.2f}" if cpu > 0 else "-"


def _job_name(job: Job) -> str:
    """``train logreg_iso_t1``: the rule, and its log file's stem when the rule has several jobs."""
    stem = Path(job.log).stem if job.log else job.jobid
    return job.rule if stem == job.rule else f"{job.rule} {stem}"


def markdown(rows: list[RuleRow], jobs: list[Job], run: Run) -> str:
    """The per-rule table, the totals, and the per-job peak memory, in Markdown."""
    lines = [
        f"Whole DAG, {run.posts:,} posts, `--cores {run.cores}`: "
        f"{'completed' if run.returncode == 0 else f'FAILED (exit {run.returncode})'}.",
        "",
        "| rule | jobs | wall s | CPU s | max RSS MiB | CPU s (kernel) | wall per CPU-s | max RSS MiB (kernel) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.benchmarked == row.jobs:
            figures = f"{row.wall_s:,.1f} | {row.cpu_s:,.1f} | {row.max_rss_mib:,.0f}"
        elif row.benchmarked:
            figures = f"{row.log_wall_s:,.0f} (log; {row.benchmarked} benchmarked) | | "
        else:
            figures = f"{row.log_wall_s:,.0f} (log; no benchmark) | | "
        kernel = (
            f"{row.kernel_cpu_s:,.1f} | {_ratio(row.wall, row.kernel_cpu_s)} | {row.kernel_rss_mib:,.0f}"
            if row.measured == row.jobs
            else f"{row.measured} of {row.jobs} jobs measured | |"
        )
        lines.append(f"| {row.rule} | {row.jobs} | {figures} | {kernel} |")
    benchmarked = [r for r in rows if r.benchmarked == r.jobs]
    bench_wall, bench_cpu = sum(r.wall_s for r in benchmarked), sum(r.cpu_s for r in benchmarked)
    kernel_cpu = sum(r.kernel_cpu_s for r in rows)
    lines += [
        "",
        "| total | wall s | CPU s | wall per CPU-s |",
        "|---|---:|---:|---:|",
        f"| whole DAG, start to end (CPU: kernel, every process, Snakemake's own included) | {run.wall_s:,.1f} | "
        f"{run.cpu_s:,.1f} | {_ratio(run.wall_s, run.cpu_s)} |",
        f"| the jobs' script processes (kernel) | | {kernel_cpu:,.1f} | |",
        f"| the {len(benchmarked)} benchmarked rules (benchmark files) | {bench_wall:,.1f} | {bench_cpu:,.1f} | "
        f"{_ratio(bench_wall, bench_cpu)} |",
        "",
        f"Corpus generation (not part of the DAG): {run.generate_s:,.1f} s.",
        "",
        "Peak RSS per job, largest process (MiB, kernel): "
        + ", ".join(
            f"{_job_name(job)} {job.kernel['max_rss_mib']:,.0f}"
            for job in sorted(jobs, key=lambda j: (-j.kernel.get("max_rss_mib", 0.0), _job_name(j)))
            if job.kernel
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def tables(copy: Path) -> tuple[str, Run]:
    """The Markdown tables of the run kept in ``copy``."""
    run = Run.load(copy)
    jobs = parse_log((copy / SNAKEMAKE_LOG).read_text(encoding="utf-8", errors="replace"))
    return markdown(rule_rows(jobs, copy), jobs, run), run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000, help="posts of the generated corpus (default 100000)")
    parser.add_argument("--cores", type=int, default=2, help="snakemake --cores (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the study copy (its results, logs, benchmarks)")
    parser.add_argument("--output", type=Path, help="also write the Markdown tables to this file")
    parser.add_argument(
        "--workdir", type=Path, help="where the study copy goes (a new folder; default: a temporary one)"
    )
    parser.add_argument("--tables", type=Path, metavar="DIR", help="only print the tables of a run kept in DIR")
    args = parser.parse_args(argv)
    if args.posts < 1 or args.cores < 1:
        parser.error("--posts and --cores must be at least 1")
    if args.tables:
        text, run = tables(args.tables)
    else:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=False)
            copy = args.workdir.resolve()
        else:
            copy = Path(tempfile.mkdtemp(prefix="perivigil-dag-"))
        try:
            copy_repository(copy)
            generate_s = generate_corpus(copy, args.posts)
            write_config(copy)
            print(f"{args.posts:,} posts generated in {generate_s:.1f} s; running the DAG in {copy}", flush=True)
            run_dag(copy, Run(args.posts, args.cores, generate_s))
            text, run = tables(copy)
            if run.returncode != 0:
                print((copy / SNAKEMAKE_LOG).read_text(encoding="utf-8", errors="replace")[-4000:], file=sys.stderr)
        finally:
            if args.keep:
                print(f"kept: {copy}")
            else:
                shutil.rmtree(copy, ignore_errors=True)
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
