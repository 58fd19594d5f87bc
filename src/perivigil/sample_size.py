"""Posts to annotate for a target confidence-interval half-width (``perivigil sample-size``).

Wald normal approximation, per stratum of the annotation sample (candidates: posts with a drug
of interest; non-candidates: the rest):

- prevalence of a label in the stratum, half-width ``d``: n = z² p (1 − p) / d²;
- sensitivity (Buderer 1996): the positives needed, z² Se (1 − Se) / d², divided by the
  stratum's expected prevalence p (so many posts hold that many positives);
- specificity: z² Sp (1 − Sp) / d² divided by 1 − p.

Each is rounded up; the stratum's requirement is the largest. The Wald formula ignores the
clustering of posts in threads and the design weights: treat the result as a floor.

References
----------
Buderer N.M.F. (1996) Statistical methodology: I. Incorporating the prevalence of disease into the
sample size calculation for sensitivity and specificity. Acad Emerg Med 3(9):895-900.
Hajian-Tilaki K. (2014) Sample size estimation in diagnostic test studies of biomedical
informatics. J Biomed Inform 48:193-204.
"""

from __future__ import annotations

import math

from scipy.stats import norm


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"confidence level {level}: expected 0 < level < 1")
    return float(norm.ppf(1 - (1 - level) / 2))


def _check(name: str, value: float, low_open: bool = True) -> None:
    if not (0 < value < 1 if low_open else 0 <= value <= 1):
        raise ValueError(f"{name} {value}: expected a proportion strictly between 0 and 1")


def wald_n(proportion: float, half_width: float, level: float = 0.95) -> int:
    """Observations for a Wald interval of ``half_width`` around ``proportion``: ⌈z² p (1 − p) / d²⌉."""
    _check("proportion", proportion, low_open=False)
    _check("half-width", half_width)
    return math.ceil(_z(level) ** 2 * proportion * (1 - proportion) / half_width**2)


def buderer_n(
    accuracy: float, prevalence: float, half_width: float, level: float = 0.95, specificity: bool = False
) -> int:
    """Posts for Se (or Sp) within ± ``half_width``: z² Se (1 − Se) / d² ÷ prevalence (Sp: ÷ 1 − prevalence)."""
    _check("sensitivity or specificity", accuracy, low_open=False)
    _check("half-width", half_width)
    _check("expected prevalence", prevalence)
    share = 1 - prevalence if specificity else prevalence
    return math.ceil(_z(level) ** 2 * accuracy * (1 - accuracy) / half_width**2 / share)


def stratum_sizes(
    prevalence: float,
    sensitivity: float,
    specificity: float,
    se_half_width: float,
    sp_half_width: float,
    prevalence_half_width: float,
    level: float = 0.95,
) -> dict[str, int]:
    """Posts of one stratum for each target, and the largest (``posts``)."""
    sizes = {
        "sensitivity": buderer_n(sensitivity, prevalence, se_half_width, level),
        "specificity": buderer_n(specificity, prevalence, sp_half_width, level, specificity=True),
        "prevalence": wald_n(prevalence, prevalence_half_width, level),
    }
    return {**sizes, "posts": max(sizes.values())}


#: The ``sample_size`` section's defaults (those of ``perivigil sample-size``).
DEFAULTS = {
    "level": 0.95,
    "sensitivity": 0.9,
    "specificity": 0.95,
    "se_half_width": 0.1,
    "sp_half_width": 0.05,
    "prevalence_half_width": 0.05,
    "expected_prevalence": {"candidates": 0.2, "noncandidates": 0.02},
}
STRATA = ("candidates", "noncandidates")
#: The interval behind ``half_width_reached``.
METHOD = "clopper_pearson"


def sample_size_table(settings, frame, gold, labels=("iso_t1", "nsaid_late")):
    """Planned and annotated posts per stratum × label, with the precision reached (rule ``sample_size``).

    ``settings``: the config's ``sample_size`` section (missing keys take :data:`DEFAULTS`);
    ``frame``: the sampling frame (``post_id``, ``candidate``); ``gold``: the gold labels, long
    (``post_id``, ``label``, ``value``, ``"0"``/``"1"``). For each stratum and label: the posts
    planned (:func:`stratum_sizes`, at the stratum's expected prevalence), the gold posts of the
    stratum with that label decided, its observed prevalence there, and the half-width reached:
    half the width of its Clopper–Pearson interval (unweighted, posts taken as independent).
    """
    import pandas as pd

    from perivigil.evaluation import clopper_pearson

    settings = {**DEFAULTS, **(settings or {})}
    expected = {**DEFAULTS["expected_prevalence"], **(settings.get("expected_prevalence") or {})}
    level = float(settings["level"])
    stratum_of = pd.Series(
        frame["candidate"].astype(bool).map({True: "candidates", False: "noncandidates"}).values,
        index=frame["post_id"].astype(str).values,
    )
    decided = gold[gold["value"].astype(str).isin(["0", "1"])]
    rows = []
    for stratum in STRATA:
        plan = stratum_sizes(
            float(expected[stratum]),
            float(settings["sensitivity"]),
            float(settings["specificity"]),
            float(settings["se_half_width"]),
            float(settings["sp_half_width"]),
            float(settings["prevalence_half_width"]),
            level,
        )
        for label in labels:
            values = decided.loc[decided["label"] == label]
            values = values.loc[values["post_id"].astype(str).map(stratum_of).eq(stratum)]
            n, positives = len(values), int(values["value"].astype(str).eq("1").sum())
            low, high = clopper_pearson(positives, n, level)
            rows.append(
                {
                    "stratum": stratum,
                    "label": label,
                    "expected_prevalence": float(expected[stratum]),
                    "n_sensitivity": plan["sensitivity"],
                    "n_specificity": plan["specificity"],
                    "n_prevalence": plan["prevalence"],
                    "planned_posts": plan["posts"],
                    "annotated_posts": n,
                    "positives": positives,
                    "observed_prevalence": positives / n if n else float("nan"),
                    "ci_low": low,
                    "ci_high": high,
                    "target_half_width": float(settings["prevalence_half_width"]),
                    "half_width_reached": (high - low) / 2 if n else float("nan"),
                    "level": level,
                    "method": METHOD,
                }
            )
    table = pd.DataFrame(rows)
    return table.astype(
        {
            column: "int64"
            for column in (
                "n_sensitivity",
                "n_specificity",
                "n_prevalence",
                "planned_posts",
                "annotated_posts",
                "positives",
            )
        }
    )
