"""Rule corpus_overview: posts by board and month, as CSV, LaTeX and a figure."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.report.corpus import write_corpus_overview

write_corpus_overview(
    snakemake.input[0],
    table_path=snakemake.output.table,
    latex_path=snakemake.output.latex,
    figure=(snakemake.output.png, snakemake.output.pdf),
)
