"""Rule corpus_overview: posts by board and month, as CSV, LaTeX and a figure."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.report.corpus import write_corpus_overview

write_corpus_overview(snakemake.input[0], snakemake.output)
