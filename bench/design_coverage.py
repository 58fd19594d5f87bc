"""Coverage of the design-based (Rao-Wu) intervals of Se and Sp under a stratified sampling design.

Run: PYTHONPATH=src python bench/design_coverage.py  (result in docs/benchmarks.md)
"""

from __future__ import annotations

import sys

import numpy as np

from perivigil.evaluation import design_metric_intervals, metric_intervals


def coverage(prevalence_n: float, per_stratum: int, studies: int = 300, seed: int = 15) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    stratum = np.repeat(["A", "B", "N"], [1000, 2000, 20000])
    prevalence = np.select([stratum == "A", stratum == "B"], [0.4, 0.2], prevalence_n)
    se = np.select([stratum == "A", stratum == "B"], [0.9, 0.7], 0.2)
    truth = rng.random(len(stratum)) < prevalence
    pred = np.where(truth, rng.random(len(stratum)) < se, rng.random(len(stratum)) < 0.03)
    true = {"recall": pred[truth].mean(), "specificity": 1 - pred[~truth].mean(), "precision": truth[pred].mean()}
    threads = np.arange(len(stratum)) // 2
    sizes = {h: np.sum(stratum == h) for h in "ABN"}
    hits = {f"{w} {k}": 0 for w in ("design", "sample") for k in true}
    for study in range(studies):
        chosen = np.concatenate([rng.choice(np.flatnonzero(stratum == h), per_stratum, replace=False) for h in "ABN"])
        weights = np.array([sizes[h] / per_stratum for h in stratum[chosen]])
        design = design_metric_intervals(
            truth[chosen], pred[chosen], weights, stratum[chosen], threads[chosen], n_boot=400, seed=study
        )
        sample = metric_intervals(truth[chosen], pred[chosen], threads[chosen], n_boot=400, seed=study)
        for k, value in true.items():
            hits[f"design {k}"] += design[k].low <= value <= design[k].high
            hits[f"sample {k}"] += sample[k].low <= value <= sample[k].high
    return {k: v / studies for k, v in hits.items()}


if __name__ == "__main__":
    for prevalence_n, per_stratum in ((0.01, 60), (0.05, 60), (0.05, 150)):
        result = coverage(prevalence_n, per_stratum)
        print(
            f"non-candidate prevalence {prevalence_n}, {per_stratum} posts per stratum: "
            + ", ".join(f"{k} {v:.3f}" for k, v in result.items()),
            flush=True,
        )
    sys.exit(0)
