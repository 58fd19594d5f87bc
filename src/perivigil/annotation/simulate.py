"""Simulated annotators and adjudicator for the demo: returns written in the tools' own formats.

The demo has no clinicians, so three simulated annotators start from the demo forum's
truth (``resources/demo_forum/truth.csv``) and err with the profiles set in config
(``annotation.simulation``): ``misses_questions`` (reads a question about a drug as an
intake), ``confuses_low_dose_aspirin`` (counts Kardégic at >= 24 SA), ``flip_rate``
(random slips on each categorical label). Each writes its return in another tool's
export format, with the quirks those exports have (a skipped task, a relabelled task,
a draft, integer ids, a byte-order mark), so the demo goes through the same import
code as a real study. The simulated adjudicator (a CRAT expert) decides from the truth.
All draws come from the seed in config.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from perivigil.annotation.exports import save_xlsx, text_hash
from perivigil.annotation.scheme import Scheme
from perivigil.models.rules import RuleThresholds

# The demo's truth (resources/demo_forum/truth.csv) labels posts at the protocol's thresholds
# (study protocol §2): a simulated annotator's slips follow the same definition. A study that
# moves config `rules` changes its rule system, not what its (simulated) annotators were told.
PROTOCOL = RuleThresholds()


def truth_values(truth_row: pd.Series, scheme: Scheme) -> dict[str, str]:
    """The truth of a post as scheme values (strings; missing optional values left out)."""
    values = {}
    for label in scheme.labels:
        raw = truth_row.get(label.name)
        if raw is None or (isinstance(raw, float) and raw != raw) or raw == "":
            if label.name == "exposure":
                values[label.name] = "none"
            continue
        text = str(raw)
        if label.name == "drug" and text not in label.values:
            text = "other"
        if not label.categorical:
            text = f"{float(raw):g}"
        values[label.name] = text
    return values


def noisy_values(truth_row: pd.Series, scheme: Scheme, profile: dict[str, Any], rng: random.Random) -> dict[str, str]:
    """One simulated annotator's values for one post."""
    values = truth_values(truth_row, scheme)
    ga = truth_row.get("gestational_age_sa")
    drug = truth_row.get("drug")
    if truth_row.get("exposure") == "intended" and rng.random() < profile.get("misses_questions", 0.0):
        values["exposure"] = "actual"
        if drug == "isotretinoin" and (ga != ga or ga <= PROTOCOL.iso_t1_max_sa):
            values["iso_t1"] = "1"
        elif drug != "isotretinoin" and ga == ga and ga >= PROTOCOL.nsaid_late_min_sa:
            values["nsaid_late"] = "1"
    dose = truth_row.get("dose_mg_day")
    if (
        drug == "aspirin"
        and dose == dose
        and dose < PROTOCOL.aspirin_min_mg_day
        and ga == ga
        and ga >= PROTOCOL.nsaid_late_min_sa
        and rng.random() < profile.get("confuses_low_dose_aspirin", 0.0)
    ):
        values["nsaid_late"] = "1"
    for label in scheme.labels:
        if label.categorical and label.name in values and rng.random() < profile.get("flip_rate", 0.0):
            others = [v for v in label.values if v != values[label.name]]
            values[label.name] = rng.choice(others)
    return values


def write_labelstudio(posts: pd.DataFrame, answers: list[dict[str, str]], path: Path) -> None:
    """A Label Studio JSON export: tasks with integer ids, one skipped, one relabelled, one draft."""
    tasks = []
    for index, (row, values) in enumerate(zip(posts.itertuples(index=False), answers), start=1):
        result = [
            {
                "id": f"r{index}{name}",
                "from_name": name,
                "to_name": "text",
                "type": "choices" if name not in ("gestational_age_sa", "dose_mg_day") else "number",
                "value": {"choices": [value]}
                if name not in ("gestational_age_sa", "dose_mg_day")
                else {"number": float(value)},
            }
            for name, value in values.items()
        ]
        annotation = {
            "id": 1000 + index,
            "completed_by": 1,
            "result": result,
            "was_cancelled": False,
            "created_at": f"2025-02-{1 + index % 27:02d}T10:00:00.000000Z",
            "updated_at": f"2025-02-{1 + index % 27:02d}T10:05:00.000000Z",
            "lead_time": 42.5,
        }
        task = {
            "id": index,
            "data": {"post_id": row.post_id, "text": row.text, "text_sha256": text_hash(row.text)},
            "annotations": [annotation],
            "drafts": [],
            "predictions": [],
            "project": 1,
        }
        if index == 2:  # a relabelled task: an earlier annotation, superseded
            earlier = dict(
                annotation,
                id=900,
                updated_at="2025-01-01T09:00:00.000000Z",
                result=[
                    dict(r, value={"choices": ["0"]})
                    if r["type"] == "choices" and r["from_name"] in ("iso_t1", "nsaid_late")
                    else r
                    for r in result
                ],
            )
            task["annotations"] = [earlier, annotation]
        if index == 3:  # a draft left in the task
            task["drafts"] = [{"id": 5, "result": [], "created_at": "2025-02-03T08:00:00Z"}]
        tasks.append(task)
    # the last task was skipped: its only annotation is cancelled
    tasks[-1]["annotations"] = [{"id": 4000, "completed_by": 1, "result": [], "was_cancelled": True}]
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8-sig")


def write_doccano(posts: pd.DataFrame, answers: list[dict[str, str]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for index, (row, values) in enumerate(zip(posts.itertuples(index=False), answers), start=1):
            handle.write(
                json.dumps(
                    {
                        "id": index,
                        "text": row.text,
                        "post_id": row.post_id,
                        "text_sha256": text_hash(row.text),
                        "label": [f"{k}:{v}" for k, v in values.items()],
                        "Comments": [],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


def write_sheet(posts: pd.DataFrame, answers: list[dict[str, str]], scheme: Scheme, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["post_id", "text", "text_sha256", *scheme.names, "comment"])
    for row, values in zip(posts.itertuples(index=False), answers):
        answered = [values.get(name, "") for name in scheme.names]
        cells: list[int | float | str] = [
            int(c) if c in ("0", "1") else (float(c) if c and c.replace(".", "").isdigit() else c) for c in answered
        ]
        sheet.append([row.post_id, row.text, text_hash(row.text), *cells, ""])
    save_xlsx(book, path)


def simulate_returns(
    sample: pd.DataFrame,
    assignments: pd.DataFrame,
    truth: pd.DataFrame,
    scheme: Scheme,
    profiles: dict[str, dict[str, Any]],
    inbox: Path,
    seed: int,
    only: Sequence[str] | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """Write each simulated annotator's return into ``inbox/<annotator>/`` (those in ``only`` when given; the
    first ``limit`` posts of each batch when given: a partial return); return posts per annotator.

    Each annotator's draws are seeded by their place among all ``profiles``, so that a return
    written alone is the one written with the others."""
    truth = truth.set_index("post_id")
    counts = {}
    for offset, (annotator, profile) in enumerate(sorted(profiles.items())):
        if only is not None and annotator not in only:
            continue
        rng = random.Random(seed + offset)
        ids = sorted(assignments.loc[assignments["annotator"] == annotator, "post_id"])[:limit]
        posts = sample.set_index("post_id").loc[ids, ["text"]].reset_index()
        answers = [noisy_values(truth.loc[post_id], scheme, profile, rng) for post_id in posts["post_id"]]
        folder = Path(inbox) / annotator
        folder.mkdir(parents=True, exist_ok=True)
        kind = profile["format"]
        if kind == "labelstudio":
            write_labelstudio(posts, answers, folder / "project-1-export.json")
        elif kind == "doccano":
            write_doccano(posts, answers, folder / "admin.jsonl")
        else:
            write_sheet(posts, answers, scheme, folder / "sheet.xlsx")
        counts[annotator] = len(posts)
    return counts


def adjudicate_from_truth(sheet_path: Path, truth: pd.DataFrame, scheme: Scheme, output: Path, adjudicator: str) -> int:
    """Fill the decision column of an adjudication sheet from the truth; return decisions made."""
    truth = truth.set_index("post_id")
    with sheet_path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        value = truth_values(truth.loc[row["post_id"]], scheme).get(row["label"], "")
        row["decision"], row["adjudicator"] = value, adjudicator if value else ""
    fields = list(rows[0]) if rows else ["post_id", "label", "decision", "adjudicator"]
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return sum(1 for r in rows if r["decision"])
