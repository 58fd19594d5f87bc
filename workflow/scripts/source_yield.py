"""Rule source_yield: posts, French posts, drug and pregnancy terms, candidates, by source and month."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.report.source_yield import write_source_yield

write_source_yield(
    snakemake.input.posts,
    snakemake.input.mentions,
    snakemake.input.decisions,
    table_path=snakemake.output.table,
    figure=(snakemake.output.png, snakemake.output.pdf),
)
