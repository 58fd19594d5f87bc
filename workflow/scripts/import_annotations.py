"""Rule import_annotations: the annotators' exports -> annotations.parquet (long form)."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.annotation.run import import_annotations

import_annotations(
    snakemake.params.inbox,
    snakemake.input.sample,
    snakemake.input.assignments,
    snakemake.params.section,
    snakemake.output.annotations,
    snakemake.output.report,
)
