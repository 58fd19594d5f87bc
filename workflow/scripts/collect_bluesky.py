"""Rule collect_bluesky: search one month of Bluesky posts into the raw zone and count what was kept or dropped."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from perivigil.collect.bluesky import collect_bluesky

collect_bluesky(
    snakemake.params.source,
    snakemake.wildcards.period,
    Path(snakemake.output.posts),
    Path(snakemake.output.report),
)
