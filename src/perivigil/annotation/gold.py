"""Disagreements, the adjudication sheet, and the gold standard with the provenance of each label.

Study protocol §5: where annotators disagree, a CRAT expert decides. For each sampled
post and label the gold value is:

- ``single``: one annotator saw the post (outside the overlap subset);
- ``unanimous``: every annotator who gave a value agrees;
- ``adjudicated``: the adjudicator's decision (and who decided);
- ``majority``: a strict majority, when the adjudicator left the decision empty and the
  config allows it (``annotation.majority_fallback``).

Anything else stays undecided: listed, never dropped or guessed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from perivigil.annotation.exports import save_xlsx, table_files
from perivigil.annotation.scheme import Scheme
from perivigil.errors import InputError
from perivigil.files import read_delimited

GOLD_COLUMNS = ("post_id", "label", "value", "provenance", "decided_by", "n_annotators", "annotator_values")


def disagreements(judgements: pd.DataFrame) -> pd.DataFrame:
    """(post, label) pairs where annotators gave different values; one column per annotator."""
    wide = judgements.pivot_table(index=["post_id", "label"], columns="annotator", values="value", aggfunc="first")
    distinct = wide.nunique(axis=1, dropna=True)
    out = wide[distinct > 1].reset_index()
    out.columns.name = None
    return out


def write_adjudication_sheet(disagreed: pd.DataFrame, texts: dict[str, str], csv_path: Path, xlsx_path: Path) -> None:
    """CSV and XLSX: post text, each annotator's value, empty ``decision`` and ``adjudicator`` columns."""
    annotators = [c for c in disagreed.columns if c not in ("post_id", "label")]
    header = ["post_id", "label", "text", *annotators, "decision", "adjudicator", "note"]
    rows = [
        [
            r["post_id"],
            r["label"],
            texts[r["post_id"]],
            *[("" if pd.isna(r[a]) else r[a]) for a in annotators],
            "",
            "",
            "",
        ]
        for _, r in disagreed.iterrows()
    ]
    book, _ = table_files(header, rows, csv_path, "adjudication")
    save_xlsx(book, xlsx_path)


def read_adjudication(path: Path, scheme: Scheme, disagreed: pd.DataFrame) -> pd.DataFrame:
    """The adjudicator's returned sheet: ``post_id, label, decision, adjudicator`` (decisions checked)."""
    header, rows = read_delimited(path, "adjudication sheet")
    missing = [column for column in ("post_id", "label", "decision", "adjudicator") if column not in header]
    if missing:
        raise InputError(f"{path}, row 1: column(s) {missing} are missing (keep the columns of to_adjudicate.csv)")
    expected = set(zip(disagreed["post_id"], disagreed["label"]))
    out = []
    for number, row in rows:
        where = f"{path}, row {number}"
        key = (row["post_id"], row["label"])
        if key not in expected:
            raise InputError(f"{where}: post {row['post_id']!r} field '{row['label']}' was not sent for adjudication")
        decision: str | None = row["decision"].strip()
        if decision:
            decision = scheme[row["label"]].parse(decision, f"{where}, field 'decision'")
            if not row["adjudicator"].strip():
                raise InputError(f"{where}: field 'adjudicator' is empty for a decision")
        out.append(
            {
                "post_id": row["post_id"],
                "label": row["label"],
                "decision": decision,
                "adjudicator": row["adjudicator"].strip(),
            }
        )
    return pd.DataFrame(out, columns=["post_id", "label", "decision", "adjudicator"])


def check_adjudication_covers(adjudicated: pd.DataFrame, disagreed: pd.DataFrame, path: Path | str) -> None:
    """Every disagreement must have its row in the adjudicator's sheet (its decision may stay empty).

    A missing row means the sheet was decided before the returns changed: the gold would
    silently leave new disagreements undecided.
    """
    returned = set(zip(adjudicated["post_id"], adjudicated["label"]))
    missing = [(p, label) for p, label in zip(disagreed["post_id"], disagreed["label"]) if (p, label) not in returned]
    if missing:
        post_id, label = missing[0]
        raise InputError(
            f"{path}: {len(missing)} of {len(disagreed)} disagreements are not in the adjudicator's sheet "
            f"(e.g. post {post_id!r} field '{label}'): send the current "
            "results/annotation/adjudication/to_adjudicate.csv to the adjudicator"
        )


def build_gold(
    judgements: pd.DataFrame,
    adjudicated: pd.DataFrame,
    majority_fallback: bool,
    sample_ids: list[str] | None = None,
    required: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(gold, undecided)``: one row per (post, label) with a value and its provenance; and the rest,
    with the reason: a disagreement nobody decided, or a required label no annotator gave."""
    decisions = {(r.post_id, r.label): (r.decision, r.adjudicator) for r in adjudicated.itertuples(index=False)}
    gold, undecided = [], []
    for (post_id, label), group in judgements.groupby(["post_id", "label"], sort=True):
        values = dict(zip(group["annotator"], group["value"]))
        shown = "; ".join(f"{a}={v}" for a, v in sorted(values.items()))
        counts = pd.Series(list(values.values())).value_counts()
        base = {"post_id": post_id, "label": label, "n_annotators": len(values), "annotator_values": shown}
        decision, adjudicator = decisions.get((post_id, label), ("", ""))
        if len(counts) == 1:
            provenance = "single" if len(values) == 1 else "unanimous"
            gold.append({**base, "value": counts.index[0], "provenance": provenance, "decided_by": ""})
        elif decision:
            gold.append({**base, "value": decision, "provenance": "adjudicated", "decided_by": adjudicator})
        elif majority_fallback and counts.iloc[0] > len(values) / 2:
            gold.append({**base, "value": counts.index[0], "provenance": "majority", "decided_by": ""})
        else:
            undecided.append({**base, "reason": "disagreement without a decision"})
    given = set(zip(judgements["post_id"], judgements["label"]))
    for post_id in sorted(sample_ids or []):
        for label in required:
            if (post_id, label) not in given:
                undecided.append(
                    {
                        "post_id": post_id,
                        "label": label,
                        "n_annotators": 0,
                        "annotator_values": "",
                        "reason": "no annotator gave a value",
                    }
                )
    gold_frame = pd.DataFrame(gold, columns=GOLD_COLUMNS)
    gold_frame["n_annotators"] = gold_frame["n_annotators"].astype("int64")
    undecided_frame = pd.DataFrame(
        undecided, columns=["post_id", "label", "n_annotators", "annotator_values", "reason"]
    )
    return gold_frame, undecided_frame
