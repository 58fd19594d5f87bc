"""Rule render_notebook: the executed notebook of a stage, as one self-contained HTML page."""
from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.report.notebooks import render_html

render_html(snakemake.params.executed, snakemake.output[0])
