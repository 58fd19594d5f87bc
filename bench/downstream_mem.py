"""CPU time and peak memory of the jobs ``decide``, ``sensitivity`` and ``source_yield`` at N posts (issue 17).

Two steps:

    # inputs at N posts: the demo run's posts and mentions repeated (ids suffixed ``-r<k>``), in row
    # groups of 10,000 rows as preprocess and extract write them; its test predictions as they are
    python bench/downstream_mem.py make --demo results --posts 1000000 --out /tmp/mem/1m

    # one job, run by the package in SRC (a checkout's src/: compare two versions), in a child process
    # whose CPU seconds (user + system) and peak RSS are read from wait4()
    python bench/downstream_mem.py run sensitivity --data /tmp/mem/1m --src src

``run`` prints one JSON line: job, src, posts, cpu_s, max_rss_mib, wall_s. ``decide`` writes its
decisions.parquet beside the job's other outputs; ``source_yield`` reads DATA/decisions.parquet (copy one there). The jobs call
the functions the workflow scripts call, with the demo config's settings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
ID_COLUMNS = ("post_id", "thread_id", "duplicate_of", "near_duplicate_of", "quoted_post_id")
ROW_GROUP = 10_000


def _suffixed(table: pa.Table, k: int, id_columns: tuple[str, ...]) -> pa.Table:
    for name in id_columns:
        if name in table.column_names and k:
            column = table.column(name)
            joined = pc.binary_join_element_wise(column, pa.scalar(f"-r{k}", column.type), pa.scalar("", column.type))
            table = table.set_column(
                table.schema.get_field_index(name), name, pc.if_else(pc.is_null(column), column, joined)
            )
    return table


def make(args: argparse.Namespace) -> None:
    demo, out = Path(args.demo), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    posts = pq.read_table(demo / "corpus/posts.parquet")
    mentions = pq.read_table(demo / "corpus/mentions.parquet")
    reps = -(-args.posts // len(posts))
    with (
        pq.ParquetWriter(out / "posts.parquet", posts.schema, compression="zstd") as post_writer,
        pq.ParquetWriter(out / "mentions.parquet", mentions.schema, compression="zstd") as mention_writer,
    ):
        for k in range(reps):
            part = posts.slice(0, min(len(posts), args.posts - k * len(posts)))
            kept = mentions.filter(pc.is_in(mentions.column("post_id"), value_set=part.column("post_id")))
            post_writer.write_table(_suffixed(part, k, ID_COLUMNS), row_group_size=ROW_GROUP)
            mention_writer.write_table(_suffixed(kept, k, ("post_id",)), row_group_size=ROW_GROUP)
    shutil.copy(demo / "evaluation/predictions.csv", out / "predictions.csv")
    print(json.dumps({"posts": args.posts, "repetitions": reps, "out": str(out)}))


CHILD = r"""
import sys
from pathlib import Path
job, data, config_path, tmp = sys.argv[1:5]
data, tmp = Path(data), Path(tmp)
config = __import__("yaml").safe_load(open(config_path, encoding="utf-8"))
if job == "decide":
    from perivigil.models import rules
    # the package before issue 16's settings objects took the config section itself
    settings = {"rules": config["rules"]}
    if hasattr(rules, "RuleThresholds") and "thresholds" in __import__("inspect").signature(rules.decide_file).parameters:
        settings = rules.thresholds_from_config(settings)
    rules.decide_file(str(data / "posts.parquet"), str(data / "mentions.parquet"), str(tmp / "decisions.parquet"),
                      settings)
elif job == "sensitivity":
    from perivigil.models import sensitivity
    settings = {k: config[k] for k in ("rules", "sensitivity", "apply")}
    if hasattr(sensitivity, "SensitivitySettings"):
        settings = sensitivity.SensitivitySettings.from_config(settings)
    sensitivity.sensitivity_analysis(str(data / "posts.parquet"), str(data / "mentions.parquet"), str(data / "predictions.csv"),
                         settings, table_path=str(tmp / "sensitivity.csv"),
                         figure=(str(tmp / "sensitivity.png"), str(tmp / "sensitivity.pdf")))
elif job == "source_yield":
    from perivigil.report.source_yield import write_source_yield
    write_source_yield(data / "posts.parquet", data / "mentions.parquet", data / "decisions.parquet",
                       table_path=tmp / "source_yield.csv", figure=(tmp / "source_yield.png", tmp / "source_yield.pdf"))
"""


def run(args: argparse.Namespace) -> None:
    data, src = Path(args.data).resolve(), Path(args.src).resolve()
    tmp = Path(args.tmp or data / f"out-{args.job}-{src.parent.name}")
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src), "MPLBACKEND": "Agg"}
    command = [sys.executable, "-c", CHILD, args.job, str(data), str(args.config), str(tmp)]
    start = time.monotonic()
    child = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    if status:
        sys.exit(f"{args.job} failed with status {status}")
    print(
        json.dumps(
            {
                "job": args.job,
                "src": str(src),
                "posts": pq.ParquetFile(data / "posts.parquet").metadata.num_rows,
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
                "max_rss_mib": round(usage.ru_maxrss / 1024),
                "wall_s": round(wall, 1),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("make", help="inputs of the jobs at N posts")
    build.add_argument("--demo", default="results", help="a finished demo run's results/")
    build.add_argument("--posts", type=int, required=True)
    build.add_argument("--out", required=True)
    job = sub.add_parser("run", help="one job in a child process: CPU seconds and peak RSS")
    job.add_argument("job", choices=("decide", "sensitivity", "source_yield"))
    job.add_argument("--data", required=True)
    job.add_argument("--src", default=str(ROOT / "src"))
    job.add_argument("--config", default=str(ROOT / "config/config.yaml"))
    job.add_argument("--tmp", help="where the job's outputs go (default: under --data)")
    args = parser.parse_args()
    make(args) if args.command == "make" else run(args)


if __name__ == "__main__":
    main()
