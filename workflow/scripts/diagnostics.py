"""Rule diagnostics: calibration and learning-curve tables of the linear models, errors of the rule system."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.diagnostics import write_diagnostics

write_diagnostics(
    snakemake.input.split,
    snakemake.input.posts,
    snakemake.input.predictions,
    snakemake.input.decisions,
    snakemake.input.mentions,
    [snakemake.input[key] for key in snakemake.params.records],
    snakemake.params.seed,
    calibration_path=snakemake.output.calibration,
    learning_path=snakemake.output.learning,
    errors_path=snakemake.output.errors,
)
