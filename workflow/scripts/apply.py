"""Rule apply: the model chosen in config on the whole corpus; Rogan-Gladen prevalence; characterisation."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.apply import age_bands, apply_model

models = {key: snakemake.input[key] for key in snakemake.params.models}
apply_model(
    snakemake.input.posts,
    snakemake.input.mentions,
    snakemake.input.decisions,
    snakemake.input.predictions,
    models,
    snakemake.params.settings,
    snakemake.output,
    age_bands(snakemake.params.rules["iso_t1_max_sa"], snakemake.params.rules["nsaid_late_min_sa"]),
)
