"""Rule simulate_annotators (demo): three annotators' returns in three tools' export formats."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.annotation.run import simulate_annotators

simulate_annotators(
    snakemake.input.sample,
    snakemake.input.assignments,
    {snakemake.params.source: snakemake.input.truth},
    snakemake.params.section,
    snakemake.output[0],
)
