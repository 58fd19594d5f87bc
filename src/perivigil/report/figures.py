"""Save figures and tables so that two runs give the same bytes.

Matplotlib stamps PNG and PDF files with its version and the date; both are
removed here (PNG ``Software``, PDF ``Creator``/``Producer``/``CreationDate``),
and the Agg backend is forced so that no display is needed.

Fonts come from this matplotlib's own files only (``mpl-data/fonts/ttf``, pinned with matplotlib
in the lock): a machine's fonts are forgotten. Otherwise "DejaVu Sans" resolves to whichever copy
the user's font cache (``~/.cache/matplotlib``, shared by every venv of that matplotlib version)
lists first: the system's (Debian's fonts-dejavu), this venv's or another clone's; the PDFs'
font subsets, and so their bytes, then change from one machine, cache or clone to another.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from perivigil.files import atomic_path  # noqa: E402

BUNDLED_FONTS = Path(matplotlib.get_data_path()) / "fonts"


def use_bundled_fonts_only() -> None:
    """Let matplotlib choose among its bundled fonts only (see the module docstring)."""
    manager = font_manager.fontManager
    manager.ttflist = []  # the cache (~/.cache/matplotlib) may list another copy, or another venv's
    for path in sorted((BUNDLED_FONTS / "ttf").glob("*.ttf")):
        manager.addfont(path)
    # matplotlib's stubs leave out this private lru_cache; without clearing it, findfont answers from before
    manager._findfont_cached.cache_clear()  # type: ignore[attr-defined]


use_bundled_fonts_only()

plt.rcParams.update(
    {
        "svg.hashsalt": "perivigil",
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "font.family": "DejaVu Sans",
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def save_figure(figure: Figure, png: Path | str, pdf: Path | str) -> None:
    """Write ``figure`` as PNG and PDF without timestamps, then close it."""
    with atomic_path(png) as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None}, bbox_inches="tight")
    with atomic_path(pdf) as tmp:
        figure.savefig(
            tmp, format="pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None}, bbox_inches="tight"
        )
    plt.close(figure)


def write_csv(frame: pd.DataFrame, path: Path | str) -> None:
    """CSV with a fixed line ending and float format."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n", float_format="%.6g")


def write_latex(frame: pd.DataFrame, path: Path | str, caption: str, label: str) -> None:
    """A booktabs LaTeX table (``\\toprule``/``\\midrule``/``\\bottomrule``), paper-ready."""
    styler = frame.style.hide(axis="index").format(escape="latex", precision=3, thousands="\\,")
    latex = styler.to_latex(
        caption=caption,
        label=label,
        hrules=True,
        position="htbp",
        position_float="centering",
        column_format="l" + "r" * (frame.shape[1] - 1),
    )
    with atomic_path(path) as tmp:
        tmp.write_text(latex, encoding="utf-8")
