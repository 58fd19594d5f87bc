"""Rule sample: the stratified annotation sample, its frame (inclusion probabilities) and assignments."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.annotation.run import sample_posts

sample_posts(
    snakemake.input.posts,
    snakemake.input.mentions,
    snakemake.params.section,
    snakemake.output.frame,
    snakemake.output.sample,
    snakemake.output.assignments,
)
