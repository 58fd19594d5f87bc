"""Rule decide: the rule system on every post's exposure events -> decisions.parquet (read by every later stage)."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.rules import decide_file, thresholds_from_config

decide_file(
    snakemake.input.posts,
    snakemake.input.mentions,
    snakemake.output[0],
    thresholds_from_config(snakemake.params.config),
)
