"""Rule simulate_adjudicator (demo): a CRAT expert's decisions on the disagreements."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.annotation.run import simulate_adjudicator

simulate_adjudicator(
    snakemake.input.sheet,
    {snakemake.params.source: snakemake.input.truth},
    snakemake.params.section,
    snakemake.output[0],
)
