"""Rule lexicon: BDPM subset + edsnlp drugs.json + forum variants -> one surface per row."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.extract.run import write_lexicon

write_lexicon(snakemake.params.config, snakemake.output.parquet, snakemake.output.tsv)
