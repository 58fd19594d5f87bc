"""The expert rule system: decide ``iso_t1`` and ``nsaid_late`` from a post's exposure events.

Study protocol §2: a post is positive for a situation only when an **actual** exposure of a
**pregnant person** (the author or someone described) falls in the situation's window. The
events come from :mod:`perivigil.extract` (one per drug mention, with its status, person,
pregnancy, timing and age at the intake); this module only applies the protocol to them,
event by event:

``iso_t1``
    oral isotretinoin (a skin form does not count), ``taken`` by a person pregnant at the
    time, not after the delivery, while breastfeeding nor before conception, and in the
    first trimester: an age at the intake ``<= iso_t1_max_sa`` (a point, or a range within
    it), or a first-trimester phrase (taken before the pregnancy was known, a positive test
    while on treatment: the intake covered the start of the pregnancy, protocol §3).
``nsaid_late``
    any NSAID (any route, any dose), or aspirin at ``>= aspirin_min_mg_day`` mg/day (an
    analgesic brand with no dose stated counts; antiplatelet or unspecified aspirin without
    a dose does not), ``taken`` by a person pregnant at the time, not after the delivery nor
    while breastfeeding, at an age ``>= nsaid_late_min_sa`` (a point, or a range that starts
    there). An intake without an age is negative: the window is not established.

Thresholds come from config (``rules:``); the defaults are the protocol's: 14 SA, 24 SA
(ANSM 2017: from the start of the 6th month), 500 mg/day. The same functions decide a post
in memory (``perivigil classify``) and every post of the corpus from ``mentions.parquet``
(rule ``decide``): the decisions are computed once, and every later stage reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from perivigil.models import LABELS

OFF_WINDOW = ("postpartum", "breastfeeding", "before_conception")


@dataclass(frozen=True)
class RuleThresholds:
    iso_t1_max_sa: float = 14.0
    nsaid_late_min_sa: float = 24.0
    aspirin_min_mg_day: float = 500.0


def thresholds_from_config(config: Mapping[str, Any]) -> RuleThresholds:
    """The thresholds of the ``rules`` section of the study's configuration."""
    section = config["rules"]
    return RuleThresholds(
        float(section["iso_t1_max_sa"]), float(section["nsaid_late_min_sa"]), float(section["aspirin_min_mg_day"])
    )


@dataclass(frozen=True)
class Decision:
    """Both labels of a post, and for each positive the events behind it (rows of ``mentions.parquet``)."""

    iso_t1: int
    nsaid_late: int
    iso_t1_evidence: list[Any] = field(default_factory=list)
    nsaid_late_evidence: list[Any] = field(default_factory=list)


def _missing(value: Any) -> bool:
    return value is None or value != value  # None, NaN or pandas.NA-like floats


def describe(event: Any) -> str:
    """``ibuprofen ('Advil') at 30 SA ('30 SA', stated), 1200 mg/day ('400 3 fois par jour'), taken by self``."""
    parts = [f"{event.inn} ('{event.evidence}')"]
    if not _missing(event.gestational_age_text):
        sa = event.gestational_age_sa
        at = (
            f"{sa:g} SA"
            if not _missing(sa)
            else f"{event.gestational_age_min_sa:g}-{event.gestational_age_max_sa:g} SA"
        )
        parts.append(f"at {at} ('{event.gestational_age_text}', {event.gestational_age_source})")
    elif event.first_trimester:
        parts.append("in the first trimester (before the pregnancy was known)")
    if not _missing(event.dose_mg_day):
        parts.append(f"{event.dose_mg_day:g} mg/day ('{event.dose_text}')")
    parts.append(f"taken by {event.person}")
    return " ".join(parts)


def taken_by_a_pregnant_person(event: Any) -> bool:
    return event.status == "taken" and event.person_pregnant is True and event.timing not in OFF_WINDOW


def in_first_trimester(event: Any, t: RuleThresholds) -> bool:
    if event.first_trimester:
        return True
    if not _missing(event.gestational_age_sa):
        return event.gestational_age_sa <= t.iso_t1_max_sa
    return not _missing(event.gestational_age_max_sa) and event.gestational_age_max_sa <= t.iso_t1_max_sa


def at_or_after_late_threshold(event: Any, t: RuleThresholds) -> bool:
    if not _missing(event.gestational_age_sa):
        return event.gestational_age_sa >= t.nsaid_late_min_sa
    return not _missing(event.gestational_age_min_sa) and event.gestational_age_min_sa >= t.nsaid_late_min_sa


def counts_as_nsaid(event: Any, t: RuleThresholds) -> bool:
    """Any NSAID; aspirin only at the analgesic dose (protocol §4)."""
    if event.drug_class == "nsaid":
        return True
    if str(event.drug_class).startswith("aspirin"):
        if not _missing(event.dose_mg_day):
            return event.dose_mg_day >= t.aspirin_min_mg_day
        return event.drug_class == "aspirin_analgesic"
    return False


def supports_iso_t1(event: Any, t: RuleThresholds) -> bool:
    return (
        event.drug_class == "isotretinoin"
        and event.route != "cutaneous"
        and taken_by_a_pregnant_person(event)
        and in_first_trimester(event, t)
    )


def supports_nsaid_late(event: Any, t: RuleThresholds) -> bool:
    return counts_as_nsaid(event, t) and taken_by_a_pregnant_person(event) and at_or_after_late_threshold(event, t)


def decide(events: Iterable[Any], thresholds: RuleThresholds = RuleThresholds()) -> Decision:
    """Both labels of one post from its events (``EventRow`` or rows of ``mentions.parquet``)."""
    events = list(events)
    iso = [e for e in events if supports_iso_t1(e, thresholds)]
    nsaid = [e for e in events if supports_nsaid_late(e, thresholds)]
    return Decision(int(bool(iso)), int(bool(nsaid)), iso, nsaid)


DECISION_COLUMNS = ("post_id", "label", "value", "evidence", "mention_indexes")


def decision_rows(post_id: str, decision: Decision) -> list[dict[str, object]]:
    """The rows of ``decisions.parquet`` for one post: one per label."""
    rows = []
    for label in LABELS:
        supporting = getattr(decision, f"{label}_evidence")
        rows.append(
            {
                "post_id": post_id,
                "label": label,
                "value": int(getattr(decision, label)),
                "evidence": " | ".join(describe(e) for e in supporting),
                "mention_indexes": ",".join(str(int(e.mention_index)) for e in supporting),
            }
        )
    return rows


def decide_table(post_ids: Sequence[str], events: pd.DataFrame, thresholds: RuleThresholds) -> pd.DataFrame:
    """``decisions.parquet``: every post of ``post_ids`` (in that order) × label, from ``mentions.parquet``."""
    by_post: dict[str, list[Any]] = {}
    for row in events.itertuples(index=False):
        by_post.setdefault(row.post_id, []).append(row)
    rows = []
    for post_id in post_ids:
        rows.extend(decision_rows(post_id, decide(by_post.get(post_id, ()), thresholds)))
    frame = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    frame["value"] = frame["value"].astype("int64")
    return frame


def labels_from_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """post_id → iso_t1, nsaid_late (0/1), from the long ``decisions.parquet``."""
    wide = decisions.pivot(index="post_id", columns="label", values="value")
    wide.columns.name = None
    return wide.reset_index()[["post_id", *LABELS]].astype({label: "int64" for label in LABELS})


def decide_file(posts_path: str, mentions_path: str, output: str, config: Mapping[str, Any]) -> pd.DataFrame:
    """``decisions.parquet`` from ``mentions.parquet``: every post × label, decided once for every later stage."""
    import pyarrow.parquet as pq

    from perivigil.files import atomic_path
    from perivigil.schemas import DECISIONS, check

    post_ids = pq.read_table(posts_path, columns=["post_id"]).column("post_id").to_pylist()
    events = pd.read_parquet(mentions_path)
    table = check(DECISIONS, decide_table(post_ids, events, thresholds_from_config(config)), str(output))
    with atomic_path(output) as tmp:
        table.to_parquet(tmp, index=False)
    return table
