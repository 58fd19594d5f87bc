"""Rule train_transformer: fine-tune the optional local transformer for one label on the training split."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.evaluate import train_transformer

train_transformer(
    snakemake.input.split,
    snakemake.input.posts,
    snakemake.wildcards.label,
    snakemake.params.settings,
    snakemake.params.seed,
    snakemake.threads,
    snakemake.output.model,
    snakemake.output.record,
)
