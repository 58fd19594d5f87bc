"""results/provenance.json: config hash, seeds, git state, Snakemake's job records, inputs and outputs."""

from __future__ import annotations

import base64
import json
import subprocess

from perivigil.provenance import build, config_sha256, git_state, job_records, seeds


def test_config_hash_is_the_sha256_of_canonical_json():
    # printf '{"a":1,"b":[2,"x"]}' | sha256sum
    expected = "454597f51f0e5988dd7d0864f82e826d91fd43ed815a21bb06cd7181e8547a2f"
    assert config_sha256({"b": [2, "x"], "a": 1}) == expected


def test_seeds_are_found_at_any_depth():
    config = {
        "split": {"seed": 1},
        "preprocess": {"near_duplicates": {"seed": 2}},
        "bootstrap_seed": 3,
        "models": {"seeds_note": "not a seed", "n": 4},
    }
    assert seeds(config) == {"split.seed": 1, "preprocess.near_duplicates.seed": 2, "bootstrap_seed": 3}


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_git_state_gives_the_commit_and_the_dirty_flag(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "one")
    state = git_state(tmp_path)
    assert len(state["commit"]) == 40 and state["dirty"] is False
    (tmp_path / "untracked.txt").write_text("ignored by the flag")
    assert git_state(tmp_path)["dirty"] is False
    (tmp_path / "a.txt").write_text("two")
    assert git_state(tmp_path)["dirty"] is True


def test_outside_a_checkout_the_git_state_says_why(tmp_path):
    state = git_state(tmp_path)
    assert state["commit"] is None and state["dirty"] is None
    assert state["reason"].startswith("not a git checkout")


def _record(metadata, path: str, record: dict, max_len: int = 255) -> None:
    # Snakemake's layout: URL-safe base64 of the path, cut into @-prefixed folders when too long
    encoded = base64.urlsafe_b64encode(path.encode()).decode()
    parts = [encoded[i : i + max_len - 1] for i in range(0, len(encoded), max_len - 1)]
    target = metadata.joinpath(*["@" + p for p in parts[:-1]], parts[-1])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record))


def test_job_records_decode_short_and_long_paths(tmp_path, caplog):
    long_path = "results/" + "x" * 300 + ".csv"
    _record(tmp_path, "results/a.csv", {"rule": "a", "input": ["data/in.txt"]})
    _record(tmp_path, long_path, {"rule": "b", "input": ["results/a.csv"]})
    (tmp_path / "garbage").write_text("not base64 json")
    records = job_records(tmp_path)
    assert {path: r["rule"] for path, r in records.items()} == {"results/a.csv": "a", long_path: "b"}
    # what is skipped is counted and reported
    assert f"{tmp_path}: 1 job records unreadable, their outputs get rule null (first: garbage)" in caplog.text


def test_build_lists_inputs_outputs_and_their_rules(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data/in.txt").write_text("abc")
    (tmp_path / "config").mkdir()
    (tmp_path / "config/config.yaml").write_text("seed: 1\n")
    (tmp_path / "results/batches").mkdir(parents=True)
    (tmp_path / "results/a.csv").write_text("x\n")
    (tmp_path / "results/batches/one.json").write_text("{}")
    metadata = tmp_path / ".snakemake/metadata"
    _record(metadata, "results/a.csv", {"rule": "make_a", "input": ["data/in.txt"]})
    _record(metadata, "results/batches", {"rule": "batches", "input": ["results/a.csv"]})
    record = build(
        tmp_path,
        {"seed": 1, "lexicon": "data/in.txt"},
        ["config/config.yaml"],
        [tmp_path / "results"],
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:01:00+00:00",
    )
    # sha256 of "abc" (FIPS 180-2, appendix B.1)
    assert record["inputs"]["data/in.txt"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert set(record["inputs"]) == {"data/in.txt", "config/config.yaml"}
    assert {path: o["rule"] for path, o in record["outputs"].items()} == {
        "results/a.csv": "make_a",
        "results/batches/one.json": "batches",
    }
    assert record["seeds"] == {"seed": 1}
    assert record["git"]["commit"] is None
    assert record["started_at"] == "2026-01-01T00:00:00+00:00"
    assert "pandas" in record["packages"]
