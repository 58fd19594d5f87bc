"""Rule preprocess: raw posts -> pseudonymised, masked, normalised posts.parquet."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.preprocess.run import preprocess_from_config

preprocess_from_config(
    list(snakemake.input),
    snakemake.output.posts,
    snakemake.output.summary,
    snakemake.params.config,
)
