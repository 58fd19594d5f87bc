"""Rule split: gold posts -> train / test by thread, stratified, seeded, leak-checked."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.evaluate import SplitSettings, make_split

make_split(
    snakemake.input.gold,
    snakemake.input.posts,
    SplitSettings.from_section(snakemake.params.section),
    snakemake.output[0],
)
