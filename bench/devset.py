"""The rule system on the development set of realistic posts (resources/devset/), label by label.

    python bench/devset.py [--errors] [--folder FOLDER]

The posts were written for issue 12 by helpers who had read the protocol but not the
code, in three styles (a phone-typed forum, long narrative testimonies, social media),
each with its expected labels and a one-line reason. Prints precision, recall and F1 per
label (and per part), then, with --errors, each misclassified post with its reason and
the rule system's evidence.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from perivigil.config import load_config
from perivigil.extract.pipeline import event_rows, posted_date
from perivigil.extract.run import extractor_from_config, lexicon_from_config
from perivigil.models import LABELS
from perivigil.models.rules import decide, describe, thresholds_from_config

ROOT = Path(__file__).resolve().parents[1]


def load_devset(folder: Path = ROOT / "resources/devset") -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("part_*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def scores(rows: list[tuple[int, int]]) -> tuple[int, int, int, float, float, float]:
    tp = sum(1 for truth, pred in rows if truth and pred)
    fp = sum(1 for truth, pred in rows if pred and not truth)
    fn = sum(1 for truth, pred in rows if truth and not pred)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return tp, fp, fn, precision, recall, f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--errors", action="store_true", help="list the misclassified posts")
    parser.add_argument(
        "--folder",
        type=Path,
        default=ROOT / "resources/devset",
        help="a folder of part_*.jsonl files (default: resources/devset)",
    )
    args = parser.parse_args()
    folder = args.folder.resolve()
    config = load_config(ROOT / "config/config.yaml", ROOT / "workflow/schemas/config.schema.yaml", check_files=False)
    import os

    os.chdir(ROOT)
    extractor = extractor_from_config(config, lexicon_from_config(config))
    thresholds = thresholds_from_config(config)
    posts = load_devset(folder)
    events = [event_rows(p["post_id"], extractor.extract(p["text"], posted_date(p.get("created_at")))) for p in posts]
    decisions = [decide(rows, thresholds) for rows in events]
    print(f"{len(posts)} posts")
    print("| part | label | positives | TP | FP | FN | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for part in ["all", *sorted({p["post_id"].split("-")[1] for p in posts})]:
        chosen = [(p, d) for p, d in zip(posts, decisions) if part == "all" or p["post_id"].split("-")[1] == part]
        for label in LABELS:
            tp, fp, fn, precision, recall, f1 = scores([(p[label], getattr(d, label)) for p, d in chosen])
            print(
                f"| {part} | {label} | {sum(p[label] for p, _ in chosen)} | {tp} | {fp} | {fn} | "
                f"{precision:.3f} | {recall:.3f} | {f1:.3f} |"
            )
    from collections import Counter

    from perivigil.extract.vocabulary import is_ordinary

    read = Counter(r.evidence.lower() for rows in events for r in rows if r.drug_class != "other")
    ordinary = sorted(word for word in read if is_ordinary(word))
    print(
        f"\n{len(read)} distinct words read as a drug of interest; ordinary French words among them "
        f"(wordfreq, each a drug name to check by eye): {', '.join(ordinary) or 'none'}"
    )
    if args.errors:
        for post, decision, rows in zip(posts, decisions, events):
            for label in LABELS:
                if post[label] != getattr(decision, label):
                    seen = "\n    ".join(
                        f"{describe(r)} [{r.status}, {r.person}, pregnant={r.person_pregnant}, "
                        f"{r.timing}, t1={r.first_trimester}]"
                        for r in rows
                        if r.drug_class != "other"
                    )
                    print(
                        f"\n{post['post_id']} {label}: expected {post[label]}, got {getattr(decision, label)} — "
                        f"{post['reason']}\n  {post['text'][:500]!r}\n    {seen}"
                    )


if __name__ == "__main__":
    main()
