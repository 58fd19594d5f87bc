"""Benchmark: exposure events + rule decisions in one process, streaming a JSONL corpus.

    python bench/extract.py --input CORPUS.jsonl --posts N [--edsnlp-posts M]

Prints one JSON line: posts/s (reading and parsing the JSONL included), peak memory
(max RSS), and, on the first M posts of the same run, the speed of a plain edsnlp
pipeline with the same components (sentences, drugs, negation, hypothesis, family,
history), single process, and the ratio between the two.
Make the corpus with: perivigil demo-forum --jsonl CORPUS.jsonl --posts 1000000
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import time
from pathlib import Path

import yaml

from perivigil.extract.pipeline import event_rows, posted_date
from perivigil.extract.run import extractor_from_config, lexicon_from_config
from perivigil.models.rules import decide, thresholds_from_config


def posts(path: Path, n: int):
    with path.open(encoding="utf-8") as handle:
        for line in itertools.islice(handle, n):
            post = json.loads(line)
            yield post["text"], post.get("created_at")


def texts(path: Path, n: int):
    return (text for text, _ in posts(path, n))


def ours(path: Path, n: int, extractor, thresholds) -> tuple[int, float, int]:
    start = time.perf_counter()
    count = positives = 0
    for text, created_at in posts(path, n):
        decision = decide(event_rows("p", extractor.extract(text, posted_date(created_at))), thresholds)
        positives += decision.iso_t1 + decision.nsaid_late
        count += 1
    return count, time.perf_counter() - start, positives


def edsnlp_pipeline(path: Path, n: int) -> tuple[int, float, int]:
    import edsnlp
    import edsnlp.pipes as eds

    nlp = edsnlp.blank("eds")
    nlp.add_pipe(eds.normalizer())
    nlp.add_pipe(eds.sentences())
    nlp.add_pipe(eds.drugs(term_matcher="exact"))
    nlp.add_pipe(eds.negation())
    nlp.add_pipe(eds.hypothesis())
    nlp.add_pipe(eds.family())
    nlp.add_pipe(eds.history())
    batch = list(texts(path, n))
    start = time.perf_counter()
    spans = sum(len(doc.spans.get("drug", [])) for doc in nlp.pipe(batch))
    return len(batch), time.perf_counter() - start, spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--posts", type=int, required=True)
    parser.add_argument("--edsnlp-posts", type=int, default=0)
    args = parser.parse_args()
    config = yaml.safe_load(Path("config/config.yaml").read_text(encoding="utf-8"))
    extractor = extractor_from_config(config, lexicon_from_config(config))
    thresholds = thresholds_from_config(config)
    n, seconds, positives = ours(args.input, args.posts, extractor, thresholds)
    result = {
        "posts": n,
        "seconds": round(seconds, 1),
        "posts_per_s": round(n / seconds),
        "positive_labels": positives,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if args.edsnlp_posts:
        m, ours_s, _ = ours(args.input, args.edsnlp_posts, extractor, thresholds)
        m2, eds_s, drug_spans = edsnlp_pipeline(args.input, args.edsnlp_posts)
        result.update(
            {
                "compare_posts": m,
                "ours_posts_per_s": round(m / ours_s),
                "edsnlp_posts_per_s": round(m2 / eds_s),
                "edsnlp_drug_spans": drug_spans,
                "speed_ratio_ours_over_edsnlp": round((m / ours_s) / (m2 / eds_s), 1),
            }
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
