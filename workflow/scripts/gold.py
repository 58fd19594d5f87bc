"""Rule gold: unanimous, single and adjudicated labels with their provenance; undecided ones listed."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.annotation.run import make_gold

adjudicated = list(snakemake.input.adjudicated)  # none when the annotators agree everywhere
make_gold(
    snakemake.input.annotations,
    adjudicated[0] if adjudicated else None,
    snakemake.input.sample,
    snakemake.params.section,
    snakemake.output.gold,
    snakemake.output.undecided,
)
