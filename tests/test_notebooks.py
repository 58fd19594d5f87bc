"""The stage notebooks: the .ipynb the DAG runs match their jupytext sources; rendering is byte-stable."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import nbformat
import pytest

from perivigil.errors import InputError
from perivigil.report.notebooks import PREAMBLE_TAG, clean, render_html

STAGES = ("corpus", "agreement", "models", "prevalence")


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell["cell_type"], "".join(cell["source"]).strip()) for cell in notebook["cells"]]


@pytest.mark.parametrize("stage", STAGES)
def test_the_ipynb_run_by_the_dag_is_the_conversion_of_its_source(root, stage):
    source = jupytext.read(root / f"notebooks/{stage}.py")
    converted = json.loads((root / f"workflow/notebooks/{stage}.ipynb").read_text(encoding="utf-8"))
    assert _cells(converted) == _cells(source), "run `make notebooks` after editing notebooks/*.py"
    # the kernel that runs it (perivigil.report.notebooks.execute) and the HTML exporter read these
    assert converted["metadata"]["language_info"]["name"] == "python"
    assert converted["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("stage", STAGES)
def test_every_notebook_is_wired_to_a_rule_and_writes_its_numbers(root, stage):
    rules = (root / "workflow/rules/notebooks.smk").read_text(encoding="utf-8")
    assert 'notebook=f"{workflow.basedir}/workflow/notebooks/{{stage}}.ipynb"' in rules
    assert f'    "{stage}": {{' in (root / "workflow/rules/common.smk").read_text(encoding="utf-8")
    assert "snakemake.output.numbers" in (root / f"notebooks/{stage}.py").read_text(encoding="utf-8")


def _executed(directory: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    preamble = nbformat.v4.new_code_cell("snakemake = '/home/someone/clone-1/results'")
    preamble["metadata"]["tags"] = [PREAMBLE_TAG]
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3)
    cell["metadata"]["execution"] = {"iopub.execute_input": "2026-11-22T10:00:00Z"}
    cell["outputs"] = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    notebook.cells = [preamble, nbformat.v4.new_markdown_cell("# Title"), cell]
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "papermill": {"start_time": "now"},
    }
    path = directory / "executed.ipynb"
    nbformat.write(notebook, path)
    return path


def test_clean_drops_the_preamble_and_run_metadata(tmp_path):
    notebook = clean(nbformat.read(_executed(tmp_path), as_version=4))
    assert [c["cell_type"] for c in notebook.cells] == ["markdown", "code"]
    assert [c["id"] for c in notebook.cells] == ["cell-1", "cell-2"]
    assert notebook.cells[1]["metadata"] == {} and notebook.cells[1]["execution_count"] is None
    assert notebook.cells[1]["outputs"][0]["execution_count"] is None
    assert set(notebook.metadata) == {"kernelspec", "language_info"}


def test_rendering_is_byte_stable_and_leaves_out_the_job_paths(tmp_path):
    executed = _executed(tmp_path)
    render_html(executed, tmp_path / "a.html")
    render_html(executed, tmp_path / "b.html")
    html = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    assert "clone-1" not in html and ">Title<" in html


def test_an_unreadable_executed_notebook_is_named(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.ipynb: cannot read the executed notebook"):
        render_html(tmp_path / "broken.ipynb", tmp_path / "out.html")
    assert not (tmp_path / "out.html").exists()


@pytest.mark.parametrize("stage", STAGES)
def test_notebooks_show_figures_but_make_none(root, stage):
    """Each paper figure has exactly one maker: a rule's script, never a notebook."""
    source = (root / f"notebooks/{stage}.py").read_text(encoding="utf-8")
    assert "savefig" not in source and "save_figure" not in source and "plt." not in source
