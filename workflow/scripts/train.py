"""Rule train: one linear model for one label, C chosen by grouped cross-validation inside train."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.evaluate import LinearSettings, train_linear

train_linear(
    snakemake.input.split,
    snakemake.input.posts,
    snakemake.wildcards.model,
    snakemake.wildcards.label,
    LinearSettings.from_section(snakemake.params.settings),
    snakemake.output.model,
    snakemake.output.record,
)
