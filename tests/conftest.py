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
    settings.update(
        site=str(out / "site"),
        manifest=str(out / "site.sha256"),
        truth=str(out / "truth.csv"),
        n_posts=150,
        posts_per_page=5,
        threads_per_page=4,
    )
    counts = build_demo_forum(settings)
    return {"settings": settings, "counts": counts, "site": out / "site", "truth": out / "truth.csv"}


@pytest.fixture(scope="session")
def extractor():
    """The extractor of exposure events on the shipped lexicon (BDPM subset + substances + forum variants)."""
    from perivigil.extract.drugs import DrugMatcher
    from perivigil.extract.lexicon import build_lexicon
    from perivigil.extract.pipeline import Extractor

    return Extractor(
        DrugMatcher(
            build_lexicon(
                ROOT / "resources/bdpm",
                ROOT / "config/lexicon/substances.tsv",
                ROOT / "config/lexicon/forum_variants.tsv",
            )
        )
    )


@pytest.fixture()
def profile():
    from perivigil.collect.profile import load_profile

    return load_profile(ROOT / "config/sites/demo_forum.yaml")


def build_tiny_bert(directory: Path, texts: list[str], max_words: int = 3000) -> Path:
    """A tiny, randomly initialised BERT with a word-level vocabulary of ``texts``, saved like a
    local CamemBERT or DrBERT folder (weights cannot be downloaded here). Needs the transformer extra."""
    import collections

    import torch
    import transformers

    backend = transformers.BertTokenizer(vocab={"[UNK]": 0}).backend_tokenizer
    counts = collections.Counter(
        word
        for text in texts
        for word, _ in backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(text))
    )
    words = sorted(word for word, _ in counts.most_common(max_words))
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    transformers.BertTokenizer(vocab=vocab).save_pretrained(directory)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=256,
        num_labels=2,
    )
    transformers.BertForSequenceClassification(config).save_pretrained(directory)
    return directory
