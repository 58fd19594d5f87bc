"""Rule export_batches: each annotator's posts in every tool's format, with the guidelines."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.annotation.run import ExportSettings, export_batches

export_batches(
    snakemake.input.sample,
    snakemake.input.assignments,
    ExportSettings.from_section(snakemake.params.section),
    snakemake.output[0],
)
