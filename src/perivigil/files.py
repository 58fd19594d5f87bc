"""Write outputs atomically: a file appears under its final name complete, or not at all.

A crash or an error while writing leaves no half-written file in ``results/``
(the temporary file beside it is removed), so Snakemake and the user never
mistake a truncated table for a result.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def iter_json_lines(path: Path | str, encoding: str = "utf-8"):
    """``(where, object)`` for each non-blank line of a JSONL file; a bad line raises naming file and line."""
    import json

    from perivigil.errors import InputError

    path = Path(path)
    with path.open("r", encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
