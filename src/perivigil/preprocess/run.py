"""Run preprocessing from the study configuration (key from the environment)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from perivigil.files import atomic_path
from perivigil.preprocess.pipeline import PreprocessSettings, preprocess
from perivigil.preprocess.pseudonymise import load_key

LOG = logging.getLogger("perivigil.preprocess")


def settings_from_config(config: dict[str, Any]) -> PreprocessSettings:
    """Preprocessing settings from the ``preprocess`` key, with the key read from the environment."""
    section = config["preprocess"]
    key, is_demo = load_key(section["pseudonym_key_env"], allow_demo_key=config["demo"])
    if is_demo:
        LOG.warning("DEMO pseudonymisation key in use (public): fine for the demo forum, never for real data")
    near = section["near_duplicates"]
    return PreprocessSettings(
        pseudonym_key=key,
        language_candidates=tuple(section["language"]["candidates"]),
        language_min_confidence=section["language"]["min_confidence"],
        language_fasttext_min_probability=section["language"]["fasttext_min_probability"],
        jaccard_threshold=near["jaccard_threshold"],
        shingle_words=near["shingle_words"],
        num_perm=near["num_perm"],
        minhash_seed=near["seed"],
        row_group_size=section["row_group_size"],
    )


def preprocess_from_config(
    inputs: list[Path], output: Path, summary_path: Path, config: dict[str, Any]
) -> dict[str, Any]:
    """Write ``output`` and the summary JSON; return the summary."""
    summary = preprocess(inputs, Path(output), settings_from_config(config)).as_dict()
    with atomic_path(summary_path) as tmp:
        tmp.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary
