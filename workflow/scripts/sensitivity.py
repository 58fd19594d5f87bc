"""Rule sensitivity: the rule system decided again with each scenario's thresholds; prevalence, Se, Sp, F1."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.sensitivity import SensitivitySettings, sensitivity_analysis

sensitivity_analysis(
    snakemake.input.posts,
    snakemake.input.mentions,
    snakemake.input.predictions,
    SensitivitySettings.from_config(snakemake.params.config),
    table_path=snakemake.output.table,
    figure=(snakemake.output.png, snakemake.output.pdf),
)
