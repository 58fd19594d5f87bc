"""Benchmark: filtering a Reddit monthly dump (RC_YYYY-MM.zst) by subreddit, beside `zstd -dc | wc -l`.

    python bench/reddit_dump.py [--mb 1024] [--french-share 0.01] [--dir DIR] [--keep]

Writes a synthetic comments dump as the real ones are written (NDJSON of Arctic Shift-like
comment objects, keys sorted, zstd with a 2 GiB window: window log 31, streamed, so no
content size), about 1 % of its items in French subreddits, then times, each in its own
process (so that its peak memory is its own):

- ``zstd -dc --long=31 DUMP | wc -l``: the floor (decompression alone, C, no parsing);
- ``collect_dump``: what the study runs (lines of other subreddits skipped unparsed);
- ``parse every line``: the naive reader (``stream_reader`` + ``TextIOWrapper`` +
  ``json.loads`` of every line), for the record.

Prints a Markdown table: lines/s, posts kept/s, MB/s of decompressed input (wall clock)
and per CPU-second (imports excluded; zstd's line counts ``wc`` too, on the other core),
peak RSS (the process's: Python and its imports included), and the time ratio to the zstd
floor. Peak RSS grows with the dump up to the 2 GiB window: a decoder of ``--long=31``
frames keeps the last 2 GiB of output. The ``zstd`` command must be on the PATH
(apt install zstd).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import zstandard

FRENCH = ("france", "besoindeparler", "conseiljuridique", "enceinte")
OTHERS = (
    "AskReddit",
    "politics",
    "nba",
    "gaming",
    "worldnews",
    "funny",
    "pics",
    "memes",
    "soccer",
    "NoStupidQuestions",
    "movies",
    "news",
    "todayilearned",
    "CryptoCurrency",
    "wallstreetbets",
    "relationship_advice",
    "AmItheAsshole",
    "unpopularopinion",
    "PublicFreakout",
    "formula1",
)
ENGLISH = (
    "the",
    "and",
    "that",
    "have",
    "for",
    "not",
    "with",
    "you",
    "this",
    "but",
    "his",
    "from",
    "they",
    "say",
    "her",
    "she",
    "will",
    "one",
    "all",
    "would",
    "there",
    "their",
    "what",
    "so",
    "up",
    "out",
    "if",
    "about",
    "who",
    "get",
    "which",
    "go",
    "me",
    "when",
    "make",
    "can",
    "like",
    "time",
    "just",
    "him",
    "know",
    "take",
    "people",
    "into",
    "year",
    "your",
    "good",
    "some",
    "could",
    "them",
    "lol",
)
FRENCH_WORDS = (
    "je",
    "suis",
    "enceinte",
    "de",
    "semaines",
    "et",
    "j'ai",
    "pris",
    "du",
    "doliprane",
    "ibuprofène",
    "à",
    "mois",
    "médecin",
    "sage-femme",
    "grossesse",
    "c'est",
    "pas",
    "très",
    "bébé",
    "aussi",
    "été",
    "déjà",
    "où",
    "cœur",
    "peut-être",
    "roaccutane",
    "après",
    "ça",
    "vraiment",
    "…",
)


def _text(rng: random.Random, words: tuple[str, ...]) -> str:
    n = min(int(rng.lognormvariate(3.3, 1.0)) + 1, 1500)
    text = " ".join(rng.choice(words) for _ in range(n))
    if rng.random() < 0.05:
        text += " 😂" if words is ENGLISH else " 🙏"
    return text


def comment(rng: random.Random, i: int, created: int, french_share: float) -> dict:
    """An Arctic Shift-like comment (about 1 KB of JSON, as in RC dumps)."""
    french = rng.random() < french_share
    subreddit = rng.choice(FRENCH if french else OTHERS)
    link = f"t3_{rng.randrange(36**6, 36**7):x}"
    item = {
        "_meta": {"retrieved_2nd_on": created + 129600},
        "all_awardings": [],
        "archived": False,
        "associated_award": None,
        "author": f"user_{rng.randrange(10**7)}",
        "author_flair_background_color": None,
        "author_flair_css_class": None,
        "author_flair_richtext": [],
        "author_flair_template_id": None,
        "author_flair_text": None,
        "author_flair_text_color": None,
        "author_flair_type": "text",
        "author_fullname": f"t2_{rng.randrange(36**7):x}",
        "author_patreon_flair": False,
        "author_premium": False,
        "body": _text(rng, FRENCH_WORDS if french else ENGLISH),
        "can_gild": True,
        "collapsed": False,
        "collapsed_because_crowd_control": None,
        "collapsed_reason": None,
        "collapsed_reason_code": None,
        "comment_type": None,
        "controversiality": 0,
        "created_utc": created,
        "distinguished": None,
        "downs": 0,
        "edited": False,
        "gilded": 0,
        "gildings": {},
        "id": f"k{i:x}",
        "is_submitter": False,
        "link_id": link,
        "locked": False,
        "name": f"t1_k{i:x}",
        "no_follow": True,
        "parent_id": link if rng.random() < 0.4 else f"t1_k{max(0, i - rng.randrange(1, 500)):x}",
        "permalink": f"/r/{subreddit}/comments/{link[3:]}/title/k{i:x}/",
        "retrieved_on": created + 30,
        "score": rng.randrange(-5, 200),
        "score_hidden": False,
        "send_replies": True,
        "stickied": False,
        "subreddit": subreddit,
        "subreddit_id": f"t5_{zlib.crc32(subreddit.encode()):x}",
        "subreddit_name_prefixed": f"r/{subreddit}",
        "subreddit_type": "public",
        "top_awarded_type": None,
        "total_awards_received": 0,
        "treatment_tags": [],
        "unrepliable_reason": None,
        "ups": 1,
    }
    return item


def write_dump(path: Path, megabytes: float, seed: int, french_share: float) -> tuple[int, int]:
    """Write about ``megabytes`` MB of NDJSON to ``path`` as a zstd dump; ``(lines, decompressed bytes)``."""
    rng = random.Random(seed)
    params = zstandard.ZstdCompressionParameters(window_log=31, compression_level=3, write_checksum=True, threads=1)
    target, written, lines, created = int(megabytes * 1e6), 0, 0, 1704067200
    with (
        path.open("wb") as handle,
        zstandard.ZstdCompressor(compression_params=params).stream_writer(handle, closefd=False) as writer,
    ):
        batch = io.StringIO()
        while written < target:
            for _ in range(2000):
                created += rng.randrange(0, 2)
                item = comment(rng, lines, created, french_share)
                batch.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
                batch.write("\n")
                lines += 1
            data = batch.getvalue().encode("utf-8")
            writer.write(data)
            written += len(data)
            batch = io.StringIO()
    return lines, written


# ----------------------------------------------------------------------------- measurements (child processes)
def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _result(start: float, cpu_start: float, who: int, lines: int, kept: int | None) -> dict:
    """The clock and CPU time since ``start`` / ``cpu_start`` (imports excluded), the process's peak RSS."""
    return {
        "seconds": time.perf_counter() - start,
        "cpu_s": _cpu(who) - cpu_start,
        "lines": lines,
        "kept": kept,
        "max_rss_mb": resource.getrusage(who).ru_maxrss / 1024,
    }


def run_zstd(dump: Path) -> dict:
    start, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        f"zstd -dc --long=31 '{dump}' | wc -l", shell=True, check=True, capture_output=True, text=True
    ).stdout
    return _result(start, cpu, resource.RUSAGE_CHILDREN, int(out.split()[0]), None)


def run_collect(dump: Path) -> dict:
    import perivigil.collect.run  # noqa: F401  (pandas, for the report: imported before the clock starts)
    from perivigil.collect.reddit import collect_dump

    output = dump.with_suffix(".jsonl")
    start, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    report = collect_dump(dump, output, source="reddit", subreddits=FRENCH)
    lines = sum(n for (level, _, _), n in report.counts.items() if level == "post")
    return _result(start, cpu, resource.RUSAGE_SELF, lines, report.get("post", "kept"))


def run_naive(dump: Path) -> dict:
    wanted = set(FRENCH)
    start, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    lines = kept = 0
    with dump.open("rb") as handle:
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(handle)
        for line in io.TextIOWrapper(reader, encoding="utf-8"):
            lines += 1
            kept += json.loads(line)["subreddit"].lower() in wanted
    return _result(start, cpu, resource.RUSAGE_SELF, lines, kept)


RUNS = {"zstd": run_zstd, "collect": run_collect, "naive": run_naive}
LABELS = {
    "zstd": "`zstd -dc --long=31 \\| wc -l`",
    "collect": "`collect_dump` (this connector)",
    "naive": "parse every line (`json.loads`)",
}


def measure(name: str, dump: Path) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", name, "--dir", str(dump.parent)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(results: dict[str, dict], decompressed_mb: float) -> str:
    floor = results["zstd"]["seconds"]
    rows = [
        "| reader | lines/s | posts kept/s | MB/s (wall) | MB per CPU-s | peak RSS (MB) | time / zstd |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        kept = f"{r['kept'] / r['seconds']:,.0f}" if r["kept"] is not None else "-"
        rows.append(
            f"| {LABELS[name]} | {r['lines'] / r['seconds']:,.0f} | {kept} | "
            f"{decompressed_mb / r['seconds']:,.0f} | {decompressed_mb / r['cpu_s']:,.0f} | "
            f"{r['max_rss_mb']:,.0f} | {r['seconds'] / floor:.1f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=1024, help="decompressed size of the dump, MB (default 1024)")
    parser.add_argument("--french-share", type=float, default=0.01, help="share of items in French subreddits")
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--dir", type=Path, help="where to write the dump (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the dump and the output")
    parser.add_argument("--skip-naive", action="store_true", help="do not time the parse-every-line reader")
    parser.add_argument("--child", choices=sorted(RUNS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(RUNS[args.child](args.dir / "RC_2024-01.zst")))
        return
    if shutil.which("zstd") is None:
        sys.exit("the zstd command is missing: apt install zstd")
    folder = args.dir or Path(tempfile.mkdtemp(prefix="reddit_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    dump = folder / "RC_2024-01.zst"
    try:
        start = time.perf_counter()
        lines, size = write_dump(dump, args.mb, args.seed, args.french_share)
        print(
            f"dump: {lines:,} lines, {size / 1e6:,.0f} MB of NDJSON, {dump.stat().st_size / 1e6:,.0f} MB "
            f"compressed (window log 31), written in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
        names = ["zstd", "collect"] + ([] if args.skip_naive else ["naive"])
        results = {name: measure(name, dump) for name in names}
        counts = {name: r["lines"] for name, r in results.items()}
        if len(set(counts.values())) != 1:
            sys.exit(f"the readers disagree on the number of lines: {counts}")
        print(
            f"{lines:,} lines, {size / 1e6:,.0f} MB decompressed, {results['collect']['kept']:,} posts kept "
            f"({args.french_share:.0%} in {len(FRENCH)} French subreddits); Python {sys.version.split()[0]}, "
            f"zstandard {zstandard.__version__}\n"
        )
        print(table(results, size / 1e6))
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
