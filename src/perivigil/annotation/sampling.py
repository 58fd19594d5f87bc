"""Draw the annotation sample: stratified candidates, a random slice of non-candidates, an overlap.

Study protocol §5. The sampling frame is every post that is not an exact duplicate of an
earlier one. A post is a *candidate* when the lexicon finds a drug of interest in it;
its situation is ``iso`` (isotretinoin), ``nsaid`` (NSAID or aspirin) or ``both``.
Candidates are stratified by situation × board × period (config), and allocated to
strata in proportion to their size (largest remainders) after a minimum per stratum;
non-candidates form one stratum of their own (to estimate what the lexicon misses).
Within a stratum, posts are drawn without replacement with a seeded generator, so
each post's inclusion probability is n_h / N_h; the frame keeps it for weighting.

An overlap subset, drawn across the sample, is annotated by every annotator (to
measure agreement); the rest is dealt out in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from perivigil.errors import InputError

INTEREST = {
    "isotretinoin": "iso",
    "nsaid": "nsaid",
    "aspirin_analgesic": "nsaid",
    "aspirin_antiplatelet": "nsaid",
    "aspirin": "nsaid",
}
NONCANDIDATE = "noncandidate"


def situations(mentions: pd.DataFrame) -> pd.Series:
    """post_id → ``iso``, ``nsaid`` or ``both``, for posts with a drug of interest."""
    interest = mentions.assign(situation=mentions["drug_class"].map(INTEREST)).dropna(subset=["situation"])
    grouped = interest.groupby("post_id")["situation"]
    first = grouped.first()
    return first.where(grouped.nunique() == 1, "both").rename("situation")


def stratum_keys(frame: pd.DataFrame, strata: Sequence[str]) -> pd.Series:
    """Each row's values of the ``strata`` columns joined by `` | `` (column by column, not row by row)."""
    keys = pd.Series("", index=frame.index, dtype=object)
    for i, column in enumerate(strata):
        values = frame[column].astype(str).astype(object)
        keys = values if i == 0 else keys + " | " + values
    return keys


def build_frame(posts: pd.DataFrame, mentions: pd.DataFrame, strata: Sequence[str], period: str) -> pd.DataFrame:
    """The sampling frame: one row per post with its stratum; exact duplicates are not eligible."""
    frame = posts[["post_id", "thread_id", "source", "board", "created_at", "duplicate_of"]].copy()
    frame["period"] = frame["created_at"].dt.strftime("%Y" if period == "year" else "%Y-%m")
    frame = frame.merge(situations(mentions), left_on="post_id", right_index=True, how="left")
    frame["candidate"] = frame["situation"].notna()
    frame["situation"] = frame["situation"].fillna("none")
    frame["eligible"] = frame["duplicate_of"].isna()
    unknown = sorted(set(strata) - {"situation", "board", "source", "period"})
    if unknown:
        raise InputError(f"config: key 'annotation.strata': unknown stratification variable(s) {unknown}")
    frame["stratum"] = np.where(frame["candidate"], stratum_keys(frame, strata), NONCANDIDATE)
    return frame.drop(columns=["created_at", "duplicate_of"]).sort_values("post_id").reset_index(drop=True)


def allocate(sizes: pd.Series, n: int, minimum: int) -> pd.Series:
    """Sample size per stratum: ``minimum`` each (capped by size), the rest in proportion (largest remainders)."""
    sizes = sizes.sort_index()
    n = min(n, int(sizes.sum()))
    base = np.minimum(sizes.to_numpy(), minimum)
    if base.sum() > n:
        raise InputError(
            f"config: key 'annotation.min_per_stratum': {minimum} per stratum over {len(sizes)} "
            f"strata needs {int(base.sum())} posts, more than the {n} to sample"
        )
    room = sizes.to_numpy() - base
    left = n - int(base.sum())
    if left and room.sum():
        share = room / room.sum() * left
        extra = np.floor(share).astype(int)
        order = np.argsort(-(share - extra), kind="stable")
        for i in order[: left - int(extra.sum())]:
            extra[i] += 1
        base = base + np.minimum(extra, room)
    return pd.Series(base.astype(int), index=sizes.index)


def draw(frame: pd.DataFrame, n_candidates: int, n_noncandidates: int, min_per_stratum: int, seed: int) -> pd.DataFrame:
    """Add ``selected`` and ``inclusion_probability`` (n_h / N_h, 0 for ineligible posts) to the frame."""
    rng = np.random.default_rng(seed)
    eligible = frame[frame["eligible"]]
    sizes = eligible.groupby("stratum").size()
    candidate_sizes = sizes.drop(NONCANDIDATE, errors="ignore")
    plan = allocate(candidate_sizes, n_candidates, min_per_stratum)
    if NONCANDIDATE in sizes.index:
        plan[NONCANDIDATE] = min(n_noncandidates, int(sizes[NONCANDIDATE]))
    selected: set[str] = set()
    members_of = eligible.groupby("stratum")["post_id"]
    for stratum in sorted(plan.index):
        members = np.sort(members_of.get_group(stratum).to_numpy())
        chosen: list[Any] | np.ndarray = (
            rng.choice(members, size=int(plan[stratum]), replace=False) if plan[stratum] else []
        )
        selected.update(chosen)
    out = frame.copy()
    out["selected"] = out["post_id"].isin(selected)
    probability = (plan / sizes.reindex(plan.index)).rename("inclusion_probability")
    out = out.merge(probability, left_on="stratum", right_index=True, how="left")
    out["inclusion_probability"] = out["inclusion_probability"].where(out["eligible"], 0.0).fillna(0.0)
    return out


def assign(sample_ids: Sequence[str], annotators: Sequence[str], overlap: int, seed: int) -> pd.DataFrame:
    """``post_id, annotator, overlap``: the overlap subset to everyone, the rest in turn."""
    if len(set(annotators)) != len(annotators):
        raise InputError(f"config: key 'annotation.annotators': a name is used twice: {list(annotators)}")
    if len(annotators) < 2:
        raise InputError("config: key 'annotation.annotators': at least two annotators are needed")
    rng = np.random.default_rng(seed + 1)
    ids = rng.permutation(np.sort(np.asarray(sample_ids, dtype=object)))
    overlap = min(overlap, len(ids))
    rows = [(post_id, annotator, True) for post_id in ids[:overlap] for annotator in annotators]
    rows += [(post_id, annotators[i % len(annotators)], False) for i, post_id in enumerate(ids[overlap:])]
    return (
        pd.DataFrame(rows, columns=["post_id", "annotator", "overlap"])
        .sort_values(["annotator", "post_id"])
        .reset_index(drop=True)
    )
