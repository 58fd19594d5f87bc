"""Benchmark: preprocessing against extraction + rules, in the same run, per CPU-second.

    python bench/preprocess.py --input CORPUS.jsonl --posts N [--profile-posts M] [--keep POSTS.parquet]

Writes the first N raw posts of CORPUS.jsonl to a temporary file (not timed), runs
preprocessing on it (``perivigil.preprocess.pipeline.preprocess``, demo settings from
config/config.yaml: both passes, Parquet writing included) and reads the peak memory
(max RSS) right after it; then, in the same process, runs extraction + rule decisions on
the same N posts (``bench/extract.py``'s loop). Prints one JSON line: CPU seconds, wall
seconds and posts per CPU-second for both, the ratio preprocessing / extraction, and the
peak RSS after preprocessing and at the end.

CPU seconds (``time.process_time``: every thread of the process) are what to compare on a
shared machine; the wall time is printed beside them.

With ``--profile-posts M``, preprocessing of the first M posts also runs under cProfile,
after the timed runs, and the line gets the share of preprocessing's time spent in each
step (cumulative time of the step's function over the total; steps nest: accent folding
is called inside duplicate detection).

Make the corpus with: perivigil demo-forum --jsonl CORPUS.jsonl --posts 1000000
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import pstats
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract import posts as raw_posts  # noqa: E402  (bench/extract.py)

from perivigil.extract.pipeline import event_rows, posted_date  # noqa: E402
from perivigil.extract.run import extractor_from_config, lexicon_from_config  # noqa: E402
from perivigil.models.rules import decide, thresholds_from_config  # noqa: E402
from perivigil.preprocess.pipeline import preprocess  # noqa: E402
from perivigil.preprocess.run import settings_from_config  # noqa: E402

# Step -> functions whose cumulative time is the step's (the first that the profile holds).
STEPS = {
    "language detection (fastText, then lingua)": ["detect"],
    "duplicates + quotes (observe)": ["observe"],
    "MinHash signatures": ["signatures"],
    "accent folding (comparable)": ["comparable"],
    "normalise + mask (clean_text)": ["clean_text"],
    "member handles (first pass)": ["collect_handles"],
    "raw records read + checked": ["iter_records"],
    "table check + Parquet write": ["_frame", "check", "write_table"],
}


def head(path: Path, n: int, folder: Path) -> Path:
    """The first ``n`` lines of ``path`` in a file of ``folder``."""
    out = folder / f"head_{n}.jsonl"
    with path.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as sink:
        sink.writelines(itertools.islice(source, n))
    return out


def max_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def timed(function, *args):
    cpu, wall = time.process_time(), time.perf_counter()
    result = function(*args)
    return result, time.process_time() - cpu, time.perf_counter() - wall


def extraction(path: Path, n: int, extractor, thresholds) -> int:
    count = 0
    for text, created_at in raw_posts(path, n):
        decide(event_rows("p", extractor.extract(text, posted_date(created_at))), thresholds)
        count += 1
    return count


def profile_steps(raw: Path, output: Path, settings) -> dict[str, float]:
    profiler = cProfile.Profile()
    profiler.enable()
    preprocess([raw], output, settings)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    total = sum(tottime for _, _, tottime, _, _ in stats.values())
    shares: dict[str, float] = {}
    for step, names in STEPS.items():
        # a function called from another of the same name (recursion) counts once: max, not sum
        cumulative = sum(max((v[3] for k, v in stats.items() if k[2] == name), default=0.0) for name in names)
        shares[step] = round(cumulative / total, 3)
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--posts", type=int, required=True)
    parser.add_argument("--profile-posts", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="copy the posts table written here (to compare two versions)")
    args = parser.parse_args()
    config = yaml.safe_load(Path("config/config.yaml").read_text(encoding="utf-8"))
    settings = settings_from_config(config)
    with tempfile.TemporaryDirectory(prefix="bench_preprocess_") as folder:
        raw = head(args.input, args.posts, Path(folder))
        rss_before = max_rss_mb()
        summary, pre_cpu, pre_wall = timed(preprocess, [raw], Path(folder) / "posts.parquet", settings)
        rss_preprocess = max_rss_mb()
        if args.keep:
            shutil.copyfile(Path(folder) / "posts.parquet", args.keep)
        extractor = extractor_from_config(config, lexicon_from_config(config))
        thresholds = thresholds_from_config(config)
        n, ext_cpu, ext_wall = timed(extraction, raw, args.posts, extractor, thresholds)
        result = {
            "posts": summary.posts,
            "exact_duplicates": summary.exact_duplicates,
            "near_duplicates": summary.near_duplicates,
            "quotes_linked": summary.quotes_linked,
            "languages": dict(summary.languages.most_common()),
            "preprocess_cpu_s": round(pre_cpu, 1),
            "preprocess_wall_s": round(pre_wall, 1),
            "preprocess_posts_per_cpu_s": round(summary.posts / pre_cpu),
            "extract_posts": n,
            "extract_cpu_s": round(ext_cpu, 1),
            "extract_wall_s": round(ext_wall, 1),
            "extract_posts_per_cpu_s": round(n / ext_cpu),
            "ratio_preprocess_over_extract": round((summary.posts / pre_cpu) / (n / ext_cpu), 2),
            "max_rss_mb_before": rss_before,
            "max_rss_mb_after_preprocess": rss_preprocess,
            "max_rss_mb_end": max_rss_mb(),
        }
        if args.profile_posts:
            small = head(args.input, args.profile_posts, Path(folder))
            result["profile_posts"] = args.profile_posts
            result["profile_shares"] = profile_steps(small, Path(folder) / "profiled.parquet", settings)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
