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
    return math.ceil(_z(level) ** 2 * proportion * (1 - proportion) / half_width ** 2)


def buderer_n(accuracy: float, prevalence: float, half_width: float, level: float = 0.95,
              specificity: bool = False) -> int:
    """Posts for Se (or Sp) within ± ``half_width``: z² Se (1 − Se) / d² ÷ prevalence (Sp: ÷ 1 − prevalence)."""
    _check("sensitivity or specificity", accuracy, low_open=False)
    _check("half-width", half_width)
    _check("expected prevalence", prevalence)
    share = 1 - prevalence if specificity else prevalence
    return math.ceil(_z(level) ** 2 * accuracy * (1 - accuracy) / half_width ** 2 / share)


def stratum_sizes(prevalence: float, sensitivity: float, specificity: float, se_half_width: float,
                  sp_half_width: float, prevalence_half_width: float, level: float = 0.95) -> dict[str, int]:
    """Posts of one stratum for each target, and the largest (``posts``)."""
    sizes = {"sensitivity": buderer_n(sensitivity, prevalence, se_half_width, level),
             "specificity": buderer_n(specificity, prevalence, sp_half_width, level, specificity=True),
             "prevalence": wald_n(prevalence, prevalence_half_width, level)}
    return {**sizes, "posts": max(sizes.values())}
