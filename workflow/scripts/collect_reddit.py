"""Rule collect_reddit: keep one Reddit monthly dump's posts of the configured subreddits, and count the rest."""
from perivigil.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from perivigil.collect.reddit import collect_dump

collect_dump(
    Path(snakemake.input.dump),
    Path(snakemake.output.posts),
    source=snakemake.params.source["name"],
    subreddits=snakemake.params.source["subreddits"],
    keep=None,
    report_path=Path(snakemake.output.report),
)
