"""Run a stage notebook and render it to one self-contained, byte-stable HTML page.

The notebook runs in a fresh Python kernel of the study's own environment (nbclient,
the engine under ``jupyter nbconvert --execute``), with a first cell that gives it its
inputs and outputs as ``snakemake.input`` and ``snakemake.output``, as Snakemake's
``notebook:`` directive does. Running it here rather than through that directive keeps
a study run quiet and independent of the shell's PATH: the directive looks for
``papermill`` and then for ``jupyter-nbconvert`` on the PATH (printing "command not
found" when they are absent, failing outright outside an activated venv), and its kernel
talks over TCP, warning on every run; here the kernel talks over local IPC sockets in a
temporary folder.

The executed notebook is kept (the rule's log). The HTML leaves out the parameters cell
(paths of the working folder), run metadata and cell ids, so that two clones in two
folders render the same bytes; nbconvert's ``HTMLExporter`` does the rendering.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import nbformat

from perivigil.errors import InputError
from perivigil.files import atomic_path

PARAMETERS_TAG = "perivigil-parameters"
PREAMBLE_TAG = "snakemake-job-properties"  # the preamble of notebooks run by Snakemake's notebook: directive


def parameters_cell(inputs: Mapping[str, str], outputs: Mapping[str, str]) -> nbformat.NotebookNode:
    """The first cell: ``snakemake.input.<name>`` and ``snakemake.output.<name>`` as the notebooks read them."""
    source = (
        "from types import SimpleNamespace\n"
        f"snakemake = SimpleNamespace(input=SimpleNamespace(**{json.dumps(dict(inputs), sort_keys=True)}),\n"
        f"                            output=SimpleNamespace(**{json.dumps(dict(outputs), sort_keys=True)}))"
    )
    cell = nbformat.v4.new_code_cell(source)
    cell["metadata"]["tags"] = [PARAMETERS_TAG]
    return cell


def execute(
    notebook_path: str | Path, inputs: Mapping[str, str], outputs: Mapping[str, str], executed: str | Path
) -> None:
    """Run the notebook with its parameters in a fresh kernel; save the executed notebook to ``executed``."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook_path = Path(notebook_path)
    try:
        notebook = nbformat.read(notebook_path, as_version=4)
    except (OSError, ValueError) as exc:
        raise InputError(f"{notebook_path}: cannot read the notebook: {exc}") from None
    notebook.cells.insert(0, parameters_cell(inputs, outputs))
    Path(executed).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="perivigil-kernel-") as sockets:
        manager = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel"))
        client = NotebookClient(notebook, km=manager, timeout=None, resources={"metadata": {"path": os.getcwd()}})
        try:
            client.execute(cleanup_kc=True)  # shut our kernel down now, not when it finds us gone
        except CellExecutionError as exc:
            nbformat.write(notebook, str(executed))
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise RuntimeError(
                f"{notebook_path}: a cell failed ({first}); the executed notebook is in {executed}"
            ) from None
    nbformat.write(notebook, str(executed))


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without its parameters cell, run metadata, execution counts and cell ids."""
    dropped = {PARAMETERS_TAG, PREAMBLE_TAG}
    cells = [c for c in notebook.cells if not dropped & set(c.get("metadata", {}).get("tags", []))]
    for number, cell in enumerate(cells, start=1):
        cell["metadata"] = {
            key: value
            for key, value in cell.get("metadata", {}).items()
            if key not in ("execution", "papermill", "ExecuteTime")
        }
        cell["id"] = f"cell-{number}"
        if cell["cell_type"] == "code":
            cell["execution_count"] = None
            for output in cell.get("outputs", []):
                if "execution_count" in output:
                    output["execution_count"] = None
    notebook.cells = cells
    notebook.metadata = {
        key: notebook.metadata[key] for key in ("kernelspec", "language_info") if key in notebook.metadata
    }
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


def run_notebook(
    notebook_path: str | Path, inputs: Mapping[str, str], numbers: str | Path, executed: str | Path, html: str | Path
) -> None:
    """A stage notebook, run (it writes ``numbers``) and rendered to ``html``."""
    execute(notebook_path, inputs, {"numbers": str(numbers)}, executed)
    render_html(executed, html)
