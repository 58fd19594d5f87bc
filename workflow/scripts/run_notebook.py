"""Rule notebook (a script not named notebook.py, which would shadow the package nbconvert imports): run a stage notebook on its inputs (it writes its numbers), then render it to HTML."""

from perivigil.logs import log_to

log_to(snakemake.log.log)

from perivigil.report.notebooks import run_notebook

inputs = {name: path for name, path in snakemake.input.items() if name != "notebook"}
run_notebook(snakemake.input.notebook, inputs, snakemake.output.numbers, snakemake.log.notebook, snakemake.output.html)
