"""Build the demo forum from the configuration: the HTML snapshot, its manifest and truth table."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from perivigil.demo.forum import (
    SiteLayout,
    iter_raw_records,
    iter_threads,
    write_manifest,
    write_raw_jsonl,
    write_site,
    write_truth,
)
from perivigil.demo.seeds import Fragments, SeedPost, load_fragments, load_seed_posts


def build_demo_forum(settings: dict[str, Any]) -> dict[str, int]:
    """Regenerate the snapshot folder (replaced whole), its sha256 manifest and ``truth.csv``."""
    seeds = load_seed_posts(Path(settings["seeds"]))
    fragments = load_fragments(Path(settings["fragments"]))
    threads = list(iter_threads(seeds, fragments, settings["n_posts"], settings["seed"]))
    site = Path(settings["site"])
    staging = site.with_name(site.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    layout = SiteLayout(posts_per_page=settings["posts_per_page"], threads_per_page=settings["threads_per_page"])
    counts = write_site(threads, fragments, staging, Path(settings["truth"]), layout, settings["seed"])
    shutil.rmtree(site, ignore_errors=True)
    staging.rename(site)
    counts["files"] = write_manifest(site, Path(settings["manifest"]))
    counts["seed_posts"] = len(seeds)
    return counts


def _generator_inputs(settings: dict[str, Any]) -> tuple[list[SeedPost], Fragments]:
    return load_seed_posts(Path(settings["seeds"])), load_fragments(Path(settings["fragments"]))


def write_demo_jsonl(settings: dict[str, Any], n_posts: int, output: Path) -> int:
    """Write ``n_posts`` demo posts straight to raw JSONL (benchmarks); return how many."""
    seeds, fragments = _generator_inputs(settings)
    return write_raw_jsonl(iter_raw_records(seeds, fragments, n_posts, settings["seed"]), Path(output))


def write_demo_truth(settings: dict[str, Any], n_posts: int, output: Path) -> None:
    """The truth table of the posts :func:`write_demo_jsonl` writes with the same settings and ``n_posts``."""
    seeds, fragments = _generator_inputs(settings)
    write_truth(iter_threads(seeds, fragments, n_posts, settings["seed"]), Path(output), {})
