"""Shared fixtures: the repository, its configuration, and a small demo forum built in a temp folder."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from perivigil.config import load_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
DEMO_ROOT_URL = "https://forum.bebe-et-moi.example/"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def study_config() -> dict:
    """The shipped configuration (paths relative to the repository root)."""
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return load_config(ROOT / "config/config.yaml", SCHEMA)
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="session")
def small_forum(tmp_path_factory, study_config) -> dict:
    """A 150-post demo forum (5 posts a page, so threads span pages), built once per session."""
    from perivigil.demo.build import build_demo_forum

    out = tmp_path_factory.mktemp("small_forum")
    settings = copy.deepcopy(study_config["demo_forum"])
    for key in ("seeds", "fragments"):
        settings[key] = str(ROOT / settings[key])
    settings.update(site=str(out / "site"), manifest=str(out / "site.sha256"), truth=str(out / "truth.csv"),
                    n_posts=150, posts_per_page=5, threads_per_page=4)
    counts = build_demo_forum(settings)
    return {"settings": settings, "counts": counts, "site": out / "site", "truth": out / "truth.csv"}


@pytest.fixture()
def profile():
    from perivigil.collect.profile import load_profile

    return load_profile(ROOT / "config/sites/demo_forum.yaml")
