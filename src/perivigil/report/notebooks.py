"""Render an executed stage notebook to one self-contained, byte-stable HTML page.

Snakemake's ``notebook:`` directive runs the notebook with a first "preamble" cell that
holds the pickled job (absolute paths of the working directory): it is dropped, with
the run's timing metadata and cell ids, so that two clones in two folders render the
same bytes. nbconvert's ``HTMLExporter`` does the rendering (images inline).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from perivigil.errors import InputError
from perivigil.files import atomic_path

PREAMBLE_TAG = "snakemake-job-properties"


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without Snakemake's preamble cell, run metadata, execution counts and cell ids."""
    cells = [c for c in notebook.cells if PREAMBLE_TAG not in c.get("metadata", {}).get("tags", [])]
    for number, cell in enumerate(cells, start=1):
        cell["metadata"] = {key: value for key, value in cell.get("metadata", {}).items()
                            if key not in ("execution", "papermill", "ExecuteTime")}
        cell["id"] = f"cell-{number}"
        if cell["cell_type"] == "code":
            cell["execution_count"] = None
            for output in cell.get("outputs", []):
                if "execution_count" in output:
                    output["execution_count"] = None
    notebook.cells = cells
    notebook.metadata = {key: notebook.metadata[key] for key in ("kernelspec", "language_info")
                         if key in notebook.metadata}
    return notebook


def render_html(executed: str | Path, output: str | Path) -> None:
    """Write the cleaned ``executed`` notebook as HTML to ``output`` (atomically)."""
    from nbconvert import HTMLExporter

    executed = Path(executed)
    try:
        notebook = nbformat.read(executed, as_version=4)
    except (OSError, ValueError) as exc:
        raise InputError(f"{executed}: cannot read the executed notebook: {exc}") from None
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(clean(notebook))
    with atomic_path(Path(output)) as tmp:
        tmp.write_text(body, encoding="utf-8")
