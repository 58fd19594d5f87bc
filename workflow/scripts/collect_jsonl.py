"""Rule collect_jsonl: check one JSONL export file of raw records into the raw zone, and count what was dropped."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from perivigil.collect.jsonl import collect_export

collect_export(
    Path(snakemake.input.export),
    Path(snakemake.output.posts),
    source=snakemake.wildcards.source,
    report_path=Path(snakemake.output.report),
)
