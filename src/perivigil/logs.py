"""Send a step's Python logging, warnings and stderr into its Snakemake log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_to(path: str | Path, level: int = logging.INFO) -> None:
    """Log to ``path`` (replaced), capture ``warnings`` and redirect ``sys.stderr`` there too."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = path.open("w", encoding="utf-8", buffering=1)
    sys.stderr = stream
    logging.basicConfig(level=level, format=FORMAT, stream=stream, force=True)
    logging.captureWarnings(True)
