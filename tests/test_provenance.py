"""results/provenance.json: config hash, seeds, git state, inputs (files and folder manifests), declared outputs."""

from __future__ import annotations

import hashlib
import json
import subprocess

from perivigil.provenance import (
    build,
    config_sha256,
    declared_outputs,
    folder_manifest,
    git_state,
    pattern_regex,
    seeds,
    source_paths,
)


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


# sha256 of "abc" (FIPS 180-2, appendix B.1) and of the empty string
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _folder(path):
    (path / "sub").mkdir(parents=True)
    (path / "b.txt").write_text("abc")
    (path / "sub/a.txt").write_text("")
    (path / "a b.txt").write_text("abc")
    return path


def test_a_folder_is_summed_up_by_its_sha256sum_listing(tmp_path):
    folder = _folder(tmp_path / "snapshot")
    manifest = folder_manifest(folder)
    listing = f"{ABC}  a b.txt\n{ABC}  b.txt\n{EMPTY}  sub/a.txt\n"  # sorted bytewise: ' ' < 'b' < 's'
    assert manifest == {"files": 3, "bytes": 6, "sha256": hashlib.sha256(listing.encode()).hexdigest()}
    # the recipe of the docstring (and docs/data-dictionary.md) gives the same digest
    recipe = "find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"
    shell = subprocess.run(["bash", "-c", recipe], cwd=folder, capture_output=True, text=True, check=True)
    assert shell.stdout.split()[0] == manifest["sha256"]


def test_file_patterns_become_regular_expressions():
    regex = pattern_regex("results/models/{model,logreg|svm}_{label}.json")
    assert regex.fullmatch("results/models/svm_iso_t1.json")["label"] == "iso_t1"
    assert not regex.fullmatch("results/models/transformer_iso_t1.json")
    dated = pattern_regex(r"raw/{source}/{period,\d{4}-\d{2}}.jsonl")
    assert dated.fullmatch("raw/bsky/2024-05.jsonl") and not dated.fullmatch("raw/bsky/2024-5.jsonl")
    assert pattern_regex("a/{x}/{x}.csv").fullmatch("a/b/b.csv") and not pattern_regex("a/{x}/{x}.csv").fullmatch(
        "a/b/c.csv"
    )


RULES = {
    "make_a": [["results/a.csv", False]],
    "batches": [["results/batches", True]],
    "train": [["results/models/{model,logreg|svm}_{label}.json", False]],
    "train_transformer": [
        ["results/models/transformer_{label}", True],
        ["results/models/transformer_{label}.json", False],
    ],
}


def _results(root):
    for name, text in {
        "results/a.csv": "x\n",
        "results/batches/ann_a/one.json": "{}",
        "results/models/logreg_iso_t1.json": "{}",
        "results/models/transformer_iso_t1.json": "{}",
        "results/models/transformer_iso_t1/config.json": "{}",
        "results/report.html": "made by no rule",
        "results/old/stray.csv": "left over",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_outputs_are_the_files_rules_declare_with_their_rule(tmp_path):
    _results(tmp_path)
    assert declared_outputs(tmp_path, RULES) == {
        "results/a.csv": "make_a",
        "results/batches/ann_a/one.json": "batches",
        "results/models/logreg_iso_t1.json": "train",
        "results/models/transformer_iso_t1.json": "train_transformer",
        "results/models/transformer_iso_t1/config.json": "train_transformer",
    }


def test_sources_are_what_the_config_names_but_what_the_dag_makes(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data/in.txt").write_text("abc")
    (tmp_path / "results").mkdir()
    config = {"lexicon": "data/in.txt", "snapshot": "data", "inbox": "results", "missing": "nowhere.txt", "n": 3}
    assert source_paths(config, ["config.yaml"], tmp_path) == ["config.yaml", "data", "data/in.txt"]


def test_build_records_inputs_outputs_and_their_rules(tmp_path):
    _folder(tmp_path / "data/snapshot")
    (tmp_path / "data/in.txt").write_text("abc")
    (tmp_path / "config").mkdir()
    (tmp_path / "config/config.yaml").write_text("seed: 1\n")
    _results(tmp_path)
    record = build(
        tmp_path,
        {"seed": 1, "lexicon": "data/in.txt"},
        ["config/config.yaml"],
        ["config/config.yaml", "data/in.txt", "data/snapshot"],
        RULES,
        "2026-01-01T00:01:00+00:00",
        exclude=["results/a.csv"],
    )
    assert record["inputs"]["data/in.txt"] == ABC
    assert record["inputs"]["data/snapshot"] == folder_manifest(tmp_path / "data/snapshot")  # one entry
    assert set(record["inputs"]) == {"data/in.txt", "data/snapshot", "config/config.yaml"}
    assert record["outputs"]["results/models/logreg_iso_t1.json"] == {
        "sha256": hashlib.sha256(b"{}").hexdigest(),
        "rule": "train",
    }
    assert set(record["outputs"]) == set(declared_outputs(tmp_path, RULES)) - {"results/a.csv"}
    assert record["outputs_made"]["first"] <= record["outputs_made"]["last"]
    assert record["seeds"] == {"seed": 1}
    assert record["git"]["commit"] is None
    assert record["finished_at"] == "2026-01-01T00:01:00+00:00"
    assert "pandas" in record["packages"]


def test_the_record_does_not_grow_with_the_files_of_an_input_folder(tmp_path):
    sizes = []
    for n in (10, 1000):
        folder = tmp_path / f"site{n}"
        folder.mkdir()
        for i in range(n):
            (folder / f"page-{i}.html").write_text(f"<p>{i}</p>")
        record = build(tmp_path, {}, [], [folder.name], {}, "2026-01-01T00:00:00+00:00")
        assert record["inputs"][folder.name]["files"] == n
        sizes.append(len(json.dumps(record["inputs"])))
    # "site10" / "site1000", "files": 10 / 1000, "bytes": 80 / 9890: two more digits each, nothing more
    assert sizes[1] - sizes[0] == 6
