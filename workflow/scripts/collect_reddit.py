"""Rule collect_reddit: keep one Reddit monthly dump's posts of the configured subreddits, and count the rest."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from perivigil.collect.reddit import collect_dump

keep = None
if snakemake.params.source.get("lexicon_filter", False):
    import pandas as pd

    from perivigil.extract.drugs import DrugMatcher, names_a_drug_of_interest

    keep = names_a_drug_of_interest(DrugMatcher(pd.read_parquet(snakemake.input.lexicon)))

collect_dump(
    Path(snakemake.input.dump),
    Path(snakemake.output.posts),
    source=snakemake.params.source["name"],
    subreddits=snakemake.params.source["subreddits"],
    keep=keep,
    report_path=Path(snakemake.output.report),
)
