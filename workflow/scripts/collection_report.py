"""Rule collection_report: one table of pages and posts kept or dropped, all sources."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.collect.run import combine_reports

combine_reports(snakemake.input, snakemake.output[0])
