"""Inter-annotator agreement: Krippendorff's α with its bootstrap CI, Cohen's κ, Fleiss' κ, Gwet's AC1.

- **Krippendorff's α** (nominal, ordinal, interval, ratio; missing judgements allowed):
  the point value comes from the ``krippendorff`` package. Its 95 % CI comes from
  Krippendorff's own bootstrap (Krippendorff 2016, "Bootstrapping distributions for
  Krippendorff's alpha"; the algorithm of Hayes & Krippendorff's KALPHA macro): draw
  M = min(25·q, (m−1)·n../2) pairs of values from the coincidence matrix (q its non-zero
  cells, n.. the pairable values, m the most coders of a unit), α* = 1 − Σδ / (M·D_e),
  clipped at −1, with the correction for replicates made indeterminate by a lack of
  variation. The draws are vectorised (one multinomial per replicate). A bootstrap over
  units is offered too (config ``agreement.bootstrap``). The bootstrap also gives the
  probability that α falls below 0.667 and 0.800 (Krippendorff's reading thresholds).
- **Cohen's κ** for each pair of annotators on their common units, with the asymptotic
  standard error and 95 % CI (statsmodels ``cohens_kappa``).
- **Fleiss' κ** and **Gwet's AC1** in Gwet's formulation that admits missing ratings
  (as irrCAC's ``fleiss.kappa.raw`` and ``gwet.ac1.raw`` compute them), and **percent
  agreement** (the pairwise observed agreement they share).

Degenerate data never crash and never give a misleading 0 or NaN: a coefficient that
cannot be computed is ``None`` with a reason (one category only, a single annotator,
no unit with two judgements).

We compute the coincidence matrix and Fleiss/Gwet ourselves because no maintained
Python package computes Krippendorff's pair bootstrap or Gwet's missing-data
formulation; the point α stays the ``krippendorff`` package's.

References
----------
Krippendorff K. (2011) Computing Krippendorff's alpha-reliability. Annenberg School for
Communication Departmental Papers 43.
Hayes A.F., Krippendorff K. (2007) Answering the call for a standard reliability measure
for coding data. Communication Methods and Measures 1(1):77-89.
Fleiss J.L. (1971) Measuring nominal scale agreement among many raters. Psychological
Bulletin 76(5):378-382.
Gwet K.L. (2014) Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd

from perivigil.errors import InputError
from perivigil.files import read_delimited_frame

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
REQUIRED_COLUMNS = ("unit_id", "annotator", "label", "value")


@dataclass(frozen=True)
class Reliability:
    """Annotators × units matrix of value codes (NaN = missing), and the values the codes stand for."""

    matrix: np.ndarray
    values: tuple
    annotators: tuple[str, ...]
    units: tuple[str, ...]


def check_level(level: str) -> Level:
    """``level`` as a level of measurement of Krippendorff (2011), else an error naming the known ones."""
    for known in LEVELS:
        if level == known:
            return known
    raise InputError(f"unknown level {level!r}: expected one of {', '.join(LEVELS)}")


def reliability_data(long: pd.DataFrame, level: str) -> Reliability:
    """From long judgements (unit_id, annotator, value) of one label to the reliability matrix.

    Nominal values are coded by their sorted order; ordinal ones by rank; interval and ratio
    values must be numbers and are kept as they are.
    """
    check_level(level)
    duplicated = long.duplicated(["unit_id", "annotator"], keep=False)
    if duplicated.any():
        row = long[duplicated].iloc[0]
        raise InputError(f"unit {row.unit_id!r}: annotator {row.annotator!r} gives more than one judgement")
    values = long["value"]
    if level in ("interval", "ratio") or (level == "ordinal" and pd.to_numeric(values, errors="coerce").notna().all()):
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.isna().any():
            bad = long[numeric.isna()].iloc[0]
            raise InputError(f"unit {bad.unit_id!r}: value {bad.value!r} is not a number ({level} data)")
        codes, domain = numeric.to_numpy(float), tuple(sorted(set(numeric)))
    else:
        domain = tuple(sorted({str(v) for v in values}))
        index = {v: i for i, v in enumerate(domain)}
        codes = np.array([index[str(v)] for v in values], dtype=float)
    annotators = tuple(sorted(long["annotator"].astype(str).unique()))
    units = tuple(sorted(long["unit_id"].astype(str).unique()))
    matrix = np.full((len(annotators), len(units)), np.nan)
    a_index = {a: i for i, a in enumerate(annotators)}
    u_index = {u: i for i, u in enumerate(units)}
    rows = [a_index[str(a)] for a in long["annotator"]]
    cols = [u_index[str(u)] for u in long["unit_id"]]
    matrix[rows, cols] = codes
    return Reliability(matrix, domain, annotators, units)


def value_counts(matrix: np.ndarray, domain: np.ndarray) -> np.ndarray:
    """Units × values: how many annotators gave each value to each unit."""
    return np.stack([(matrix == v).sum(axis=0) for v in domain], axis=1).astype(float)


def coincidences(counts: np.ndarray) -> np.ndarray:
    """Krippendorff's coincidence matrix o_ck from the units × values counts (pairable units only)."""
    m_u = counts.sum(axis=1)
    pairable = counts[m_u >= 2]
    weights = 1.0 / (pairable.sum(axis=1) - 1)
    outer = np.einsum("u,uc,uk->ck", weights, pairable, pairable)
    return outer - np.diag((pairable * weights[:, None]).sum(axis=0))


def distances(domain: np.ndarray, marginals: np.ndarray, level: str) -> np.ndarray:
    """Squared difference δ²(c, k) of Krippendorff (2011) for each level of measurement."""
    c, k = np.meshgrid(np.arange(len(domain)), np.arange(len(domain)), indexing="ij")
    if level == "nominal":
        return (c != k).astype(float)
    if level == "ordinal":
        cumulative = np.concatenate([[0.0], np.cumsum(marginals)])
        low, high = np.minimum(c, k), np.maximum(c, k)
        between = cumulative[high + 1] - cumulative[low]
        return (between - (marginals[c] + marginals[k]) / 2) ** 2
    v = domain.astype(float)
    if level == "interval":
        return (v[c] - v[k]) ** 2
    total = v[c] + v[k]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total == 0, 0.0, ((v[c] - v[k]) / total) ** 2)


@dataclass(frozen=True)
class AlphaResult:
    alpha: float | None
    ci95: tuple[float, float] | None
    p_below_0667: float | None
    p_below_0800: float | None
    n_pairable_units: int
    reason: str = ""


def krippendorff_alpha(
    rel: Reliability, level: str, n_boot: int = 1000, seed: int = 0, bootstrap: str = "pairs"
) -> AlphaResult:
    """α (``krippendorff`` package) with its bootstrap CI, or ``None`` with the reason."""
    measurement = check_level(level)
    domain = (
        np.array(rel.values, dtype=float)
        if level in ("interval", "ratio") or not isinstance(rel.values[0], str)
        else np.arange(len(rel.values), dtype=float)
    )
    counts = value_counts(rel.matrix, domain)
    pairable_units = int((counts.sum(axis=1) >= 2).sum())
    if rel.matrix.shape[0] < 2:
        return AlphaResult(None, None, None, None, pairable_units, "fewer than two annotators")
    if pairable_units == 0:
        return AlphaResult(None, None, None, None, 0, "no unit with two or more judgements")
    coinc = coincidences(counts)
    marginals = coinc.sum(axis=1)
    if (marginals > 0).sum() < 2:
        return AlphaResult(
            None, None, None, None, pairable_units, "only one value observed: agreement beyond chance is undefined"
        )
    alpha = float(krippendorff.alpha(value_counts=counts, value_domain=list(domain), level_of_measurement=measurement))
    if bootstrap == "units":
        replicates = _bootstrap_units(counts, domain, measurement, n_boot, seed)
    else:
        replicates = _bootstrap_pairs(coinc, marginals, domain, level, rel.matrix.shape[0], n_boot, seed)
    low, high = np.quantile(replicates, [0.025, 0.975])
    return AlphaResult(
        alpha,
        (float(low), float(high)),
        float(np.mean(replicates < 0.667)),
        float(np.mean(replicates < 0.800)),
        pairable_units,
    )


def _bootstrap_pairs(
    coinc: np.ndarray, marginals: np.ndarray, domain: np.ndarray, level: str, coders: int, n_boot: int, seed: int
) -> np.ndarray:
    """Krippendorff's bootstrap of α: M pairs of values drawn from the coincidences, per replicate."""
    n = marginals.sum()
    delta = distances(domain, marginals, level)
    expected = (np.outer(marginals, marginals) - np.diag(marginals)) / (n - 1)
    disagreement_expected = (expected * delta).sum() / n
    upper = np.triu_indices(len(domain))
    probabilities = np.where(upper[0] == upper[1], coinc[upper], 2 * coinc[upper]) / n
    probabilities = probabilities / probabilities.sum()
    q = int((coinc > 0).sum())
    draws = int(min(25 * q, (coders - 1) * n / 2))
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(draws, probabilities, size=n_boot)
    replicates = 1.0 - (counts @ delta[upper]) / (draws * disagreement_expected)
    replicates = np.maximum(replicates, -1.0)
    # Replicates drawing only agreeing pairs of a single value are indeterminate (1 - 0/0):
    # Krippendorff sets to 0 as many of the α* = 1 as chance alone would produce.
    diagonal = np.diag(coinc) / n
    expected_indeterminate = int(round(n_boot * float(np.sum(diagonal**draws))))
    ones = np.flatnonzero(replicates == 1.0)
    replicates[ones[: min(expected_indeterminate, len(ones))]] = 0.0
    return replicates


def _bootstrap_units(counts: np.ndarray, domain: np.ndarray, level: Level, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pairable = counts[counts.sum(axis=1) >= 2]
    out = np.empty(n_boot)
    for b in range(n_boot):
        sample = pairable[rng.integers(0, len(pairable), len(pairable))]
        coinc = coincidences(sample)
        marginals = coinc.sum(axis=1)
        if (marginals > 0).sum() < 2:
            out[b] = 1.0 if not (coinc - np.diag(np.diag(coinc))).any() else 0.0
            continue
        out[b] = krippendorff.alpha(value_counts=sample, value_domain=list(domain), level_of_measurement=level)
    return out


def _rating_counts(rel: Reliability) -> np.ndarray:
    """Units × categories counts over the units with at least one rating (categorical codes)."""
    codes = np.arange(len(rel.values), dtype=float) if isinstance(rel.values[0], str) else np.array(rel.values, float)
    counts = value_counts(rel.matrix, codes)
    return counts[counts.sum(axis=1) >= 1]


def pairwise_agreement(counts: np.ndarray) -> float | None:
    """Gwet's observed agreement p_a over units with two ratings or more (the percent agreement)."""
    r = counts.sum(axis=1)
    keep = r >= 2
    if not keep.any():
        return None
    return float(np.mean((counts[keep] * (counts[keep] - 1)).sum(axis=1) / (r[keep] * (r[keep] - 1))))


def fleiss_kappa(counts: np.ndarray) -> tuple[float | None, str]:
    """Fleiss' κ with missing ratings (Gwet 2014; irrCAC ``fleiss.kappa.raw``)."""
    pa = pairwise_agreement(counts)
    if pa is None:
        return None, "no unit with two or more ratings"
    pi = (counts / counts.sum(axis=1, keepdims=True)).mean(axis=0)
    pe = float((pi**2).sum())
    if pe >= 1.0:
        return None, "only one category used: chance agreement is 1"
    return (pa - pe) / (1 - pe), ""


def gwet_ac1(counts: np.ndarray, n_categories: int) -> tuple[float | None, str]:
    """Gwet's AC1 with missing ratings (Gwet 2014; irrCAC ``gwet.ac1.raw``)."""
    pa = pairwise_agreement(counts)
    if pa is None:
        return None, "no unit with two or more ratings"
    if n_categories < 2:
        return None, "one category in the scheme: AC1 is undefined"
    pi = (counts / counts.sum(axis=1, keepdims=True)).mean(axis=0)
    pe = float((pi * (1 - pi)).sum() / (n_categories - 1))
    return (pa - pe) / (1 - pe), ""


def cohen_kappas(rel: Reliability) -> dict[str, dict[str, object]]:
    """Cohen's κ (with ASE and 95 % CI) of each pair of annotators on their common units."""
    from statsmodels.stats.inter_rater import cohens_kappa

    out: dict[str, dict[str, object]] = {}
    k = len(rel.values)
    for (i, a), (j, b) in itertools.combinations(enumerate(rel.annotators), 2):
        both = ~np.isnan(rel.matrix[i]) & ~np.isnan(rel.matrix[j])
        key = f"{a}|{b}"
        if both.sum() < 2:
            out[key] = {
                "kappa": None,
                "ase": None,
                "ci95": None,
                "n_units": int(both.sum()),
                "reason": "fewer than two common units",
            }
            continue
        codes = {v: n for n, v in enumerate(sorted(set(rel.matrix[i][both]) | set(rel.matrix[j][both])))}
        table = np.zeros((max(k, len(codes)),) * 2)
        for x, y in zip(rel.matrix[i][both], rel.matrix[j][both]):
            table[codes[x], codes[y]] += 1
        table = table[: len(codes), : len(codes)]
        if len(codes) < 2:
            out[key] = {
                "kappa": None,
                "ase": None,
                "ci95": None,
                "n_units": int(both.sum()),
                "reason": "one category only: chance agreement is 1",
            }
            continue
        result = cohens_kappa(table)
        out[key] = {
            "kappa": float(result.kappa),
            "ase": float(result.std_kappa),
            # the asymptotic interval can pass 1 on small samples: κ cannot
            "ci95": [max(-1.0, float(result.kappa_low)), min(1.0, float(result.kappa_upp))],
            "n_units": int(both.sum()),
            "reason": "",
        }
    return out


def agreement_for_label(
    long: pd.DataFrame, level: str, n_boot: int = 1000, seed: int = 0, bootstrap: str = "pairs"
) -> dict[str, object]:
    """All coefficients for one label's long judgements (unit_id, annotator, value)."""
    rel = reliability_data(long, level)
    alpha = krippendorff_alpha(rel, level, n_boot, seed, bootstrap)
    categorical = level in ("nominal", "ordinal")
    if categorical:
        counts = _rating_counts(rel)
        fleiss, fleiss_reason = fleiss_kappa(counts)
        ac1, ac1_reason = gwet_ac1(counts, len(rel.values))
        percent = pairwise_agreement(counts)
    else:
        fleiss, fleiss_reason = None, f"not defined for {level} data"
        ac1, ac1_reason = None, f"not defined for {level} data"
        counts_all = value_counts(rel.matrix, np.array(rel.values, float))
        percent = pairwise_agreement(counts_all[counts_all.sum(axis=1) >= 1])
    kappas = cohen_kappas(rel) if categorical else {}
    reasons = {
        name: why
        for name, why in (
            ("krippendorff_alpha", alpha.reason),
            ("fleiss_kappa", fleiss_reason),
            ("gwet_ac1", ac1_reason),
        )
        if why
    }
    return {
        "krippendorff_alpha": alpha.alpha,
        "krippendorff_alpha_ci95": list(alpha.ci95) if alpha.ci95 else None,
        "p_alpha_below_0.667": alpha.p_below_0667,
        "p_alpha_below_0.800": alpha.p_below_0800,
        "fleiss_kappa": fleiss,
        "gwet_ac1": ac1,
        "percent_agreement": percent,
        "cohen_kappa": {pair: r["kappa"] for pair, r in kappas.items()},
        "cohen_kappa_ci95": {pair: r["ci95"] for pair, r in kappas.items()},
        "n_units": int(rel.matrix.shape[1]),
        "n_pairable_units": alpha.n_pairable_units,
        "n_annotators": int(rel.matrix.shape[0]),
        "level": level,
        "null_reasons": reasons,
    }


def read_long_csv(path) -> pd.DataFrame:
    """The long CSV of ``perivigil agreement`` (unit_id, annotator, label, value), checked."""
    frame = read_delimited_frame(path, REQUIRED_COLUMNS, "long CSV of judgements")
    # French spreadsheets write decimals with a comma ("24,5"): the same number as "24.5"
    frame["value"] = frame["value"].str.strip().str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
    empty = frame[frame["value"].str.strip() == ""]
    if len(empty):
        raise InputError(f"{path}, row {empty.index[0]}: field 'value' is empty (leave the row out instead)")
    duplicated = frame.duplicated(["unit_id", "annotator", "label"], keep=False)
    if duplicated.any():
        row = int(frame.index[np.flatnonzero(duplicated.to_numpy())[1]])
        first = frame[duplicated].iloc[0]
        raise InputError(
            f"{path}, row {row}: unit {first.unit_id!r} has two judgements by {first.annotator!r} "
            f"for label {first.label!r}"
        )
    return frame


def agreement_table(
    long: pd.DataFrame, levels: dict[str, str], n_boot: int = 1000, seed: int = 0, bootstrap: str = "pairs"
) -> dict[str, dict[str, object]]:
    """``{label: coefficients}`` for every label of a long table."""
    return {
        label: agreement_for_label(group, levels[label], n_boot, seed, bootstrap)
        for label, group in long.groupby("label", sort=True)
    }
