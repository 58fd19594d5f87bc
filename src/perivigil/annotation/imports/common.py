"""What every reader shares: the context of one inbox folder, one judgement, the checks on a post."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from perivigil.annotation.exports import text_hash
from perivigil.annotation.imports.report import ImportReport
from perivigil.annotation.scheme import Scheme
from perivigil.errors import InputError
from perivigil.files import read_text

JUDGEMENT_COLUMNS = ("post_id", "annotator", "label", "value", "source_file", "annotated_at")


@dataclass(frozen=True)
class Context:
    """The scheme, the sample's texts, the inbox folder's name (``annotator``), the report, and the tool users.

    ``tool_users`` maps a tool's user (Label Studio id or e-mail, doccano or INCEpTION user name) to a
    study annotator (``annotation.tool_users``). A user not mapped is named ``<folder>:<user>`` until the
    folder is read; a folder whose exports hold one user only, unmapped, gives it the folder's name.
    """

    scheme: Scheme
    texts: dict[str, str]
    annotator: str
    report: ImportReport
    tool_users: Mapping[str, str] = field(default_factory=dict)
    provisional: set[str] = field(default_factory=set)  # unmapped tool users, as <folder>:<user>
    users: set[str] = field(default_factory=set)  # every tool user's annotator seen in the folder
    aliases: dict[str, str] = field(default_factory=dict)  # unpacked archive folder -> "<archive>/"

    def shown(self, path: Path | str) -> str:
        """A path as the report and the messages show it: an archive's member as ``<archive>/<member>``."""
        text = Path(path).as_posix()
        for unpacked, archive in self.aliases.items():
            if text.startswith(unpacked + "/"):
                return archive + text[len(unpacked) :]
        return text

    def who(self, *user: object) -> str:
        """The annotator of a tool user (given by id, e-mail or name, first mapped one wins)."""
        keys = [str(u).strip() for u in user if u not in (None, "")]
        if not keys:
            return self.annotator
        mapped = [self.tool_users[key] for key in keys if key in self.tool_users]
        name = mapped[0] if mapped else f"{self.annotator}:{keys[0]}"
        (self.users if mapped else self.provisional).add(name)
        return name

    def add(self, what: str, n: int = 1, *, file: Path | str, annotator: str | None = None) -> None:
        self.report.add(annotator or self.annotator, what, n, self.shown(file))


def judgement(
    ctx: Context,
    post_id: object,
    label: str,
    raw: object,
    where: str,
    source: Path,
    annotated_at: str = "",
    annotator: str | None = None,
) -> dict[str, str] | None:
    post_id = str(post_id).strip()
    if post_id not in ctx.texts:
        raise InputError(f"{where}: field 'post_id' {post_id!r} is not in the annotation sample")
    if not ctx.scheme.has(label):
        raise InputError(f"{where}: field '{label}' is not a label of the scheme {list(ctx.scheme.names)}")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None  # a missing judgement is an absent row, never a guess
    value = ctx.scheme[label].parse(raw, where)
    if value is None:  # a NaN cell: missing too (a row with no value would fail the annotations schema)
        return None
    return {
        "post_id": post_id,
        "annotator": annotator or ctx.annotator,
        "label": label,
        "value": value,
        "source_file": ctx.shown(source),
        "annotated_at": annotated_at,
    }


def load_json(path: Path) -> object:
    text = read_text(path, "annotation export")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (truncated file?)" if not text.rstrip().endswith(("]", "}")) else ""
        raise InputError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}") from None


def check_post(ctx: Context, post_id: object, where: str) -> str:
    post_id = str(post_id if post_id is not None else "").strip()
    if post_id not in ctx.texts:
        raise InputError(f"{where}: field 'post_id' {post_id!r} is not in the annotation sample")
    return post_id


def check_text(
    ctx: Context, post_id: str, text: str | None, digest: str | None, where: str, final_newline_added: bool = False
) -> None:
    """Refuse an edited text; ``final_newline_added``: the tool added a final newline (brat's import does)."""
    expected = text_hash(ctx.texts[post_id])
    if text is not None and final_newline_added and text.endswith("\n") and not ctx.texts[post_id].endswith("\n"):
        text = text[:-1]
    if (text is not None and text_hash(text) != expected) or (digest and digest != expected):
        raise InputError(f"{where}: field 'text' was edited (its hash no longer matches the sample)")


def post_labels(
    ctx: Context, post_id: str, values: dict[str, object], where: str, source: Path, annotator: str | None = None
) -> list[dict[str, str]]:
    """Judgements of one post from ``{label: raw value}``; a post with no value is counted, not read."""
    if all(v in (None, "") for v in values.values()):
        ctx.add("tasks without annotation", file=source, annotator=annotator)
        return []
    ctx.add("tasks read", file=source, annotator=annotator)
    rows = []
    for name, raw in values.items():
        row = judgement(ctx, post_id, name, raw, where, source, annotator=annotator)
        if row:
            rows.append(row)
    return rows
