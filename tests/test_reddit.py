"""The Reddit monthly-dump connector: RS_/RC_YYYY-MM.zst (Pushshift, Arctic Shift) -> raw JSONL.

Every dump here is written as the real ones are: zstd with a 2 GiB window (window log 31),
streamed, so that no content size is written in the frame header. Expected values are
written out so that a reader can check them by hand (1704067200 is 2024-01-01 00:00 UTC).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from perivigil.cli import main
from perivigil.collect import reddit
from perivigil.collect.crawler import CollectionReport
from perivigil.collect.records import FIELD_ORDER, check_raw_record
from perivigil.collect.reddit import collect_dump, filter_dump, iter_dump_lines
from perivigil.errors import InputError

FRANCE = ("france", "besoindeparler")
T0 = 1704067200  # 2024-01-01T00:00:00+00:00


# ----------------------------------------------------------------------------- writing dumps as the real ones are
def compress(data: bytes, *, frames: int = 1, window_log: int = 31) -> bytes:
    """zstd with a 2 GiB window, streamed (no content size), split into ``frames`` frames."""
    params = zstandard.ZstdCompressionParameters(window_log=window_log, compression_level=3, write_checksum=True)
    out = io.BytesIO()
    writer = zstandard.ZstdCompressor(compression_params=params).stream_writer(out, closefd=False)
    step = -(-len(data) // frames) if data else 1
    for start in range(0, max(len(data), 1), step):
        writer.write(data[start : start + step])
        writer.flush(zstandard.FLUSH_FRAME)
    writer.close()
    return out.getvalue()


def ndjson(items: list) -> bytes:
    return "".join(
        (item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)) + "\n" for item in items
    ).encode("utf-8")


def write_dump(path: Path, items: list, **kwargs) -> Path:
    path.write_bytes(compress(ndjson(items), **kwargs))
    return path


def submission(id_: str, subreddit: str = "france", **fields) -> dict:
    item = {
        "id": id_,
        "subreddit": subreddit,
        "author": "auteur_" + id_,
        "created_utc": T0,
        "title": "Titre " + id_,
        "selftext": "Texte " + id_,
        "edited": False,
        "permalink": f"/r/{subreddit}/comments/{id_}/titre/",
        "retrieved_on": T0 + 60,
    }
    item.update(fields)
    return {key: value for key, value in item.items() if value is not None}


def comment(id_: str, link: str, parent: str, subreddit: str = "france", **fields) -> dict:
    item = {
        "id": id_,
        "subreddit": subreddit,
        "author": "auteur_" + id_,
        "created_utc": T0,
        "body": "Réponse " + id_,
        "link_id": link,
        "parent_id": parent,
        "edited": False,
        "retrieved_on": T0 + 60,
    }
    item.update(fields)
    return {key: value for key, value in item.items() if value is not None}


def collect(path: Path, **kwargs) -> tuple[list[dict], CollectionReport]:
    report = CollectionReport("reddit")
    records = list(
        filter_dump(path, source="reddit", subreddits=kwargs.pop("subreddits", FRANCE), report=report, **kwargs)
    )
    return records, report


def dropped(report: CollectionReport) -> dict[str, int]:
    return {reason: n for (level, outcome, reason), n in report.counts.items() if outcome == "dropped" and n}


# ----------------------------------------------------------------------------- submissions
SUBMISSIONS = [
    submission("aaa1", "AskReddit"),  # 1 other subreddit
    submission(
        "18v1abc",
        title="Roaccutane et grossesse",
        author="marie_l",  # 2 kept
        selftext="Je suis enceinte de 6 SA… j'ai pris du Curacné &amp; du Doliprane 😟",
        permalink="/r/france/comments/18v1abc/roaccutane_et_grossesse/",
    ),
    submission(
        "18v2def",
        "France",
        title="Advil à 7 mois ?",
        selftext="",  # 3 kept: title alone
        created_utc=str(T0 + 3600),
        permalink=None,
        retrieved_on=None,
    ),
    submission("18v3ghi", author="[deleted]", selftext="[deleted]"),  # 4 deleted
    submission("18v4jkl", selftext="[removed]"),  # 5 removed
    submission(
        "18v5mno",
        selftext="Rétabli après coup",  # 6 kept (Arctic Shift)
        _meta={"retrieved_2nd_on": T0 + 86400 * 2, "was_initially_deleted": True, "removal_type": "deleted"},
    ),
    submission(
        "18v6pqr",
        _meta={
            "retrieved_2nd_on": T0 + 86400 * 2,
            "was_deleted_later": True,  # 7 deleted later
            "removal_type": "deleted",
        },
    ),
    {"id": "18v7stu", "created_utc": T0, "title": "Pub", "selftext": "", "promoted": True},  # 8 an ad: no subreddit
    submission("18v8vwx", selftext="Texte modifié", edited=T0 + 86400),  # 9 kept, edited
]


def test_submissions_become_raw_records(tmp_path):
    dump = write_dump(tmp_path / "RS_2024-01.zst", SUBMISSIONS)
    records, _ = collect(dump)
    assert [r["post_id"] for r in records] == ["t3_18v1abc", "t3_18v2def", "t3_18v5mno", "t3_18v8vwx"]
    assert records[0] == {
        "source": "reddit",
        "post_id": "t3_18v1abc",
        "thread_id": "t3_18v1abc",
        "parent_id": "",
        "thread_title": "Roaccutane et grossesse",
        "board": "france",
        "url": "https://www.reddit.com/r/france/comments/18v1abc/roaccutane_et_grossesse/",
        "author": "marie_l",
        "created_at": "2024-01-01T00:00:00+00:00",
        "collected_at": "2024-01-01T00:01:00+00:00",
        "language": "",
        "text": "Roaccutane et grossesse\n\nJe suis enceinte de 6 SA… j'ai pris du Curacné & du Doliprane 😟",
        "raw_location": "RS_2024-01.zst:2",
    }
    assert list(records[0]) == list(FIELD_ORDER)
    for number, record in enumerate(records):
        check_raw_record(record, f"record {number}")  # the contract every connector meets


def test_submission_details(tmp_path):
    records, _ = collect(write_dump(tmp_path / "RS_2024-01.zst", SUBMISSIONS))
    by_id = {r["post_id"]: r for r in records}
    title_only = by_id["t3_18v2def"]
    assert title_only["text"] == "Advil à 7 mois ?"  # empty selftext: the title alone
    assert title_only["board"] == "France"  # as written in the dump
    assert title_only["created_at"] == "2024-01-01T01:00:00+00:00"  # created_utc as a string
    assert title_only["collected_at"] == "2024-01-01T01:00:00+00:00"  # no retrieval time: the creation time
    assert title_only["url"] == "https://www.reddit.com/r/France/comments/18v2def/"  # no permalink: built
    assert title_only["raw_location"] == "RS_2024-01.zst:3"
    restored = by_id["t3_18v5mno"]
    assert restored["text"] == "Titre 18v5mno\n\nRétabli après coup"
    assert restored["collected_at"] == "2024-01-03T00:00:00+00:00"  # text restored at the 2nd retrieval
    edited = by_id["t3_18v8vwx"]
    assert edited["text"] == "Titre 18v8vwx\n\nTexte modifié"  # kept, as the dump holds it
    assert edited["created_at"] == "2024-01-01T00:00:00+00:00"


def test_submission_drops_are_counted(tmp_path):
    _, report = collect(write_dump(tmp_path / "RS_2024-01.zst", SUBMISSIONS))
    assert report.get("post", "kept") == 4
    assert dropped(report) == {"other_subreddit": 2, "deleted": 1, "removed": 1, "deleted_later": 1}
    assert report.total("post", "kept") + report.total("post", "dropped") == len(SUBMISSIONS)


# ----------------------------------------------------------------------------- comments
COMMENTS = [
    comment(
        "kfa1",
        "t3_18v1abc",
        "t3_18v1abc",
        body="Ibuprofène à 7 mois ? Surtout pas &gt; 24 SA !",
        created_utc=f"{T0 + 100}.0",
        retrieved_on=None,
        retrieved_utc=T0 + 200,
    ),  # 1 kept, top level
    comment(
        "kfa2",
        "t3_18v1abc",
        "t1_kfa1",
        subreddit="BesoinDeParler",
        body="Merci 🙏",  # 2 kept, a reply
        permalink="/r/BesoinDeParler/comments/18v1abc/roaccutane_et_grossesse/kfa2/",
    ),
    comment("kfa3", "t3_18v1abc", "t1_kfa1", author="[deleted]", body="[deleted]"),  # 3 deleted
    comment("kfa4", "t3_18v1abc", "t1_kfa1", body="[removed]"),  # 4 removed
    comment("kfa5", "t3_18v1abc", "t1_kfa1", body="  \n "),  # 5 empty text
    comment("kfa6", "t3_18v1abc", "t1_kfa2", author="[deleted]", body="Compte supprimé, texte resté"),  # 6 kept
    comment("kfb1", "t3_zz", "t3_zz", subreddit="AskReddit"),  # 7-9 other subreddits
    comment("kfb2", "t3_zz", "t3_zz", subreddit="pics", body="france"),
    comment("kfb3", "t3_zz", "t3_zz", subreddit="francais"),
]


def test_comments_become_raw_records(tmp_path):
    records, report = collect(write_dump(tmp_path / "RC_2024-01.zst", COMMENTS))
    assert [r["post_id"] for r in records] == ["t1_kfa1", "t1_kfa2", "t1_kfa6"]
    top, reply, orphan = records
    assert top == {
        "source": "reddit",
        "post_id": "t1_kfa1",
        "thread_id": "t3_18v1abc",
        "parent_id": "t3_18v1abc",
        "thread_title": "",
        "board": "france",
        "url": "https://www.reddit.com/r/france/comments/18v1abc/_/kfa1/",
        "author": "auteur_kfa1",
        "created_at": "2024-01-01T00:01:40+00:00",
        "collected_at": "2024-01-01T00:03:20+00:00",
        "language": "",
        "text": "Ibuprofène à 7 mois ? Surtout pas > 24 SA !",
        "raw_location": "RC_2024-01.zst:1",
    }
    assert (reply["parent_id"], reply["thread_id"], reply["board"]) == ("t1_kfa1", "t3_18v1abc", "BesoinDeParler")
    assert reply["url"] == "https://www.reddit.com/r/BesoinDeParler/comments/18v1abc/roaccutane_et_grossesse/kfa2/"
    assert reply["text"] == "Merci 🙏"
    assert (orphan["author"], orphan["text"]) == ("[deleted]", "Compte supprimé, texte resté")
    assert report.get("post", "kept") == 3
    assert dropped(report) == {"other_subreddit": 3, "deleted": 1, "removed": 1, "empty_text": 1}


def test_submission_and_comment_ids_are_separate_id_spaces(tmp_path):
    rs = write_dump(tmp_path / "RS_2024-01.zst", [submission("abc")])
    rc = write_dump(tmp_path / "RC_2024-01.zst", [comment("abc", "t3_abc", "t3_abc")])
    assert [r["post_id"] for r in collect(rs)[0] + collect(rc)[0]] == ["t3_abc", "t1_abc"]


def test_keep_filters_on_the_text_and_counts_the_misses(tmp_path):
    dump = write_dump(tmp_path / "RC_2024-01.zst", COMMENTS)
    records, report = collect(dump, keep=lambda text: "ibuprof" in text.lower())
    assert [r["post_id"] for r in records] == ["t1_kfa1"]
    assert dropped(report) == {"other_subreddit": 3, "deleted": 1, "removed": 1, "empty_text": 1, "no_lexicon_hit": 2}


def test_subreddits_match_whatever_the_case(tmp_path):
    dump = write_dump(tmp_path / "RC_2024-01.zst", COMMENTS)
    records, _ = collect(dump, subreddits=["FRANCE"])
    assert [r["post_id"] for r in records] == ["t1_kfa1", "t1_kfa6"]


# ----------------------------------------------------------------------------- the compressed stream
def test_multibyte_characters_on_decompression_chunk_boundaries(tmp_path):
    """ "é" (2 bytes), "…" and "œ" (3), an emoji (4) straddle the 8 KiB, 64 KiB and 128 KiB boundaries."""
    chars = {8192: "é", 2**16: "…", 2**17: "😟", 2**17 + 8192: "œ"}
    items, offset = [], 0
    for boundary, char in chars.items():
        head = json.dumps(comment(f"m{boundary}", "t3_x", "t3_x", body=""), ensure_ascii=False)
        head = head[: head.index('"body": ""') + len('"body": "')]
        pad = boundary - offset - len(head.encode()) - 1  # the character starts 1 byte before
        body = "a" * pad + char + " fin"
        line = json.dumps(comment(f"m{boundary}", "t3_x", "t3_x", body=body), ensure_ascii=False)
        assert line.encode().index(char.encode()) + offset == boundary - 1
        items.append(line)
        offset += len(line.encode()) + 1
    dump = write_dump(tmp_path / "RC_2024-01.zst", items)
    records, _ = collect(dump)
    assert [r["text"][-6:] for r in records] == ["aé fin", "a… fin", "a😟 fin", "aœ fin"]
    # and with the smallest chunks possible, every multibyte character is split somewhere
    lines = [line for _, line in iter_dump_lines(dump, chunk_size=1)]
    assert [json.loads(line)["body"] for line in lines] == [json.loads(line)["body"] for line in items]


def test_multi_frame_dump_reads_every_frame(tmp_path):
    items = [comment(f"c{i}", "t3_x", "t3_x", body=f"message {i} é") for i in range(500)]
    dump = write_dump(tmp_path / "RC_2024-01.zst", items, frames=7)
    assert len(collect(dump)[0]) == 500


def test_dump_with_a_normal_window_also_reads(tmp_path):
    dump = write_dump(tmp_path / "RC_2024-01.zst", COMMENTS, window_log=20)
    assert len(collect(dump)[0]) == 3


def test_window_log_31_needs_the_large_window():
    frame = compress(ndjson(COMMENTS))
    assert zstandard.get_frame_parameters(frame).window_size == 2**31
    assert zstandard.get_frame_parameters(frame).content_size == zstandard.CONTENTSIZE_UNKNOWN
    with pytest.raises(zstandard.ZstdError, match="too much memory"):
        zstandard.ZstdDecompressor().decompressobj().decompress(frame)  # why max_window_size is set


def test_frame_needing_more_than_2_gib_is_one_line(tmp_path):
    dump = tmp_path / "RC_2024-01.zst"
    dump.write_bytes(bytes([0x28, 0xB5, 0x2F, 0xFD, 0x00, 0xB0, 0x01, 0x00, 0x00]))  # window log 32, empty block
    with pytest.raises(InputError) as error:
        collect(dump)
    assert str(error.value).startswith(f"{dump}: zstd frame needs a window larger than 2 GiB")
    assert "\n" not in str(error.value)


def test_window_limit_is_what_the_reader_allows(tmp_path, monkeypatch):
    dump = write_dump(tmp_path / "RC_2024-01.zst", COMMENTS)
    monkeypatch.setattr(reddit, "MAX_WINDOW_SIZE", 2**20)
    with pytest.raises(InputError, match="needs a window larger than 1 MiB"):
        collect(dump)


@pytest.mark.parametrize("keep_bytes", [0.5, -3, 5])
def test_truncated_dump_is_an_error(tmp_path, keep_bytes):
    items = [comment(f"c{i}", "t3_x", "t3_x", body=f"message numéro {i} " * 20) for i in range(2000)]
    data = compress(ndjson(items))
    cut = int(len(data) * keep_bytes) if isinstance(keep_bytes, float) else keep_bytes % len(data)
    dump = tmp_path / "RC_2024-01.zst"
    dump.write_bytes(data[:cut])
    with pytest.raises(InputError) as error:
        collect(dump)
    message = str(error.value)
    assert message.startswith(f"{dump}: ") and "truncated" in message and "\n" not in message


def test_dump_cut_between_frames(tmp_path):
    """Cut exactly after a frame, a dump cannot be told from a shorter one; cut inside the next, it can."""
    first, second = compress(ndjson(COMMENTS[:3])), compress(ndjson(COMMENTS[3:]))
    dump = tmp_path / "RC_2024-01.zst"
    dump.write_bytes(first)
    assert [r["post_id"] for r in collect(dump)[0]] == ["t1_kfa1", "t1_kfa2"]
    dump.write_bytes(first + second[:6])
    with pytest.raises(InputError, match="truncated"):
        collect(dump)


def test_not_zstd_is_one_line(tmp_path):
    dump = tmp_path / "RC_2024-01.zst"
    dump.write_bytes(ndjson(COMMENTS))  # an uncompressed dump named .zst
    with pytest.raises(InputError) as error:
        collect(dump)
    assert str(error.value) == (
        f"{dump}: not a zstd file (zstd decompressor error: Unknown frame descriptor); "
        "expected a Reddit dump RS_/RC_YYYY-MM.zst"
    )


def test_empty_file_is_an_error(tmp_path):
    dump = tmp_path / "RC_2024-01.zst"
    dump.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty file, not a zstd dump"):
        collect(dump)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no such"):
        collect(tmp_path / "RC_2024-01.zst")


# ----------------------------------------------------------------------------- bad lines
@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"id": "x", "subreddit": "france"', "not valid JSON (Expecting ',' delimiter at column 34)"),
        ("not json", "not valid JSON (Expecting value at column 1)"),
        ("[1, 2]", "expected a JSON object, got list"),
        (
            '{"subreddit": "france", "created_utc": 1, "body": "b", "link_id": "t3_x", "parent_id": "t3_x"}',
            "field 'id' is missing",
        ),
        (
            '{"id": "x", "subreddit": "france", "body": "b", "link_id": "t3_x", "parent_id": "t3_x"}',
            "field 'created_utc' is missing",
        ),
        (
            '{"id": "x", "subreddit": "france", "created_utc": "hier", "body": "b", "link_id": "t3_x", '
            '"parent_id": "t3_x"}',
            "field 'created_utc' is not a Unix time: 'hier'",
        ),
        (
            '{"id": "x", "subreddit": "france", "created_utc": 1, "body": "b"}',
            "neither a submission (no 'title') nor a comment (no 'link_id')",
        ),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, line, problem):
    items = [json.dumps(comment("ok1", "t3_x", "t3_x")), json.dumps(comment("ok2", "t3_x", "t3_x")), line]
    dump = write_dump(tmp_path / "RC_2024-01.zst", items)
    with pytest.raises(InputError) as error:
        collect(dump)
    assert str(error.value) == f"{dump}, line 3: {problem}"


def test_lines_of_other_subreddits_are_checked_cheaply(tmp_path):
    """Other subreddits are not parsed (speed) but a line that is not one JSON object still stops."""
    dump = write_dump(
        tmp_path / "RC_2024-01.zst",
        [comment("a", "t3_x", "t3_x", subreddit="pics"), '{"id": "b", "subreddit": "pics", "body": "coupé'],
    )
    with pytest.raises(InputError, match=r", line 2: not valid JSON"):
        collect(dump)


def test_compact_json_and_nested_subreddits(tmp_path):
    """Dumps written without spaces read the same; a crosspost of r/france posted in r/pics is not kept."""
    crosspost = submission("x1", "pics", crosspost_parent_list=[submission("x0", "france")])
    lines = [
        json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        for item in (crosspost, submission("x2"), comment("x3", "t3_x2", "t3_x2", subreddit="FRANCE"))
    ]
    records, report = collect(write_dump(tmp_path / "RS_2024-01.zst", lines))
    assert [r["post_id"] for r in records] == ["t3_x2", "t1_x3"]
    assert dropped(report) == {"other_subreddit": 1}


def test_a_subreddit_that_is_missing_or_not_a_string_is_another_subreddit(tmp_path):
    items = [
        comment("a", "t3_x", "t3_x", subreddit=12, body="france"),
        {**comment("b", "t3_x", "t3_x", body="france"), "subreddit": None},
        {key: value for key, value in comment("c", "t3_x", "t3_x").items() if key != "subreddit"},
    ]
    records, report = collect(write_dump(tmp_path / "RC_2024-01.zst", items))
    assert records == [] and dropped(report) == {"other_subreddit": 3}


# ----------------------------------------------------------------------------- collect_dump: files
def test_collect_dump_writes_jsonl_and_report(tmp_path):
    dump = write_dump(tmp_path / "RC_2024-01.zst", COMMENTS)
    output, report_path = tmp_path / "raw/reddit/RC_2024-01.jsonl", tmp_path / "raw/reddit/RC_2024-01.csv"
    report = collect_dump(dump, output, source="reddit", subreddits=FRANCE, report_path=report_path)
    lines = output.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["post_id"] for line in lines] == ["t1_kfa1", "t1_kfa2", "t1_kfa6"]
    assert "Merci 🙏" in lines[1]  # written as UTF-8, not \u escapes
    assert report.get("post", "kept") == 3
    with report_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {"source": "reddit", "level": "post", "outcome": "kept", "reason": "", "count": "3"},
        {"source": "reddit", "level": "post", "outcome": "dropped", "reason": "deleted", "count": "1"},
        {"source": "reddit", "level": "post", "outcome": "dropped", "reason": "empty_text", "count": "1"},
        {"source": "reddit", "level": "post", "outcome": "dropped", "reason": "other_subreddit", "count": "3"},
        {"source": "reddit", "level": "post", "outcome": "dropped", "reason": "removed", "count": "1"},
    ]
    assert sorted(p.name for p in output.parent.iterdir()) == ["RC_2024-01.csv", "RC_2024-01.jsonl"]


def test_nothing_kept_is_not_an_error_but_a_warning(tmp_path, caplog):
    dump = write_dump(tmp_path / "RC_2024-01.zst", COMMENTS[6:])
    output = tmp_path / "out.jsonl"
    report = collect_dump(dump, output, source="reddit", subreddits=FRANCE)
    assert output.read_bytes() == b""
    assert report.get("post", "kept") == 0
    assert "RC_2024-01.zst: no post kept" in caplog.text


def test_failed_dump_leaves_no_output(tmp_path):
    items = [comment(f"c{i}", "t3_x", "t3_x", body=f"message {i} " * 30) for i in range(3000)]
    data = compress(ndjson(items))
    dump = tmp_path / "RC_2024-01.zst"
    dump.write_bytes(data[: len(data) // 2])
    output, report_path = tmp_path / "out/posts.jsonl", tmp_path / "out/report.csv"
    with pytest.raises(InputError, match="truncated"):
        collect_dump(dump, output, source="reddit", subreddits=FRANCE, report_path=report_path)
    assert list(output.parent.iterdir()) == []


def test_logs_hold_no_author_nor_url(tmp_path, caplog):
    caplog.set_level("DEBUG")
    dump = write_dump(tmp_path / "RS_2024-01.zst", SUBMISSIONS)
    collect_dump(dump, tmp_path / "out.jsonl", source="reddit", subreddits=FRANCE)
    assert "RS_2024-01.zst" in caplog.text
    for secret in ("marie_l", "auteur_", "reddit.com", "/r/"):
        assert secret not in caplog.text


# ----------------------------------------------------------------------------- command line
def test_cli_in_process(tmp_path, capsys):
    dump = write_dump(tmp_path / "RC_2024-01.zst", COMMENTS)
    output = tmp_path / "posts.jsonl"
    code = main(
        [
            "reddit-dump",
            "--input",
            str(dump),
            "--subreddit",
            "france",
            "--subreddit",
            "BesoinDeParler",
            "--output",
            str(output),
            "--report",
            str(tmp_path / "report.csv"),
        ]
    )
    assert code == 0
    assert [json.loads(line)["post_id"] for line in output.read_text().splitlines()] == [
        "t1_kfa1",
        "t1_kfa2",
        "t1_kfa6",
    ]
    assert capsys.readouterr().err == (
        "perivigil reddit-dump: RC_2024-01.zst: 3 posts kept; dropped: "
        "other_subreddit 3, deleted 1, empty_text 1, removed 1\n"
    )
    assert (tmp_path / "report.csv").exists()


def test_cli_source_name(tmp_path):
    dump = write_dump(tmp_path / "RS_2024-01.zst", SUBMISSIONS)
    output = tmp_path / "posts.jsonl"
    assert (
        main(
            [
                "reddit-dump",
                "--input",
                str(dump),
                "--subreddit",
                "france",
                "--output",
                str(output),
                "--source",
                "reddit_fr",
            ]
        )
        == 0
    )
    assert {json.loads(line)["source"] for line in output.read_text().splitlines()} == {"reddit_fr"}


@pytest.mark.slow
def test_cli_subprocess(tmp_path, root):
    dump = write_dump(tmp_path / "RC_2024-01.zst", COMMENTS)
    output = tmp_path / "posts.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "perivigil",
            "reddit-dump",
            "--input",
            str(dump),
            "--subreddit",
            "france",
            "--output",
            str(output),
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["post_id"] for line in output.read_text().splitlines()] == ["t1_kfa1", "t1_kfa6"]
    assert result.stderr.splitlines() == [
        "perivigil reddit-dump: RC_2024-01.zst: 2 posts kept; dropped: "
        "other_subreddit 4, deleted 1, empty_text 1, removed 1"
    ]


@pytest.mark.slow
def test_cli_bad_input_is_one_line_and_status_2(tmp_path, root):
    dump = tmp_path / "RC_2024-01.zst"
    dump.write_bytes(ndjson(COMMENTS))
    output = tmp_path / "posts.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "perivigil",
            "reddit-dump",
            "--input",
            str(dump),
            "--subreddit",
            "france",
            "--output",
            str(output),
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"perivigil reddit-dump: error: {dump}: not a zstd file (zstd decompressor error: Unknown frame "
        "descriptor); expected a Reddit dump RS_/RC_YYYY-MM.zst"
    ]
    assert not output.exists()
