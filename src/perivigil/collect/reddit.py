"""Reddit monthly dumps (``RS_YYYY-MM.zst`` submissions, ``RC_YYYY-MM.zst`` comments) -> raw records.

The dumps of Pushshift (up to 2023-03) and Arctic Shift (from 2023-04) hold every public
submission or comment of a month, one JSON object per line (NDJSON), compressed with
zstd using a 2 GiB window (``zstd --long=31``) and streamed, so that no frame header
states the content size. :func:`filter_dump` streams one dump in constant memory and
yields, in dump order, the raw records (:mod:`perivigil.collect.records`) of the items
of the configured subreddits; :func:`collect_dump` writes them to a raw JSONL file
(atomically) with a collection report.

Formats, as their publishers describe them (checked 2026, public repositories):

- Watchful1/PushshiftDumps, ``scripts/single_file.py`` and ``scripts/filter_file.py``:
  dumps are read with ``zstandard.ZstdDecompressor(max_window_size=2**31)`` (a reader
  without it refuses them: "Frame requires too much memory for decoding"); ``created_utc``
  goes through ``int()``; a comment's ``link_id`` is "the fullname of the submission the
  comment is associated with" and its ``parent_id`` "the fullname of the parent of the
  comment. Either another comment or the submission"; the text is ``selftext`` for a
  submission, ``body`` for a comment; ``permalink`` is a path under ``https://www.reddit.com``.
  ``personal/diagnostic/count_subreddits_multiprocess.py``: "for the subreddit field
  especially, there are a number of posts that simply don't have a subreddit attached".
- ArthurHeitmann/arctic_shift, ``file_content_explanations.md``: from 2023-04 objects are
  sorted by ``created_utc``, text is UTF-8, keys are sorted, ``retrieved_on`` (UTC
  seconds) says when the object was retrieved; from 2023-11 every object is retrieved a
  second time 36 hours later and ``_meta`` says what changed: ``retrieved_2nd_on``,
  ``was_deleted_later``, ``was_initially_deleted`` (then ``body``/``selftext`` is
  restored), ``removal_type``, ``is_edited``, ``note``. Only a fixed list of counters
  (score, num_comments, locked…) takes the second retrieval's value: the text stays the
  first one's. ``schemas/RC.ts`` and ``schemas/RS.ts``: ``created_utc: number|string``,
  ``retrieved_on?: number|null``, ``retrieved_utc?: number`` (Pushshift), ``edited:
  boolean|number``, ``permalink`` optional on comments, ``author`` optional on submissions.
  ``download_links.md``: the dumps are published on Academic Torrents (a ``zst_blocks``
  variant of 2023-04..2024-03 is another container, not read here).
- Reddit's JSON escapes ``&``, ``<`` and ``>`` of the markdown as ``&amp;``, ``&lt;``,
  ``&gt;`` in ``body``, ``selftext`` and ``title`` (Lachcim/css-irl-bot#7: a typed ">" is
  ``&gt;``, a typed "&gt;" is ``&amp;gt;``): one :func:`html.unescape` restores the text.

Design choices:

- **Truncation is detected.** ``stream_reader`` returns the data decoded so far and then
  ``b""`` when the file ends inside a frame (checked with zstandard 0.25), so a dump cut
  by an interrupted download would look like a short month. Each frame is decoded by its
  own ``decompressobj()``: a file that ends while one is not at ``eof`` is truncated.
  Several frames are read one after the other (as ``zstd -d`` does).
- **UTF-8 across chunks.** Decompressed bytes go through :class:`io.TextIOWrapper`, whose
  incremental decoder keeps a character cut between two chunks ("é", "…", an emoji).
- **Other subreddits are skipped without parsing.** They are about 99 % of a dump (hundreds
  of GB a month), and ``json.loads`` of every line would be the bottleneck. A line none of
  whose ``"subreddit": "…"`` pairs names a configured subreddit (any case) cannot be an
  item of those subreddits: a key is never inside a JSON string (its quotes would be
  escaped) and subreddit names are ``[A-Za-z0-9_]``, never escaped. Such a line is only
  checked to be one ``{…}`` line and counted ``other_subreddit``; the others are parsed
  and checked in full. Items without a subreddit (ads) count as ``other_subreddit`` too.
- **Ids.** ``post_id`` is the fullname: ``t3_<id>`` for a submission, ``t1_<id>`` for a
  comment (two separate id spaces); ``thread_id`` is the submission's fullname (a
  comment's ``link_id``); ``parent_id`` is ``""`` for a submission, else the fullname of
  what the comment answers.
- **Kept and dropped.** Every item is counted in the report (level ``post``): kept, or
  dropped as ``other_subreddit``, ``deleted`` (text ``[deleted]``, or author ``[deleted]``
  and no text), ``removed`` (``[removed]``, ``[ Removed by Reddit ]``), ``deleted_later``
  (Arctic Shift saw it deleted or removed 36 hours later: its author or a moderator took
  it down, so the study does not keep it), ``empty_text`` or ``no_lexicon_hit`` (the
  optional ``keep`` filter). A submission whose body is deleted or removed is dropped
  even though its title survives. Edited items are kept with the text the dump holds (the
  edited text when the edit came before the retrieval).
- **Times.** ``created_at`` is ``created_utc`` (int, float or string) in UTC;
  ``collected_at`` is ``retrieved_on`` (else ``retrieved_utc``; ``_meta.retrieved_2nd_on``
  when the text was restored by the second retrieval), else the creation time.
- **Privacy.** Logs carry file names, line numbers and counts: never an author, a URL or
  a text (study protocol §7).
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import zstandard

from perivigil.collect.records import raw_record
from perivigil.errors import InputError
from perivigil.files import atomic_path, check_input_file
from perivigil.logs import Progress

if TYPE_CHECKING:  # imported when used: the forum crawler's module is not needed to read a dump
    from perivigil.collect.crawler import CollectionReport

LOG = logging.getLogger("perivigil.collect.reddit")

MAX_WINDOW_SIZE = 2**31  # the dumps' window (zstd --long=31); a frame that needs more is refused
READ_SIZE = zstandard.DECOMPRESSION_RECOMMENDED_INPUT_SIZE  # compressed bytes read at a time
CHUNK_SIZE = 2**20  # most decompressed bytes handed to the UTF-8 decoder at a time
PROGRESS_LINES = 1_000_000
REDDIT = "https://www.reddit.com"
DELETED, REMOVED = "[deleted]", "[removed]"
REMOVED_BY_REDDIT = "[ removed by reddit"
SOURCE_NAME = re.compile(r"[a-z0-9_]+")
DROP_REASONS = ("other_subreddit", "deleted", "removed", "deleted_later", "empty_text", "no_lexicon_hit")


# ----------------------------------------------------------------------------- the compressed stream
class _Truncated(Exception):
    """The file ended inside a zstd frame."""


class _Empty(Exception):
    """The file holds no byte at all."""


class _ZstdFrames(io.RawIOBase):
    """The decompressed bytes of a zstd file, frame after frame, at most ``chunk_size`` per read.

    Raises :class:`_Truncated` when the file ends inside a frame, :class:`_Empty` when it
    is empty, and :class:`zstandard.ZstdError` on data that is not zstd or is corrupt.
    """

    def __init__(self, handle: BinaryIO, chunk_size: int = CHUNK_SIZE) -> None:
        super().__init__()
        self._handle = handle
        self._dctx = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW_SIZE)
        self._frame: Any = None  # the decompressobj of the frame being read; None between frames
        self._pending = memoryview(b"")
        self._chunk_size = max(1, chunk_size)
        self._ended = False
        self.compressed_bytes = 0
        self.decompressed_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._ended:
            self._pending = memoryview(self._decompress_more())
        n = min(len(buffer), len(self._pending), self._chunk_size)
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _decompress_more(self) -> bytes:
        data = self._handle.read(READ_SIZE)
        if not data:
            self._ended = True
            if self._frame is not None:
                raise _Truncated
            if not self.compressed_bytes:
                raise _Empty
            return b""
        self.compressed_bytes += len(data)
        out = []
        while data:
            if self._frame is None:
                self._frame = self._dctx.decompressobj()
            out.append(self._frame.decompress(data))
            if self._frame.eof:  # the frame ended inside this read: the rest starts the next frame
                data, self._frame = self._frame.unused_data, None
            else:
                data = b""
        result = b"".join(out)
        self.decompressed_bytes += len(result)
        return result


def _size(n: int) -> str:
    for unit, power in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 2**power and n % 2**power == 0:
            return f"{n >> power} {unit}"
    return f"{n} bytes"


def _stream_error(path: Path, lines: int, stream: _ZstdFrames, error: Exception) -> InputError:
    """One line saying what is wrong with the compressed stream of ``path``."""
    after = f"after line {lines:,}" if lines else "before the first line"
    if isinstance(error, _Empty):
        return InputError(f"{path}: empty file, not a zstd dump (an interrupted download?)")
    if isinstance(error, _Truncated):
        return InputError(
            f"{path}: truncated: the zstd stream ends inside a frame, {after} "
            f"({stream.compressed_bytes:,} bytes read); download the dump again and check its "
            "size or SHA-256"
        )
    if isinstance(error, UnicodeDecodeError):
        return InputError(f"{path}: not valid UTF-8 text {after} (byte 0x{error.object[error.start]:02x})")
    message = str(error).replace("\n", " ")
    if "too much memory" in message or "window" in message.lower():
        return InputError(
            f"{path}: zstd frame needs a window larger than {_size(MAX_WINDOW_SIZE)} ({message}); "
            "the Reddit dumps use 2 GiB (zstd --long=31): not a Reddit dump?"
        )
    if not stream.decompressed_bytes and "Unknown frame descriptor" in message:
        return InputError(f"{path}: not a zstd file ({message}); expected a Reddit dump RS_/RC_YYYY-MM.zst")
    return InputError(f"{path}: corrupt zstd data {after} ({message}); download the dump again")


def iter_dump_lines(path: Path, *, chunk_size: int = CHUNK_SIZE) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a zstd-compressed NDJSON dump, in constant memory.

    ``chunk_size`` caps the decompressed bytes decoded at a time (1 in tests, to cut every
    multibyte character). A file that is not zstd, is corrupt, is truncated, or needs a
    window above :data:`MAX_WINDOW_SIZE` raises :class:`InputError` naming it.
    """
    path = check_input_file(path, "Reddit dump")
    number = 0
    with path.open("rb") as handle:
        stream = _ZstdFrames(handle, chunk_size)
        text = io.TextIOWrapper(
            io.BufferedReader(stream, buffer_size=max(1, chunk_size)), encoding="utf-8", newline="\n"
        )
        try:
            for number, line in enumerate(text, start=1):
                yield number, line
        except (zstandard.ZstdError, _Truncated, _Empty, UnicodeDecodeError) as error:
            raise _stream_error(path, number, stream, error) from None


# ----------------------------------------------------------------------------- one item
def _parse(line: str, where: str) -> dict[str, Any]:
    try:
        item = json.loads(line.rstrip("\n"))  # so that an error names a column of this line
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(item, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(item).__name__}")
    return item


def _unix_time(value: Any) -> datetime | None:
    """A UTC time from Unix seconds given as an int, a float or a string; None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return datetime.fromtimestamp(int(float(value)), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def created_time(item: dict[str, Any], where: str) -> datetime:
    """``created_utc`` as a UTC time; a missing or unreadable one raises naming the line."""
    if "created_utc" not in item or item["created_utc"] is None:
        raise InputError(f"{where}: field 'created_utc' is missing")
    moment = _unix_time(item["created_utc"])
    if moment is None:
        raise InputError(f"{where}: field 'created_utc' is not a Unix time: {item['created_utc']!r}")
    return moment


def collected_time(item: dict[str, Any], created: datetime) -> datetime:
    """When the dump read the text we keep (see the module docstring), else ``created``."""
    meta = item.get("_meta")
    if not isinstance(meta, dict):
        meta = {}
    candidates = [item.get("retrieved_on"), item.get("retrieved_utc")]
    if meta.get("was_initially_deleted") is True:
        candidates.insert(0, meta.get("retrieved_2nd_on"))
    for value in candidates:
        moment = _unix_time(value)
        if moment is not None:
            return moment
    return created


def item_kind(item: dict[str, Any], where: str) -> str:
    """``"comment"`` (it has a ``link_id``) or ``"submission"`` (it has a ``title``)."""
    if "link_id" in item:
        return "comment"
    if "title" in item:
        return "submission"
    raise InputError(f"{where}: neither a submission (no 'title') nor a comment (no 'link_id')")


def _string(item: dict[str, Any], name: str, where: str, required: bool = True) -> str:
    value = item.get(name)
    if value is None:
        if required:
            raise InputError(f"{where}: field '{name}' is missing")
        return ""
    if not isinstance(value, str):
        raise InputError(f"{where}: field '{name}' must be a string, got {type(value).__name__}")
    return value


def _fullname(value: str, prefix: str) -> str:
    """``t3_abc`` from ``abc`` or ``t3_abc`` (fullnames: ``t1_`` comment, ``t3_`` submission)."""
    return value if re.match(r"t\d_", value) else prefix + value


def _unescape(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def _gone(text: str) -> str | None:
    """``"deleted"`` or ``"removed"`` when ``text`` is Reddit's placeholder for a taken-down text."""
    stripped = text.strip()
    if stripped == DELETED:
        return "deleted"
    if stripped == REMOVED or stripped.lower().startswith(REMOVED_BY_REDDIT):
        return "removed"
    return None


def item_text(item: dict[str, Any], kind: str, where: str) -> tuple[str, str | None]:
    """``(text, reason to drop or None)``: title + body of a submission, body of a comment."""
    if kind == "comment":
        text = _unescape(_string(item, "body", where, required=False))
        gone = _gone(text)
    else:
        title = _unescape(_string(item, "title", where, required=False)).strip()
        body = _unescape(_string(item, "selftext", where, required=False))
        gone = _gone(body)
        text = f"{title}\n\n{body.strip()}" if body.strip() and not gone else title
    if gone:
        return text, gone
    meta = item.get("_meta")
    if isinstance(meta, dict) and meta.get("was_deleted_later") is True:
        return text, "deleted_later"
    if not text.strip():
        return text, "deleted" if item.get("author") == DELETED else "empty_text"
    return text, None


def _url(item: dict[str, Any], kind: str, subreddit: str, post: str, thread: str) -> str:
    permalink = item.get("permalink")
    if isinstance(permalink, str) and permalink.startswith("/"):
        return REDDIT + permalink
    if isinstance(permalink, str) and permalink.startswith("https://"):
        return permalink
    if kind == "comment":
        return f"{REDDIT}/r/{subreddit}/comments/{thread[3:]}/_/{post[3:]}/"
    return f"{REDDIT}/r/{subreddit}/comments/{post[3:]}/"


def to_record(item: dict[str, Any], kind: str, text: str, *, source: str, where: str, location: str) -> dict[str, str]:
    """The raw record of a kept item (see the module docstring for each field)."""
    item_id = _string(item, "id", where)
    if not item_id.strip():
        raise InputError(f"{where}: field 'id' is empty")
    created = created_time(item, where)
    subreddit = item["subreddit"]
    if kind == "comment":
        post_id = _fullname(item_id, "t1_")
        thread_id = _fullname(_string(item, "link_id", where), "t3_")
        parent_id = _string(item, "parent_id", where)
        title = ""
    else:
        post_id = thread_id = _fullname(item_id, "t3_")
        parent_id = ""
        title = _unescape(_string(item, "title", where, required=False)).strip()
    author = item.get("author")
    return raw_record(
        source=source,
        post_id=post_id,
        thread_id=thread_id,
        parent_id=parent_id,
        thread_title=title,
        board=subreddit,
        url=_url(item, kind, subreddit, post_id, thread_id),
        author=author if isinstance(author, str) else "",
        created_at=_iso(created),
        collected_at=_iso(collected_time(item, created)),
        language="",
        text=text,
        raw_location=location,
    )


# ----------------------------------------------------------------------------- a dump
def _wanted(subreddits: Collection[str]) -> frozenset[str]:
    names = frozenset(name.strip().removeprefix("/").removeprefix("r/").lower() for name in subreddits)
    names -= {""}
    if not names:
        raise InputError("no subreddit given: name at least one (e.g. france)")
    return names


def _subreddit_pattern(names: frozenset[str]) -> re.Pattern[str]:
    """``"subreddit": "<one of names, any case>"`` anywhere in a line (crossposts nest other items).

    A key never matches inside a JSON string, where its quotes would be escaped.
    """
    alternatives = "|".join(re.escape(name) for name in sorted(names))
    return re.compile(r'"subreddit"\s*:\s*"(?i:' + alternatives + ')"')


def filter_dump(
    path: Path,
    *,
    source: str,
    subreddits: Collection[str],
    keep: Callable[[str], bool] | None = None,
    report: CollectionReport,
) -> Iterator[dict[str, str]]:
    """The raw records of ``path``'s items posted in ``subreddits``, in dump order.

    ``keep`` (optional) tests a record's text (e.g. a lexicon hit). Every item is counted in
    ``report`` (complete once the iterator is exhausted): kept, or dropped with its reason
    (see the module docstring). Bad input raises :class:`InputError` naming the file and the line.
    """
    path = Path(path)
    if not SOURCE_NAME.fullmatch(source):
        raise InputError(f"source name {source!r}: expected lowercase letters, digits and _")
    names = _wanted(subreddits)
    ours = _subreddit_pattern(names)
    progress = Progress(f"reddit {path.name}", "lines")
    lines = kept = others = 0  # other subreddits: counted here, added to the report at the end (speed)
    for number, line in iter_dump_lines(path):
        lines = number
        if number % PROGRESS_LINES == 0:
            progress.advance(PROGRESS_LINES, f"{kept:,} posts kept")
        if not ours.search(line) and line.startswith("{") and line.endswith(("}\n", "}")):
            others += 1
            continue
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        item = _parse(line, where)
        subreddit = item.get("subreddit")
        if not isinstance(subreddit, str) or subreddit.lower() not in names:
            others += 1
            continue
        kind = item_kind(item, where)
        text, reason = item_text(item, kind, where)
        record = to_record(item, kind, text, source=source, where=where, location=f"{path.name}:{number}")
        if reason is None and keep is not None and not keep(text):
            reason = "no_lexicon_hit"
        if reason is not None:
            report.add("post", "dropped", reason)
            continue
        report.add("post", "kept", "")
        kept += 1
        yield record
    if others:
        report.add("post", "dropped", "other_subreddit", others)
    progress.done = lines
    progress.finish(f"{kept:,} posts kept")


def summary(path: Path, report: CollectionReport) -> str:
    """``RC_2024-01.zst: 3 posts kept; dropped: other_subreddit 3, deleted 1`` (counts only)."""
    return (
        f"{Path(path).name}: {report.get('post', 'kept'):,} posts kept; "
        f"dropped: {report.reasons('post', 'dropped') or 'none'}"
    )


def collect_dump(
    path: Path,
    output: Path,
    *,
    source: str,
    subreddits: Collection[str],
    keep: Callable[[str], bool] | None = None,
    report_path: Path | None = None,
) -> CollectionReport:
    """Write the raw records of one dump to ``output`` (JSONL, atomically), and its report to ``report_path``.

    A dump that keeps no post is not an error (a month may have none): it writes an empty
    file and logs a warning. A dump that fails leaves neither file.
    """
    from perivigil.collect.crawler import CollectionReport
    from perivigil.collect.run import write_report

    path, output = Path(path), Path(output)
    report = CollectionReport(source)
    with atomic_path(output) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as handle:
        for record in filter_dump(path, source=source, subreddits=subreddits, keep=keep, report=report):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if report.get("post", "kept") == 0:
        LOG.warning("%s: no post kept (dropped: %s)", path.name, report.reasons("post", "dropped") or "none")
    else:
        LOG.info("%s", summary(path, report))
    if report_path is not None:
        write_report(report, Path(report_path))
    return report
