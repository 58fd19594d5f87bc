"""CPU time and peak memory of the jobs downstream of extraction (issue 17): classify, apply, sample, provenance.

Two steps:

    # inputs at N posts: the demo run's posts, mentions and decisions repeated (ids suffixed),
    # written as preprocess and extract write them (zstd, row groups of 10,000); its test
    # predictions and trained models as they are; a site snapshot of --pages pages
    python bench/downstream.py make --demo results --posts 1000000 --pages 189000 --out /tmp/bench/1m

    # one job, run by the package in SRC (a checkout's src/: compare two versions), in a child
    # process whose CPU seconds (user + system) and peak RSS are read from wait4()
    python bench/downstream.py run apply --model logreg --data /tmp/bench/1m --src src

`run` prints one JSON line: job, model, src, posts, cpu_s, max_rss_mib, wall_s. The jobs
call the functions the workflow scripts call, with the demo config's settings; `classify`
runs `classify_jsonl_with_models` on --jsonl (a `perivigil demo-forum --jsonl` file).
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


def _repeat(table: pa.Table, n_rows: int, out: Path, id_columns: tuple[str, ...]) -> None:
    """``table`` repeated until ``n_rows`` rows, ids suffixed ``-r<k>`` (k > 0), in row groups of 10,000."""
    with pq.ParquetWriter(out, table.schema, compression="zstd") as writer:
        written, k, pending = 0, 0, []
        while written < n_rows:
            part = table.slice(0, min(len(table), n_rows - written))
            if k:
                for name in id_columns:
                    if name in part.column_names:
                        column = part.column(name).cast(pa.string())
                        kind = part.schema.field(name).type
                        suffixed = pc.if_else(
                            pc.is_null(column), column, pc.binary_join_element_wise(column, f"-r{k}", "")
                        )
                        part = part.set_column(part.schema.get_field_index(name), name, suffixed.cast(kind))
            pending.append(part)
            if sum(len(t) for t in pending) >= 10_000:
                whole = pa.concat_tables(pending)
                cut = len(whole) - len(whole) % 10_000
                writer.write_table(whole.slice(0, cut), row_group_size=10_000)
                pending = [whole.slice(cut)]
            written += len(part)
            k += 1
        if pending:
            writer.write_table(pa.concat_tables(pending), row_group_size=10_000)


def make(args: argparse.Namespace) -> None:
    demo, out = Path(args.demo), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    posts = pq.read_table(demo / "corpus/posts.parquet")
    reps = -(-args.posts // len(posts))
    _repeat(posts, args.posts, out / "posts.parquet", ID_COLUMNS)
    # mentions and decisions of the repeated posts (the last, partial repetition is cut by post count)
    for name in ("mentions", "decisions"):
        table = pq.read_table(demo / f"corpus/{name}.parquet")
        per_rep = len(table)
        kept = posts.slice(0, args.posts - (reps - 1) * len(posts)).column("post_id")
        last = table.filter(pc.is_in(table.column("post_id"), value_set=kept))
        _repeat(table, (reps - 1) * per_rep + len(last), out / f"{name}.parquet", ("post_id",))
    shutil.copy(demo / "evaluation/predictions.csv", out / "predictions.csv")
    shutil.copytree(demo / "models", out / "models", dirs_exist_ok=True)
    pages = sorted(p for p in (ROOT / "resources/demo_forum/site").rglob("*") if p.is_file())
    site = out / "site"
    for i in range(args.pages):
        target = site / f"board-{i // 1000}" / f"{i}-{pages[i % len(pages)].name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pages[i % len(pages)].read_bytes())
    print(json.dumps({"posts": args.posts, "repetitions": reps, "pages": args.pages, "out": str(out)}))


CHILD = r"""
import json, sys
from pathlib import Path
from types import SimpleNamespace
job, data, model, jsonl, config_path, tmp = sys.argv[1:7]
data, tmp = Path(data), Path(tmp)
config = __import__("yaml").safe_load(open(config_path, encoding="utf-8"))
if job == "classify":
    from perivigil.models.classify import classify_jsonl_with_models
    classify_jsonl_with_models(Path(jsonl), tmp / "classify.csv", data / "models" / model)
elif job == "apply":
    from perivigil.models.apply import age_bands, apply_model
    names = ("prevalence", "by_board_month", "drugs", "ages", "people", "indications")
    outputs = SimpleNamespace(**{n: tmp / f"{n}.csv" for n in names})
    models = {f"{model}_{label}": str(data / "models" / f"{model}_{label}.joblib") for label in ("iso_t1", "nsaid_late")}
    apply_model(data / "posts.parquet", data / "mentions.parquet", data / "decisions.parquet",
                data / "predictions.csv", models, {**config["apply"], "model": model}, outputs,
                age_bands(config["rules"]["iso_t1_max_sa"], config["rules"]["nsaid_late_min_sa"]))
elif job == "sample":
    from perivigil.annotation.run import sample_posts
    sample_posts(data / "posts.parquet", data / "mentions.parquet", config["annotation"],
                 tmp / "frame.parquet", tmp / "sample.parquet", tmp / "assignments.csv")
elif job == "provenance":
    import inspect
    import perivigil.provenance as provenance
    study = {**config, "bench_site": str(data / "site")}
    if "rules" in inspect.signature(provenance.write_provenance).parameters:
        rules = json.loads((data / "rules.json").read_text())
        sources = provenance.source_paths(study, [], data)
        provenance.write_provenance(study, [], sources, rules, tmp / "provenance.json", root=data)
    else:
        provenance.write_provenance(study, [], tmp / "provenance.json", root=data)
    print("provenance.json", (tmp / "provenance.json").stat().st_size, "bytes", file=sys.stderr)
"""


def run(args: argparse.Namespace) -> None:
    data, src = Path(args.data).resolve(), Path(args.src).resolve()
    tmp = Path(args.tmp or data / f"out-{args.job}-{args.model}-{src.parent.name}")
    tmp.mkdir(parents=True, exist_ok=True)
    if args.job == "provenance" and not (data / "results").exists():  # the demo's results and job records
        shutil.copytree(ROOT / "results", data / "results", ignore=shutil.ignore_patterns("provenance.json"))
        shutil.copytree(ROOT / ".snakemake/metadata", data / ".snakemake/metadata")
    if args.job == "provenance":  # the rules' declared outputs, as the Snakefile passes them (param `rules`)
        (data / "rules.json").write_text(json.dumps(_declared_rules(), indent=1))
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [
        sys.executable,
        "-c",
        CHILD,
        args.job,
        str(data),
        args.model,
        str(args.jsonl or ""),
        str(args.config),
        str(tmp),
    ]
    start = time.monotonic()
    child = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    if status:
        sys.exit(f"{args.job} failed with status {status}")
    posts = pq.ParquetFile(data / "posts.parquet").metadata.num_rows if args.job != "classify" else None
    print(
        json.dumps(
            {
                "job": args.job,
                "model": args.model,
                "src": str(src),
                "posts": posts,
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
                "max_rss_mib": round(usage.ru_maxrss / 1024),
                "wall_s": round(wall, 1),
            }
        ),
        flush=True,
    )


def _declared_rules() -> dict:
    """Each rule's output patterns under results/, read from a dry run of the demo workflow's Snakefile."""
    probe = (
        "from snakemake.io import is_flagged\n"
        "import json\n"
        "print('RULES', json.dumps({r.name: [[str(f), is_flagged(f, 'directory')] for f in r.output "
        "if str(f).startswith('results/')] for r in workflow.rules}))\n"
    )
    snakefile = ROOT / ".bench-probe.smk"
    snakefile.write_text(f'include: "{ROOT / "Snakefile"}"\n{probe}')
    try:
        result = subprocess.run(
            [sys.executable, "-m", "snakemake", "-s", str(snakefile), "-n", "--quiet", "all"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
    finally:
        snakefile.unlink()
    line = next(line for line in result.stdout.splitlines() if line.startswith("RULES "))
    return json.loads(line[len("RULES ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("make", help="inputs of the downstream jobs at N posts")
    build.add_argument("--demo", default="results", help="a finished demo run's results/")
    build.add_argument("--posts", type=int, required=True)
    build.add_argument("--pages", type=int, default=0, help="pages of the site snapshot (provenance's input folder)")
    build.add_argument("--out", required=True)
    job = sub.add_parser("run", help="one job, its CPU seconds and peak RSS")
    job.add_argument("job", choices=["classify", "apply", "sample", "provenance"])
    job.add_argument("--data", required=True)
    job.add_argument("--src", default=str(ROOT / "src"), help="the package to run (a checkout's src/)")
    job.add_argument("--model", default="rules", help="apply: rules, logreg or svm; classify: logreg or svm")
    job.add_argument("--jsonl", help="classify: the input JSONL")
    job.add_argument("--config", default=str(ROOT / "config/config.yaml"))
    job.add_argument("--tmp", help="where the job writes (default: DATA/out-JOB-MODEL-CHECKOUT)")
    args = parser.parse_args()
    make(args) if args.command == "make" else run(args)


if __name__ == "__main__":
    main()
