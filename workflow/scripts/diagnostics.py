"""Rule diagnostics: calibration and learning curves of the linear models, errors of the rule system."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.diagnostics import write_diagnostics

records = [snakemake.input[key] for key in snakemake.params.records]
write_diagnostics(
    snakemake.input.split,
    snakemake.input.posts,
    snakemake.input.predictions,
    snakemake.input.decisions,
    snakemake.input.mentions,
    records,
    snakemake.params.config,
    snakemake.output,
)
