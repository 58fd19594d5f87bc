"""Evaluation statistics: metrics with cluster-bootstrap CIs, paired comparisons, corrected prevalence.

- Metrics per label (precision, recall, F1, specificity) from confusion counts, so that
  a bootstrap replicate costs a matrix product: posts are grouped by thread (cluster), a
  replicate draws threads with replacement and sums their counts. Resampling threads, not posts, keeps the dependence of posts of one thread
  (study protocol §6).
- 95 % intervals are BCa (Efron 1987) with a cluster jackknife for the acceleration;
  when BCa is degenerate (a constant or undefined statistic, an infinite bias
  correction) the percentile interval is used and the reason is returned.
- Paired comparisons of two models on the same posts: a paired cluster bootstrap of the
  F1 difference, and McNemar's exact test (statsmodels).
- Prevalence corrected for the classifier's sensitivity and specificity (Rogan & Gladen
  1978), clipped to [0, 1].
- Design-based estimates (issue 15): the annotation sample is drawn with unequal
  probabilities (:mod:`perivigil.annotation.sampling`), so each test post carries the weight
  1 / inclusion probability; weighted confusion counts estimate the corpus's (Horvitz &
  Thompson 1952; verification bias: Begg & Greenes 1983). Their intervals come from the
  Rao–Wu rescaling bootstrap (Rao & Wu 1988; Rao, Wu & Yue 1992): within each design
  stratum, n_h − 1 of its n_h clusters (threads) are drawn with replacement and the weights
  rescaled by n_h / (n_h − 1) × times drawn; strata with one cluster are collapsed
  (Wolter 2007, §2.5).
- At the edges (0 or 1 errors: every replicate equal, a zero-width interval), the interval
  is Clopper–Pearson on the posts of the metric's denominator, or on their Kish effective
  size for design-weighted figures (Korn & Graubard 1998), and ``ci_note`` says so.

We write the bootstrap ourselves because ``scipy.stats.bootstrap`` resamples
observations, not clusters, and recomputes the statistic per replicate in Python.

References
----------
Efron B. (1987) Better bootstrap confidence intervals. JASA 82(397):171-185.
Rogan W.J., Gladen B. (1978) Estimating prevalence from the results of a screening
test. Am J Epidemiol 107(1):71-76.
Field C.A., Welsh A.H. (2007) Bootstrapping clustered data. JRSS B 69(3):369-390.
Begg C.B., Greenes R.A. (1983) Assessment of diagnostic tests when disease verification is
subject to selection bias. Biometrics 39(1):207-215.
Rao J.N.K., Wu C.F.J. (1988) Resampling inference with complex survey data. JASA 83:231-241.
Korn E.L., Graubard B.I. (1998) Confidence intervals for proportions with small expected
numbers of positive counts estimated from survey data. Survey Methodology 24(2):193-201.
Kish L. (1965) Survey Sampling. Wiley (effective sample size, §8.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

METRICS = ("precision", "recall", "f1", "specificity", "npv", "accuracy", "prevalence", "apparent_prevalence")
# The posts each metric is a proportion of (masks over tp, fp, fn, tn), for the edge intervals.
DENOMINATORS = {
    "precision": (1, 1, 0, 0),
    "recall": (1, 0, 1, 0),
    "f1": (1, 1, 1, 0),
    "specificity": (0, 1, 0, 1),
    "npv": (0, 0, 1, 1),
    "accuracy": (1, 1, 1, 1),
    "prevalence": (1, 1, 1, 1),
    "apparent_prevalence": (1, 1, 1, 1),
}


def cluster_counts(
    y_true: np.ndarray, y_pred: np.ndarray, clusters: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Clusters × (tp, fp, fn, tn): confusion counts of each cluster (sums of ``weights`` when given)."""
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    _, index = np.unique(np.asarray(clusters), return_inverse=True)
    kinds = np.stack([y_true & y_pred, ~y_true & y_pred, y_true & ~y_pred, ~y_true & ~y_pred], axis=1)
    kinds = kinds.astype(float) * (1.0 if weights is None else np.asarray(weights, float)[:, None])
    out = np.zeros((index.max() + 1, 4))
    np.add.at(out, index, kinds)
    return out


def metrics_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric from (..., 4) counts (tp, fp, fn, tn); NaN where undefined (0/0)."""
    tp, fp, fn, tn = (counts[..., i] for i in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "precision": tp / (tp + fp),
            "recall": tp / (tp + fn),
            "f1": 2 * tp / (2 * tp + fp + fn),
            "specificity": tn / (tn + fp),
            "npv": tn / (tn + fn),
            "accuracy": (tp + tn) / (tp + fp + fn + tn),
            "prevalence": (tp + fn) / (tp + fp + fn + tn),
            "apparent_prevalence": (tp + fp) / (tp + fp + fn + tn),
        }


def resampled_sums(
    matrices: list[np.ndarray], n_boot: int, rng: np.random.Generator, chunk: int = 1000
) -> list[np.ndarray]:
    """For each (clusters × k) matrix, n_boot × k sums over clusters drawn with replacement.

    The same draws serve every matrix (a paired bootstrap). Draw counts per replicate come
    from one ``bincount`` per chunk of replicates (six times faster than ``multinomial``).
    """
    n_clusters = matrices[0].shape[0]
    out = [np.empty((n_boot, m.shape[1])) for m in matrices]
    for start in range(0, n_boot, chunk):
        rows = min(chunk, n_boot - start)
        draws = rng.integers(0, n_clusters, size=(rows, n_clusters))
        flat = (draws + np.arange(rows)[:, None] * n_clusters).ravel()
        weights = np.bincount(flat, minlength=rows * n_clusters).reshape(rows, n_clusters).astype(np.float64)
        for target, matrix in zip(out, matrices):
            target[start : start + rows] = weights @ matrix
    return out


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    method: str  # "bca", "percentile", "rao_wu_percentile", "clopper_pearson", "clopper_pearson_kish" or "none"
    reason: str = ""


def bca_interval(estimate: float, replicates: np.ndarray, jackknife: np.ndarray, level: float = 0.95) -> Interval:
    """BCa interval; the percentile interval (with the reason) when BCa is degenerate."""
    replicates = replicates[np.isfinite(replicates)]
    alpha = (1 - level) / 2
    if not np.isfinite(estimate) or len(replicates) == 0:
        return Interval(float(estimate), float("nan"), float("nan"), "none", "statistic undefined on these data")
    low, high = np.quantile(replicates, [alpha, 1 - alpha])
    if np.all(replicates == replicates[0]):
        return Interval(estimate, float(low), float(high), "percentile", "all replicates equal: BCa undefined")
    below = np.mean(replicates < estimate) + 0.5 * np.mean(replicates == estimate)
    if below <= 0 or below >= 1:
        return Interval(estimate, float(low), float(high), "percentile", "bias correction infinite: BCa undefined")
    z0 = norm.ppf(below)
    jack = jackknife[np.isfinite(jackknife)]
    spread = jack.mean() - jack
    denominator = 6 * (np.sum(spread**2) ** 1.5)
    if denominator == 0:
        return Interval(estimate, float(low), float(high), "percentile", "jackknife constant: BCa undefined")
    acceleration = np.sum(spread**3) / denominator
    quantiles = []
    for z in (norm.ppf(alpha), norm.ppf(1 - alpha)):
        quantiles.append(norm.cdf(z0 + (z0 + z) / (1 - acceleration * (z0 + z))))
    bca_low, bca_high = np.quantile(replicates, quantiles)
    return Interval(estimate, float(bca_low), float(bca_high), "bca")


def clopper_pearson(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval (Clopper & Pearson 1934); ``n`` may be an effective, non-integer size."""
    from scipy.stats import beta

    if n <= 0:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    low = 0.0 if successes <= 0 else float(beta.ppf(alpha, successes, n - successes + 1))
    high = 1.0 if successes >= n else float(beta.ppf(1 - alpha, successes + 1, n - successes))
    return low, high


def kish_effective_n(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² (equals n for equal weights)."""
    weights = np.asarray(weights, float)
    return float(weights.sum() ** 2 / np.sum(weights**2)) if len(weights) and np.any(weights) else 0.0


def edge_interval(interval: Interval, n: float, level: float, design: bool) -> Interval:
    """A zero-width interval replaced by Clopper–Pearson on ``n`` posts (Kish effective size for a design)."""
    if not np.isfinite(interval.estimate) or interval.high > interval.low:
        return interval
    low, high = clopper_pearson(interval.estimate * n, n, level)
    size = f"Kish effective n = {n:.1f}" if design else f"n = {n:g}"
    return Interval(
        interval.estimate,
        low,
        high,
        "clopper_pearson_kish" if design else "clopper_pearson",
        f"bootstrap interval of zero width ({interval.reason or 'replicates equal'}): "
        f"Clopper-Pearson on {size} posts of the denominator",
    )


def denominator_sizes(y_true, y_pred, weights: np.ndarray | None = None) -> dict[str, float]:
    """Per metric, the posts of its denominator: their number, or their Kish effective size when weighted."""
    single = np.eye(4, dtype=bool)[cluster_counts(y_true, y_pred, np.arange(len(np.asarray(y_true)))).argmax(1)]
    out = {}
    for name, mask in DENOMINATORS.items():
        chosen = single[:, np.array(mask, bool)].any(axis=1)
        out[name] = float(chosen.sum()) if weights is None else kish_effective_n(np.asarray(weights, float)[chosen])
    return out


def metric_intervals(y_true, y_pred, clusters, n_boot: int, seed: int, level: float = 0.95) -> dict[str, Interval]:
    """Every metric with its cluster-bootstrap BCa interval (Clopper–Pearson where it would have zero width)."""
    counts = cluster_counts(y_true, y_pred, clusters)
    total = counts.sum(axis=0)
    (sums,) = resampled_sums([counts], n_boot, np.random.default_rng(seed))
    replicates = metrics_from_counts(sums)
    jackknife = metrics_from_counts(total[None, :] - counts)
    estimates = metrics_from_counts(total)
    sizes = denominator_sizes(y_true, y_pred)
    return {
        name: edge_interval(
            bca_interval(float(estimates[name]), replicates[name], jackknife[name], level),
            sizes[name],
            level,
            design=False,
        )
        for name in METRICS
    }


COLLAPSED = "collapsed strata"


def bootstrap_strata(strata: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Units (a thread's posts within one design stratum) of each post, and the bootstrap stratum of each unit.

    A stratum with a single unit among these posts gives no variance: such strata are
    collapsed into one (Wolter 2007, §2.5); a lone collapsed unit joins the largest stratum.
    """
    strata, clusters = np.asarray(strata, str), np.asarray(clusters, str)
    keys = np.char.add(np.char.add(strata, "\x1f"), clusters)
    unit_keys, unit_of_post = np.unique(keys, return_inverse=True)
    unit_stratum = np.array([key.split("\x1f", 1)[0] for key in unit_keys], dtype=object)
    names, sizes = np.unique(unit_stratum, return_counts=True)
    lonely = set(names[sizes < 2])
    unit_stratum = np.array([COLLAPSED if s in lonely else s for s in unit_stratum], dtype=object)
    if np.sum(unit_stratum == COLLAPSED) == 1 and len(set(unit_stratum)) > 1:
        names, sizes = np.unique(unit_stratum[unit_stratum != COLLAPSED], return_counts=True)
        unit_stratum[unit_stratum == COLLAPSED] = names[np.argmax(sizes)]
    _, stratum_index = np.unique(unit_stratum.astype(str), return_inverse=True)
    return unit_of_post, stratum_index


def rao_wu_multipliers(unit_stratum: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """n_boot × units weight multipliers of the Rao–Wu rescaling bootstrap (m_h = n_h − 1).

    In stratum h with n_h units, n_h − 1 units are drawn with replacement; a unit drawn k
    times gets multiplier k · n_h / (n_h − 1); a stratum of one unit keeps multiplier 1.
    """
    out = np.ones((n_boot, len(unit_stratum)))
    for h in np.unique(unit_stratum):
        members = np.flatnonzero(unit_stratum == h)
        size = len(members)
        if size < 2:
            continue
        draws = rng.integers(0, size, size=(n_boot, size - 1))
        times = np.zeros((n_boot, size))
        np.add.at(times, (np.repeat(np.arange(n_boot), size - 1), draws.ravel()), 1.0)
        out[:, members] = times * size / (size - 1)
    return out


def design_replicate_counts(
    unit_counts: np.ndarray, unit_stratum: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """n_boot × 4 weighted (tp, fp, fn, tn) totals under the Rao–Wu bootstrap."""
    return rao_wu_multipliers(unit_stratum, n_boot, rng) @ unit_counts


def design_metric_intervals(
    y_true, y_pred, weights, strata, clusters, n_boot: int, seed: int, level: float = 0.95
) -> dict[str, Interval]:
    """Every metric weighted by the design (1 / inclusion probability), with its Rao–Wu percentile interval."""
    weights = np.asarray(weights, float)
    unit_of_post, unit_stratum = bootstrap_strata(strata, clusters)
    counts = cluster_counts(y_true, y_pred, unit_of_post, weights)
    estimates = metrics_from_counts(counts.sum(axis=0))
    replicates = metrics_from_counts(design_replicate_counts(counts, unit_stratum, n_boot, np.random.default_rng(seed)))
    sizes = denominator_sizes(y_true, y_pred, weights)
    alpha = (1 - level) / 2
    out = {}
    for name in METRICS:
        values = replicates[name][np.isfinite(replicates[name])]
        estimate = float(estimates[name])
        if not np.isfinite(estimate) or len(values) == 0:
            out[name] = Interval(estimate, float("nan"), float("nan"), "none", "statistic undefined on these data")
            continue
        variance = float(np.var(values, ddof=1)) if len(values) > 1 else 0.0
        if name != "f1" and 0 < estimate < 1 and variance > 0:
            effective = min(estimate * (1 - estimate) / variance, sizes[name])
            low, high = clopper_pearson(estimate * effective, effective, level)
            out[name] = Interval(
                estimate,
                low,
                high,
                "korn_graubard",
                f"Clopper-Pearson on the design effective n = {effective:.1f} (Rao-Wu bootstrap variance)",
            )
            continue
        low, high = np.quantile(values, [alpha, 1 - alpha])
        interval = Interval(estimate, float(low), float(high), "rao_wu_percentile")
        out[name] = edge_interval(interval, sizes[name], level, design=True)
    return out


def design_auprc_interval(
    y_true, scores, weights, strata, clusters, n_boot: int, seed: int, level: float = 0.95
) -> Interval:
    """Average precision weighted by the design (1 / inclusion probability), with a Rao–Wu percentile interval.

    Each replicate multiplies the weights of a unit's posts by its Rao–Wu multiplier (threads drawn
    within strata, as for the other design metrics); a replicate left with one class is skipped.
    """
    from sklearn.metrics import average_precision_score

    y_true, scores, weights = np.asarray(y_true, int), np.asarray(scores, float), np.asarray(weights, float)
    if y_true.min() == y_true.max():
        return Interval(float("nan"), float("nan"), float("nan"), "none", "one class only in the test split")
    estimate = float(average_precision_score(y_true, scores, sample_weight=weights))
    unit_of_post, unit_stratum = bootstrap_strata(strata, clusters)
    multipliers = rao_wu_multipliers(unit_stratum, n_boot, np.random.default_rng(seed))
    replicates = []
    for row in multipliers:
        replicate_weights = weights * row[unit_of_post]
        kept = y_true[replicate_weights > 0]
        if kept.min() == kept.max():
            continue
        replicates.append(average_precision_score(y_true, scores, sample_weight=replicate_weights))
    if not replicates:
        return Interval(estimate, float("nan"), float("nan"), "none", "every replicate had one class only")
    alpha = (1 - level) / 2
    low, high = np.quantile(replicates, [alpha, 1 - alpha])
    interval = Interval(
        estimate,
        float(low),
        float(high),
        "rao_wu_percentile",
        "AUPRC weighted by the design: Rao-Wu percentile interval",
    )
    if interval.low == interval.high:
        return Interval(
            estimate,
            interval.low,
            interval.high,
            "rao_wu_percentile",
            "AUPRC weighted by the design: every replicate equal (a perfect ranking), "
            "no interval for a ranking statistic",
        )
    return interval


def paired_f1_difference(y_true, pred_a, pred_b, clusters, n_boot: int, seed: int) -> Interval:
    """F1(a) − F1(b) on the same posts, with a paired cluster-bootstrap BCa interval."""
    counts_a = cluster_counts(y_true, pred_a, clusters)
    counts_b = cluster_counts(y_true, pred_b, clusters)
    sums_a, sums_b = resampled_sums([counts_a, counts_b], n_boot, np.random.default_rng(seed))
    f1 = lambda c: metrics_from_counts(c)["f1"]  # noqa: E731
    replicates = f1(sums_a) - f1(sums_b)
    jackknife = f1(counts_a.sum(0)[None, :] - counts_a) - f1(counts_b.sum(0)[None, :] - counts_b)
    estimate = float(f1(counts_a.sum(0)) - f1(counts_b.sum(0)))
    return bca_interval(estimate, replicates, jackknife)


def mcnemar_exact(y_true, pred_a, pred_b) -> tuple[np.ndarray, float]:
    """McNemar's exact test of two models on the same posts: the 2×2 table (a right/wrong × b) and p."""
    from statsmodels.stats.contingency_tables import mcnemar

    right_a = np.asarray(pred_a) == np.asarray(y_true)
    right_b = np.asarray(pred_b) == np.asarray(y_true)
    table = np.array(
        [
            [np.sum(right_a & right_b), np.sum(right_a & ~right_b)],
            [np.sum(~right_a & right_b), np.sum(~right_a & ~right_b)],
        ]
    )
    return table, float(mcnemar(table, exact=True).pvalue)


def rogan_gladen(positives: float, n: float, sensitivity: float, specificity: float) -> float:
    """True prevalence from an apparent one: (p + Sp − 1) / (Se + Sp − 1), clipped to [0, 1]."""
    denominator = sensitivity + specificity - 1
    if denominator <= 0:
        return float("nan")
    return float(np.clip((positives / n + specificity - 1) / denominator, 0.0, 1.0))


def auprc_interval(y_true, scores, clusters, n_boot: int, seed: int) -> Interval:
    """Area under the precision-recall curve (average precision), percentile cluster-bootstrap interval.

    Each replicate weights posts by how often their thread is drawn (``sample_weight``), so
    clusters are resampled as for the other metrics.
    """
    from sklearn.metrics import average_precision_score

    y_true, scores = np.asarray(y_true, int), np.asarray(scores, float)
    if y_true.min() == y_true.max():
        return Interval(float("nan"), float("nan"), float("nan"), "none", "one class only in the test split")
    estimate = float(average_precision_score(y_true, scores))
    _, index = np.unique(np.asarray(clusters), return_inverse=True)
    rng = np.random.default_rng(seed)
    n_clusters = index.max() + 1
    replicates = []
    for _ in range(n_boot):
        weights = np.bincount(rng.integers(0, n_clusters, n_clusters), minlength=n_clusters)[index]
        if y_true[weights > 0].min() == y_true[weights > 0].max():
            continue
        replicates.append(average_precision_score(y_true, scores, sample_weight=weights))
    low, high = np.quantile(replicates, [0.025, 0.975])
    return Interval(
        estimate,
        float(low),
        float(high),
        "percentile",
        "AUPRC: percentile interval (BCa needs a jackknife per cluster)",
    )
