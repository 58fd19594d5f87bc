"""Rule adjudication_sheet: the disagreements, with the text and each annotator's value."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.annotation.run import adjudication_sheet

adjudication_sheet(snakemake.input.annotations, snakemake.input.sample, snakemake.output.csv, snakemake.output.xlsx)
