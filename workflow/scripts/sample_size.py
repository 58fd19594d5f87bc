"""Rule sample_size: posts to annotate per stratum (planned) beside those annotated, and the precision reached."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

import pandas as pd

from perivigil.report.figures import write_csv
from perivigil.sample_size import sample_size_table
from perivigil.schemas import SAMPLE_SIZE, check

frame = pd.read_parquet(snakemake.input.frame, columns=["post_id", "candidate"])
gold = pd.read_parquet(snakemake.input.gold, columns=["post_id", "label", "value"])
table = sample_size_table(snakemake.params.settings, frame, gold)
write_csv(check(SAMPLE_SIZE, table, str(snakemake.output.table)), snakemake.output.table)
