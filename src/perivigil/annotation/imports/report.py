"""What an import read and set aside: counts per annotator, per file and per reason."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

REPORT_COLUMNS = ("annotator", "file", "what", "count")


@dataclass
class ImportReport:
    """Counts per ``(annotator, what)`` and per ``(annotator, file, what)``; the posts each annotator skipped."""

    counts: Counter = field(default_factory=Counter)
    by_file: Counter = field(default_factory=Counter)
    skipped: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    formats: dict[str, str] = field(default_factory=dict)  # file -> the format recognised

    def add(self, annotator: str, what: str, n: int = 1, file: str = "") -> None:
        if n:
            self.counts[(annotator, what)] += n
            self.by_file[(annotator, file, what)] += n

    def rename(self, old: str, new: str) -> None:
        """Give ``old``'s counts and skips to ``new`` (a tool user who turned out to be the folder's one annotator)."""
        for (annotator, what), n in list(self.counts.items()):
            if annotator == old:
                del self.counts[(annotator, what)]
                self.counts[(new, what)] += n
        for (annotator, file, what), n in list(self.by_file.items()):
            if annotator == old:
                del self.by_file[(annotator, file, what)]
                self.by_file[(new, file, what)] += n
        if old in self.skipped:
            self.skipped[new] |= self.skipped.pop(old)

    def rows(self) -> list[dict[str, object]]:
        """One row per annotator, file and reason (the rows of ``import_report.csv``)."""
        return [{"annotator": a, "file": f, "what": w, "count": n} for (a, f, w), n in sorted(self.by_file.items())]

    def lines(self) -> list[str]:
        """The report as text: the format recognised for each file, then every count."""
        out = [f"{path}: read as {fmt}" for path, fmt in sorted(self.formats.items())]
        out += [f"{a}\t{f}\t{w}\t{n}" for (a, f, w), n in sorted(self.by_file.items())]
        return out
