"""Shards: one collection job per forum, per Reddit dump file, per Bluesky month."""

import pytest

from perivigil.collect.shards import dump_of, months, raw_path, report_path, shards


def test_months_are_inclusive_and_cross_the_new_year():
    assert months("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert months("2024-05", "2024-05") == ["2024-05"]
    assert months("2024-06", "2024-05") == []


def test_each_kind_of_source_has_its_shards_and_paths():
    forum = {"name": "demo_forum", "profile": "p.yaml", "start_url": "https://x.example/"}
    reddit = {
        "name": "reddit_fr",
        "type": "reddit_dump",
        "subreddits": ["france"],
        "dumps": ["/data/RS_2024-01.zst", "dumps/RC_2024-01.zst"],
    }
    bluesky = {"name": "bsky", "type": "bluesky", "queries": ["ibuprofène"], "since": "2024-12", "until": "2025-01"}
    assert shards(forum) == ["posts"]
    assert shards(reddit) == ["RS_2024-01", "RC_2024-01"]
    assert shards(bluesky) == ["2024-12", "2025-01"]
    assert raw_path(reddit, "RC_2024-01") == "raw/reddit_fr/RC_2024-01.jsonl"
    assert report_path(forum, "posts") == "results/corpus/collection/demo_forum.csv"
    assert report_path(bluesky, "2025-01") == "results/corpus/collection/bsky/2025-01.csv"
    assert dump_of(reddit, "RC_2024-01") == "dumps/RC_2024-01.zst"
    with pytest.raises(KeyError, match="no dump file for shard 'RC_2024-02'"):
        dump_of(reddit, "RC_2024-02")


def test_the_shards_reports_add_up_per_source_in_the_order_rows_first_appear(tmp_path):
    import pandas as pd

    from perivigil.collect.run import combine_reports

    header = "source,level,outcome,reason,count\n"
    (tmp_path / "a.csv").write_text(header + "forum,page,kept,index,1\nforum,post,kept,,10\n")
    (tmp_path / "b.csv").write_text(header + "reddit,post,kept,,3\nreddit,post,dropped,removed,1\n")
    (tmp_path / "c.csv").write_text(header + "reddit,post,kept,,4\nreddit,post,dropped,deleted,2\n")
    table = combine_reports([tmp_path / name for name in ("a.csv", "b.csv", "c.csv")], tmp_path / "all.csv")
    assert table.values.tolist() == [
        ["forum", "page", "kept", "index", 1],
        ["forum", "post", "kept", "", 10],
        ["reddit", "post", "kept", "", 7],
        ["reddit", "post", "dropped", "removed", 1],
        ["reddit", "post", "dropped", "deleted", 2],
    ]
    assert pd.read_csv(tmp_path / "all.csv", keep_default_na=False).equals(table)
