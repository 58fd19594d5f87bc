"""The rule system against the demo forum's truth (development data, not an evaluation).

    python bench/rules_on_demo.py          # after `make study`

Reads results/corpus/posts.parquet and resources/demo_forum/truth.csv, and prints, per
label, true and false positives and negatives, precision and recall, then the seed posts
behind the errors. The demo posts were read while writing the rules: these numbers show
that the rules do what they were written for on noisy variants of those posts, not how
well they generalise (that is the annotated test split's job).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from perivigil.extract.run import extractor_from_config, lexicon_from_config, thresholds_from_config
from perivigil.models.rules import decide


def main() -> None:
    config = yaml.safe_load(Path("config/config.yaml").read_text(encoding="utf-8"))
    extractor = extractor_from_config(config, lexicon_from_config(config))
    thresholds = thresholds_from_config(config)
    posts = pd.read_parquet("results/corpus/posts.parquet", columns=["post_id", "text"])
    truth = pd.read_csv("resources/demo_forum/truth.csv", dtype={"post_id": str})
    truth["post_id"] = "demo_forum-" + truth["post_id"]
    frame = posts.merge(truth, on="post_id", validate="one_to_one")
    decisions = [decide(extractor.extract(text), thresholds) for text in frame["text"]]
    frame["pred_iso_t1"] = [d.iso_t1 for d in decisions]
    frame["pred_nsaid_late"] = [d.nsaid_late for d in decisions]
    print(f"{len(frame)} posts")
    print("| label | TP | FP | FN | TN | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    for label in ("iso_t1", "nsaid_late"):
        truth_, pred = frame[label], frame[f"pred_{label}"]
        tp, fp = int(((truth_ == 1) & (pred == 1)).sum()), int(((truth_ == 0) & (pred == 1)).sum())
        fn, tn = int(((truth_ == 1) & (pred == 0)).sum()), int(((truth_ == 0) & (pred == 0)).sum())
        print(f"| {label} | {tp} | {fp} | {fn} | {tn} | {tp / max(tp + fp, 1):.3f} | {tp / max(tp + fn, 1):.3f} |")
    errors = frame[(frame["iso_t1"] != frame["pred_iso_t1"]) | (frame["nsaid_late"] != frame["pred_nsaid_late"])]
    print("\nerrors by seed post:", errors["seed_id"].value_counts().to_dict())


if __name__ == "__main__":
    main()
