"""Benchmark: bootstrap CIs of 5 metrics, 10,000 resamples, 2,000 test posts (issue 6).

    python bench/bootstrap.py

Three ways, in the same run, each post its own cluster (so that all three compute the
same interval): ours (multinomial weights × confusion counts, BCa), scipy.stats.bootstrap
(BCa, one call per metric, vectorised statistic), and a plain loop calling scikit-learn's
metric functions on each resample (timed on 500 resamples and scaled to 10,000).
"""

from __future__ import annotations

import json
import time

import numpy as np
from scipy.stats import bootstrap
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from perivigil.evaluation import metric_intervals, metrics_from_counts


def main() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    truth = rng.random(n) < 0.2
    prediction = np.where(rng.random(n) < 0.9, truth, ~truth)
    clusters = np.arange(n)
    start = time.perf_counter()
    ours = metric_intervals(truth, prediction, clusters, n_boot=10_000, seed=1)
    ours_s = time.perf_counter() - start

    def statistic(name):
        def compute(t, p, axis=-1):
            t, p = t.astype(bool), p.astype(bool)
            counts = np.stack([(t & p).sum(axis), (~t & p).sum(axis), (t & ~p).sum(axis), (~t & ~p).sum(axis)], -1)
            return metrics_from_counts(counts.astype(float))[name]

        return compute

    start = time.perf_counter()
    scipy_intervals = {
        name: bootstrap(
            (truth, prediction),
            statistic(name),
            paired=True,
            vectorized=True,
            n_resamples=10_000,
            method="BCa",
            random_state=1,
        ).confidence_interval
        for name in ("precision", "recall", "f1", "specificity", "accuracy")
    }
    scipy_s = time.perf_counter() - start

    start = time.perf_counter()
    for _ in range(500):
        index = rng.integers(0, n, n)
        t, p = truth[index], prediction[index]
        precision_score(t, p, zero_division=0), recall_score(t, p), f1_score(t, p), accuracy_score(t, p)
        recall_score(~t, ~p)  # specificity
    loop_s = (time.perf_counter() - start) * 20
    print(
        json.dumps(
            {
                "posts": n,
                "resamples": 10_000,
                "metrics": 5,
                "ours_s": round(ours_s, 3),
                "scipy_bca_s": round(scipy_s, 3),
                "sklearn_loop_s_scaled": round(loop_s, 1),
                "speedup_vs_scipy": round(scipy_s / ours_s, 1),
                "speedup_vs_sklearn_loop": round(loop_s / ours_s),
                "f1_ours": [round(ours["f1"].low, 4), round(ours["f1"].high, 4)],
                "f1_scipy": [round(float(scipy_intervals["f1"].low), 4), round(float(scipy_intervals["f1"].high), 4)],
            }
        )
    )


if __name__ == "__main__":
    main()
