"""Rule agreement: Krippendorff's alpha (bootstrap CI), Cohen, Fleiss, Gwet, per label, on the overlap."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.report.agreement import write_agreement

write_agreement(
    snakemake.input.annotations,
    snakemake.input.sample,
    snakemake.input.labels,
    snakemake.params.settings,
    json_path=snakemake.output.json,
    csv_path=snakemake.output.csv,
    tex_path=snakemake.output.tex,
    disagreements_path=snakemake.output.disagreements,
)
