"""bench/dag.py: reading a run of the whole DAG (Snakemake's log, benchmark files, the rusage hook).

The log below is what Snakemake 9.27 prints (cut to three jobs); the benchmark files and the
hook's records are written here, so every figure of the table can be checked by hand.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from datetime import datetime

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_dag", ROOT / "bench/dag.py")
dag = importlib.util.module_from_spec(spec)
sys.modules["bench_dag"] = dag  # dataclasses look their module up
spec.loader.exec_module(dag)

LOG = """\
Building DAG of jobs...
Job stats:
job          count
---------  -------
preprocess       1
train            2
all              1
total            4

[Mon Nov 23 11:23:31 2026]
localrule preprocess:
    input: raw/demo_forum/corpus.jsonl
    output: results/corpus/posts.parquet, results/corpus/preprocess_summary.json
    log: logs/preprocess/preprocess.log
    jobid: 1
    benchmark: benchmarks/preprocess/preprocess.tsv
    reason: Missing output files: results/corpus/posts.parquet
    resources: tmpdir=/tmp, mem_mb=4000, mem=4 GB, mem_mib=3815
Shell command: None
[preprocess] done: 2,000 posts, 509 exact and 398 near duplicates, 8 s
[Mon Nov 23 11:23:41 2026]
Finished jobid: 1 (Rule: preprocess)
[Mon Nov 23 11:23:41 2026]
rule train:
    input: results/corpus/posts.parquet
    output: results/models/logreg_iso_t1.joblib
    log: logs/evaluate/train_logreg_iso_t1.log
    jobid: 7
    wildcards: model=logreg, label=iso_t1
Shell command: None
[Mon Nov 23 11:23:41 2026]
rule train:
    log: logs/evaluate/train_svm_iso_t1.log
    jobid: 8
[Mon Nov 23 11:24:11 2026]
Finished jobid: 7 (Rule: train)
[Mon Nov 23 11:24:26 2026]
Finished jobid: 8 (Rule: train)
[Mon Nov 23 11:24:26 2026]
localrule all:
    jobid: 0
[Mon Nov 23 11:24:26 2026]
Finished jobid: 0 (Rule: all)
"""
BENCHMARK = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def test_the_log_gives_each_jobs_rule_log_benchmark_and_times():
    jobs = dag.parse_log(LOG)
    assert [(j.rule, j.jobid, j.log, j.benchmark) for j in jobs] == [
        ("preprocess", "1", "logs/preprocess/preprocess.log", "benchmarks/preprocess/preprocess.tsv"),
        ("train", "7", "logs/evaluate/train_logreg_iso_t1.log", None),
        ("train", "8", "logs/evaluate/train_svm_iso_t1.log", None),
        ("all", "0", "", None),
    ]
    assert jobs[0].started == datetime(2026, 11, 23, 11, 23, 31)
    assert [j.log_wall_s for j in jobs] == [10.0, 30.0, 45.0, 0.0]


def test_a_day_of_one_digit_is_read_as_ctime_pads_it():
    (job,) = dag.parse_log(
        "[Mon Nov  3 23:59:41 2026]\nrule x:\n    jobid: 1\n[Tue Nov  4 00:00:00 2026]\nFinished jobid: 1 (Rule: x)\n"
    )
    assert (job.rule, job.log_wall_s) == ("x", 19.0)


def _run_folder(tmp_path):
    (tmp_path / "benchmarks/preprocess").mkdir(parents=True)
    (tmp_path / "benchmarks/preprocess/preprocess.tsv").write_text(
        BENCHMARK + "10.65\t0:00:10\t462.09\t2004.46\t368.27\t396.10\t15.09\t0.15\t51.37\t5.75\n"
    )
    (tmp_path / ".bench/rusage").mkdir(parents=True)
    for rule, log, cpu, rss in [
        ("preprocess", "logs/preprocess/preprocess.log", 8.5, 470.0),
        ("train", "logs/evaluate/train_logreg_iso_t1.log", 12.0, 210.0),
        ("train", "logs/evaluate/train_svm_iso_t1.log", 13.0, 268.0),
    ]:
        record = {"rule": rule, "log": log, "wall_s": 1.0, "cpu_s": cpu, "max_rss_mib": rss}
        (tmp_path / f".bench/rusage/{rule}-{int(cpu)}.json").write_text(json.dumps(record))
    return tmp_path


def test_rules_are_summed_over_their_jobs_with_the_kernels_figures_beside(tmp_path):
    jobs = [job for job in dag.parse_log(LOG) if job.jobid != "8"]  # train: one job of two finished here
    rows = dag.rule_rows(jobs, _run_folder(tmp_path))
    assert [(r.rule, r.jobs, r.benchmarked, r.wall_s, r.cpu_s, r.max_rss_mib) for r in rows] == [
        ("train", 1, 0, 0.0, 0.0, 0.0),  # by wall time: train's 30 s from the log, then preprocess's 10.65 s
        ("preprocess", 1, 1, 10.65, 5.75, 462.09),
    ]
    assert [(r.log_wall_s, r.measured, r.kernel_cpu_s, r.kernel_rss_mib) for r in rows] == [
        (30.0, 1, 12.0, 210.0),
        (10.0, 1, 8.5, 470.0),
    ]


def test_the_table_has_every_rule_and_says_which_have_no_benchmark(tmp_path):
    jobs = dag.parse_log(LOG)
    run = dag.Run(posts=2000, cores=2, generate_s=1.7, wall_s=60.0, cpu_s=40.0, returncode=0)
    text = dag.markdown(dag.rule_rows(jobs, _run_folder(tmp_path)), jobs, run)
    lines = text.splitlines()
    assert lines[0] == "Whole DAG, 2,000 posts, `--cores 2`: completed."
    assert lines[4:6] == [
        "| train | 2 | 75 (log; no benchmark) | |  | 25.0 | 3.00 | 268 |",
        "| preprocess | 1 | 10.7 | 5.8 | 462 | 8.5 | 1.25 | 470 |",
    ]
    assert lines[9:12] == [
        "| whole DAG, start to end (CPU: kernel, every process, Snakemake's own included) | 60.0 | 40.0 | 1.50 |",
        "| the jobs' script processes (kernel) | | 33.5 | |",
        "| the 1 benchmarked rules (benchmark files) | 10.7 | 5.8 | 1.85 |",
    ]
    assert lines[-1] == (
        "Peak RSS per job, largest process (MiB, kernel): preprocess 470, train train_svm_iso_t1 268, "
        "train train_logreg_iso_t1 210."
    )


def test_the_hook_writes_a_jobs_cpu_and_peak_memory_and_nothing_for_other_processes(tmp_path):
    env = dag.study_env(tmp_path, hook=True)
    job = "import types; snakemake = types.SimpleNamespace(rule='train', log=['logs/t.log']); data = b'x' * 2**27"
    subprocess.run([sys.executable, "-c", job], env=env, check=True)
    subprocess.run([sys.executable, "-c", "import snakemake"], env=env, check=True)  # no job: no record
    (written,) = list((tmp_path / ".bench/rusage").glob("*.json"))
    record = json.loads(written.read_text())
    assert (record["rule"], record["log"]) == ("train", "logs/t.log")
    assert record["max_rss_mib"] >= 128 and record["cpu_s"] > 0  # the 128 MiB written above
    assert env["PYTHONPATH"].split(os.pathsep)[:2] == [str(tmp_path / ".bench"), str(tmp_path / "src")]


@pytest.mark.parametrize("argv", [["--posts", "0"], ["--cores", "0"]])
def test_the_command_refuses_nonsense_before_copying_anything(argv, capsys):
    with pytest.raises(SystemExit):
        dag.main(argv)
    assert "must be at least 1" in capsys.readouterr().err
