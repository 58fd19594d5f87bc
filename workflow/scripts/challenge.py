"""Rule challenge: the challenge suite through the rule system -> results/tables/challenge.csv."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.challenge import write_challenge

write_challenge(snakemake.input.templates, snakemake.input.lexicon, snakemake.output[0], snakemake.params.config)
