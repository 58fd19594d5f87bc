"""Rule collect: crawl one source into the raw zone and count what was kept or dropped."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.collect.run import collect_source

collect_source(
    snakemake.params.source,
    snakemake.params.politeness,
    snakemake.output.posts,
    snakemake.output.report,
)
