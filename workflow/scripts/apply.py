"""Rule apply: the rule system on the whole corpus; Rogan-Gladen prevalence; characterisation tables."""
from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.apply import apply_rules

apply_rules(snakemake.input.posts, snakemake.input.mentions, snakemake.input.predictions, snakemake.params.settings,
            snakemake.output)
