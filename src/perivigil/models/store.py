"""Load a saved model, whichever its kind: a joblib file (linear) or a directory (transformer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_model(path: Path) -> Any:
    """An object with scikit-learn's ``predict`` and ``predict_proba`` on a list of texts."""
    path = Path(path)
    if path.is_dir():
        from perivigil.models.transformer import TransformerClassifier

        return TransformerClassifier.load(path)
    from perivigil.models.linear import load

    return load(path)
