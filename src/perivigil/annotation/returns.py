"""Whether the annotators have returned their batches: complete, partial, none, or withdrawn.

Annotators return their work over weeks. The study goes on to agreement and gold only
when every annotator has returned every post of their batch (study protocol §5: the
overlap subset must be annotated by all), or has been marked withdrawn in config
(``annotation.withdrawn``): then what they returned (possibly nothing) is used and the
import report says how much is missing. A post counts as returned when the annotator
gave it at least one value, or skipped it on purpose in the tool (Label Studio's
"Skip"); a task left untouched in an export does not count.

An annotator who returns a post outside their batch is refused: the likeliest cause is
another annotator's export dropped in the wrong folder, which would be read as theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from perivigil.errors import InputError


@dataclass(frozen=True)
class Returns:
    """One annotator's return: how many posts of their batch came back."""

    annotator: str
    assigned: int
    returned: int
    withdrawn: bool
    missing_example: str = ""  # one post of the batch not returned yet, for the message

    @property
    def complete(self) -> bool:
        return self.returned >= self.assigned

    @property
    def missing(self) -> int:
        return self.assigned - self.returned

    def describe(self) -> str:
        """``"ann_c (412 of 420)"``, ``"ann_b (none yet)"``, ``"ann_a (420 of 420)"``, ``"… withdrawn"``."""
        done = "none yet" if self.returned == 0 and self.assigned else f"{self.returned} of {self.assigned}"
        return f"{self.annotator} ({done}{', withdrawn' if self.withdrawn else ''})"


def returns_progress(
    judgements: pd.DataFrame,
    skipped: Mapping[str, set[str]],
    assignments: pd.DataFrame,
    annotators: Sequence[str],
    withdrawn: Sequence[str],
    inbox: Path | str,
) -> list[Returns]:
    """Each annotator's :class:`Returns`, in the order of ``annotators``.

    ``judgements`` is the long table of the import (post_id, annotator, …), ``skipped`` the
    posts each annotator skipped on purpose, ``assignments`` the batches (post_id,
    annotator). A returned post outside the annotator's batch raises naming the file.
    """
    progress = []
    for annotator in annotators:
        batch = set(assignments.loc[assignments["annotator"] == annotator, "post_id"])
        theirs = judgements[judgements["annotator"] == annotator]
        stray = theirs[~theirs["post_id"].isin(batch)]
        if len(stray):
            first = stray.iloc[0]
            raise InputError(
                f"{first.source_file}: post {first.post_id!r} is not in the batch of {annotator!r} "
                f"(another annotator's export in {Path(inbox) / annotator}/?)"
            )
        returned = (set(theirs["post_id"]) | set(skipped.get(annotator, set()))) & batch
        missing = sorted(batch - returned)
        progress.append(
            Returns(annotator, len(batch), len(returned), annotator in withdrawn, missing[0] if missing else "")
        )
    return progress


def waiting_for(progress: Sequence[Returns]) -> list[Returns]:
    """The annotators the study still waits for: incomplete and not withdrawn."""
    return [r for r in progress if not r.complete and not r.withdrawn]


def check_returns(progress: Sequence[Returns], inbox: Path | str) -> None:
    """Raise unless every annotator returned their whole batch or is withdrawn (one line, naming each)."""
    waiting = waiting_for(progress)
    if waiting:
        example = next(r.missing_example for r in waiting)
        raise InputError(
            f"{inbox}: waiting for returns from {', '.join(r.describe() for r in waiting)} "
            f"(e.g. post {example!r} not returned yet); rerun when they arrive, or list an annotator "
            "who will return nothing more in annotation.withdrawn"
        )


def report_rows(progress: Sequence[Returns]) -> list[dict[str, object]]:
    """Rows of the import report (annotator, file, what, count) for each annotator's return."""
    rows = []
    for r in progress:
        rows.append({"annotator": r.annotator, "file": "", "what": "posts assigned", "count": r.assigned})
        rows.append({"annotator": r.annotator, "file": "", "what": "posts returned", "count": r.returned})
        if r.withdrawn:
            rows.append(
                {
                    "annotator": r.annotator,
                    "file": "",
                    "what": "posts not returned (annotator withdrawn)",
                    "count": r.missing,
                }
            )
    return rows
