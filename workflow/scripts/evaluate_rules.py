"""Rule evaluate_rules: the rule system's metrics on the test split, with cluster-bootstrap BCa CIs."""
from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.evaluate import evaluate_rules

evaluate_rules(snakemake.input.split, snakemake.input.posts, snakemake.input.lexicon, snakemake.params.config,
               snakemake.output.metrics, snakemake.output.latex, snakemake.output.predictions)
