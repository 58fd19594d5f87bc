"""Rule lexicon: BDPM subset + edsnlp drugs.json + forum variants -> one surface per row."""

from pathlib import Path

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.extract.run import write_lexicon_from

write_lexicon_from(
    Path(snakemake.input.bdpm_products).parent,  # the BDPM folder, both of whose files are inputs
    Path(snakemake.input.substances),
    Path(snakemake.input.forum_variants),
    snakemake.output.parquet,
    snakemake.output.tsv,
)
