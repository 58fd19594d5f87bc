"""brat standoff: a folder of ``<post_id>.ann`` / ``.txt`` (or brat's "download collection" archive).

Only the ``Post`` span's attributes and its notes (``name=value;name=value``) are the post's
labels. Spans of other types, their attributes and notes, relations, events, normalisations
and equivalences are counted in the import report by kind, never read as the post's. A note
on the post without any ``=`` is free text: counted, not read. brat's document import adds a
final newline to the text, which is not an edit.
"""

from __future__ import annotations

import re
from pathlib import Path

from perivigil.annotation.imports.common import Context, check_post, check_text, post_labels
from perivigil.errors import InputError
from perivigil.files import read_text

POST_SPAN = "Post"
_SPAN = re.compile(r"^(T\d+)\t(\S+) \d+ \d+(?:;\d+ \d+)*(?:\t.*)?$")
_ATTRIBUTE = re.compile(r"^[AM]\d+\t(\S+) ([TERN]\d+)(?: (\S+))?$")
_NOTE = re.compile(r"^#\d+\tAnnotatorNotes (\S+)(?:\t(.*))?$")
_OTHER = {
    "R": "relations (not read)",
    "E": "events (not read)",
    "N": "normalisations (not read)",
    "*": "equivalences (not read)",
}


def _post_note(text: str, where: str, values: dict[str, str]) -> bool:
    """Read ``name=value;…`` into ``values``; ``False`` for a free-text note (no ``=`` at all)."""
    if "=" not in text:
        return False
    for pair in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, raw = pair.partition("=")
        if not sep:
            raise InputError(f"{where}: note {pair!r} is not name=value")
        values[name.strip()] = raw.strip()
    return True


def _read_ann(ann: Path, ctx: Context) -> dict[str, str]:
    lines = read_text(ann, "brat annotation file").splitlines()
    types = {m.group(1): m.group(2) for m in map(_SPAN.match, lines) if m}
    values: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        where = f"{ctx.shown(ann)}, line {number}"
        if not line.strip():
            continue
        if match := _SPAN.match(line):
            if match.group(2) != POST_SPAN:
                ctx.add(f"spans of another type (not read): {match.group(2)}", file=ann)
        elif match := _ATTRIBUTE.match(line):
            if types.get(match.group(2)) == POST_SPAN:
                values[match.group(1)] = match.group(3) if match.group(3) is not None else "1"
            else:
                ctx.add(f"attributes of another span, event or relation (not read): {match.group(1)}", file=ann)
        elif match := _NOTE.match(line):
            if types.get(match.group(1)) != POST_SPAN:
                ctx.add("notes on another span, event or relation (not read)", file=ann)
            elif not _post_note(match.group(2) or "", where, values):
                ctx.add("free-text notes on the post (not name=value, not read)", file=ann)
        elif line[0] in _OTHER:
            ctx.add(_OTHER[line[0]], file=ann)
        else:
            raise InputError(f"{where}: unreadable brat annotation line")
    return values


def read_brat(folder: Path, ctx: Context) -> list[dict[str, str]]:
    rows = []
    for ann in sorted(folder.glob("*.ann")):
        post_id = check_post(ctx, ann.stem, f"{ctx.shown(ann)} (the file name)")
        txt = ann.with_suffix(".txt")
        if txt.exists():
            check_text(ctx, post_id, read_text(txt, "brat text file"), None, ctx.shown(txt), final_newline_added=True)
        values = _read_ann(ann, ctx)
        rows.extend(post_labels(ctx, post_id, dict(sorted(values.items())), ctx.shown(ann), ann))
    return rows
