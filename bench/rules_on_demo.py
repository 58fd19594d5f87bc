"""The rule system against the demo forum's truth (development data, not an evaluation).

    python bench/rules_on_demo.py          # after `make study`

Reads the study's decisions (results/corpus/decisions.parquet, rule ``decide``: the
rule system run once over the corpus) and resources/demo_forum/truth.csv, and prints, per
label, true and false positives and negatives, precision and recall, then the seed posts
behind the errors. The demo posts were read while writing the rules: these numbers show
that the rules do what they were written for on noisy variants of those posts, not how
well they generalise (that is the annotated test split's job).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from perivigil.models.rules import labels_from_decisions


def main() -> None:
    decided = labels_from_decisions(pd.read_parquet(Path("results/corpus/decisions.parquet")))
    decided = decided.rename(columns={"iso_t1": "pred_iso_t1", "nsaid_late": "pred_nsaid_late"})
    truth = pd.read_csv("resources/demo_forum/truth.csv", dtype={"post_id": str})
    truth["post_id"] = "demo_forum-" + truth["post_id"]
    frame = decided.merge(truth, on="post_id", validate="one_to_one")
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
