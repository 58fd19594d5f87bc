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
(ANSM 2017: from the start of the 6th month), 500 mg/day. :func:`decide` decides a post in
memory (``perivigil classify``), event by event; every post of the corpus is decided from
``mentions.parquet`` (rule ``decide``) by the same rules written column-wise (:func:`support_masks`,
tested against :func:`decide` on every combination of the fields they read), so that a million posts
need no Python object per event: the decisions are computed once, and every later stage reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
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


# The columns of mentions.parquet the decision reads, and those :func:`describe` adds for a supporting event.
DECISION_INPUTS = (
    "post_id",
    "drug_class",
    "route",
    "status",
    "person_pregnant",
    "timing",
    "first_trimester",
    "gestational_age_sa",
    "gestational_age_min_sa",
    "gestational_age_max_sa",
    "dose_mg_day",
)
EVIDENCE_INPUTS = (
    "mention_index",
    "inn",
    "evidence",
    "gestational_age_text",
    "gestational_age_source",
    "dose_text",
    "person",
)


def _truthy(column: pd.Series, test=bool) -> np.ndarray:
    """``test`` of each value as the row-wise rules apply it (``bool(v)``, or ``v is True``)."""
    if column.dtype == bool:
        return column.to_numpy(dtype=bool)
    return np.fromiter((test(value) for value in column.to_numpy(dtype=object)), dtype=bool, count=len(column))


def _floats(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column).to_numpy(dtype=float, na_value=np.nan)


def _equals(column: pd.Series, value: str) -> np.ndarray:
    return (column == value).fillna(False).to_numpy(dtype=bool)


def _aspirin(classes: pd.Series) -> np.ndarray:
    return classes.astype(object).map(lambda c: str(c).startswith("aspirin")).to_numpy(dtype=bool)


def possible_support(events: pd.DataFrame) -> np.ndarray:
    """The events that support a label under some thresholds: an intake by a pregnant person, in the window,
    of oral (or unstated-route) isotretinoin, an NSAID or aspirin. The others support none, whatever the
    thresholds (:func:`supports_iso_t1`, :func:`supports_nsaid_late`)."""
    classes = events["drug_class"]
    taken = (
        _equals(events["status"], "taken")
        & _truthy(events["person_pregnant"], lambda value: value is True)
        & ~events["timing"].isin(OFF_WINDOW).to_numpy(dtype=bool)
    )
    iso = _equals(classes, "isotretinoin") & ~_equals(events["route"], "cutaneous")
    return taken & (iso | _equals(classes, "nsaid") | _aspirin(classes))


def support_masks(events: pd.DataFrame, t: RuleThresholds) -> dict[str, np.ndarray]:
    """:func:`supports_iso_t1` and :func:`supports_nsaid_late` of every event (rows of ``mentions.parquet``
    with the columns :data:`DECISION_INPUTS`), column by column: the same booleans as the row-wise
    functions, without a Python object per row."""
    possible = possible_support(events)
    classes = events["drug_class"]
    sa, low, high = (_floats(events[f"gestational_age{part}_sa"]) for part in ("", "_min", "_max"))
    dose = _floats(events["dose_mg_day"])
    stated = ~np.isnan(sa)
    first_trimester = _truthy(events["first_trimester"]) | np.where(
        stated, sa <= t.iso_t1_max_sa, high <= t.iso_t1_max_sa
    )
    late = np.where(stated, sa >= t.nsaid_late_min_sa, low >= t.nsaid_late_min_sa)
    aspirin = _aspirin(classes)
    aspirin_counts = np.where(~np.isnan(dose), dose >= t.aspirin_min_mg_day, _equals(classes, "aspirin_analgesic"))
    nsaid = _equals(classes, "nsaid") | (aspirin & aspirin_counts)
    return {
        "iso_t1": possible & _equals(classes, "isotretinoin") & first_trimester,
        "nsaid_late": possible & nsaid & late,
    }


def supporting_evidence(events: pd.DataFrame, t: RuleThresholds) -> dict[str, pd.DataFrame]:
    """Per label, one row per positive post (post_id as index): its ``evidence`` and ``mention_indexes``
    as :func:`decision_rows` writes them, its events in ``events``' order. ``events`` needs the columns
    :data:`DECISION_INPUTS` and :data:`EVIDENCE_INPUTS`."""
    masks = support_masks(events, t)
    out = {}
    for label in LABELS:
        chosen = events[masks[label]]
        frame = pd.DataFrame(
            {
                "post_id": chosen["post_id"].to_numpy(dtype=object),
                "evidence": [describe(event) for event in chosen.itertuples(index=False)],
                "mention_indexes": [str(int(index)) for index in chosen["mention_index"]],
            }
        )
        grouped = frame.groupby("post_id", sort=False)
        out[label] = pd.DataFrame(
            {
                "evidence": grouped["evidence"].agg(" | ".join),
                "mention_indexes": grouped["mention_indexes"].agg(",".join),
            }
        )
    return out


def decision_frame(post_ids: Sequence[str], evidence: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The rows of ``decisions.parquet`` for ``post_ids`` (in that order) × label, from
    :func:`supporting_evidence`: a post without supporting events is negative, with empty evidence."""
    ids = pd.Index(np.asarray(post_ids, dtype=object), dtype=object)
    columns: dict[str, list[np.ndarray]] = {"value": [], "evidence": [], "mention_indexes": []}
    for label in LABELS:
        positives = evidence[label]
        found = positives.index.get_indexer(ids) if len(positives) else np.full(len(ids), -1)
        hit = found >= 0
        columns["value"].append(hit.astype("int64"))
        for name in ("evidence", "mention_indexes"):
            values = np.full(len(ids), "", dtype=object)
            values[hit] = positives[name].to_numpy(dtype=object)[found[hit]]
            columns[name].append(values)
    n = len(LABELS)
    frame = pd.DataFrame(
        {
            "post_id": np.repeat(ids.to_numpy(dtype=object), n),
            "label": np.tile(np.array(LABELS, dtype=object), len(ids)),
            **{name: np.stack(parts, axis=1).reshape(-1) for name, parts in columns.items()},
        },
        columns=DECISION_COLUMNS,
    )
    frame["value"] = frame["value"].astype("int64")
    return frame


def decide_table(post_ids: Sequence[str], events: pd.DataFrame, thresholds: RuleThresholds) -> pd.DataFrame:
    """``decisions.parquet``: every post of ``post_ids`` (in that order) × label, from ``mentions.parquet``.

    Column-wise (:func:`support_masks`); the same rows as :func:`decision_rows` of :func:`decide` of
    each post's events, in the events' order."""
    return decision_frame(post_ids, supporting_evidence(events, thresholds))


def labels_from_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """post_id → iso_t1, nsaid_late (0/1), from the long ``decisions.parquet``."""
    wide = decisions.pivot(index="post_id", columns="label", values="value")
    wide.columns.name = None
    return wide.reset_index()[["post_id", *LABELS]].astype({label: "int64" for label in LABELS})


def candidate_events(mentions_path: str, columns: Sequence[str], batch_size: int = 65_536) -> pd.DataFrame:
    """The rows of ``mentions.parquet`` that may support a label (:func:`possible_support`), with ``columns``,
    read batch by batch: memory follows those few rows, not the corpus."""
    import pyarrow.parquet as pq

    columns = list(dict.fromkeys([*DECISION_INPUTS, *columns]))
    parts = []
    for batch in pq.ParquetFile(mentions_path).iter_batches(batch_size=batch_size, columns=columns):
        frame = batch.to_pandas()
        parts.append(frame[possible_support(frame)])
    if not parts:
        return pq.read_schema(mentions_path).empty_table().select(columns).to_pandas()
    return pd.concat(parts, ignore_index=True)


def decide_file(
    posts_path: str, mentions_path: str, output: str, thresholds: RuleThresholds, batch_size: int = 65_536
) -> int:
    """``decisions.parquet`` from ``mentions.parquet``: every post × label, decided once for every later stage.

    The supporting events are found batch by batch among the events that may support a label; the posts
    are then written batch by batch (one row group each), so that memory does not grow with the corpus.
    Returns the number of rows written."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from perivigil.files import atomic_path
    from perivigil.schemas import DECISIONS, check

    ids = pq.read_table(posts_path, columns=["post_id"]).column("post_id")
    if pc.count_distinct(ids).as_py() != len(ids):
        first = pc.value_counts(ids).filter(pc.greater(pc.value_counts(ids).field("counts"), 1))[0]
        raise ValueError(f"{posts_path}: post_id {first['values'].as_py()!r} appears more than once")
    evidence = supporting_evidence(candidate_events(mentions_path, EVIDENCE_INPUTS), thresholds)
    written = 0
    with atomic_path(output) as tmp:
        writer = None
        try:
            for start in range(0, max(len(ids), 1), batch_size):
                chunk = ids.slice(start, batch_size).to_numpy(zero_copy_only=False)
                frame = check(DECISIONS, decision_frame(chunk, evidence), str(output))
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
                writer.write_table(table)
                written += len(frame)
        finally:
            if writer is not None:
                writer.close()
    return written
