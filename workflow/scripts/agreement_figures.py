"""Rule agreement_figures: Krippendorff's alpha per label and the pairwise kappa heat map, from agreement.json."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.report.agreement import write_agreement_figures

write_agreement_figures(
    snakemake.input.agreement,
    snakemake.params.heatmap_label,
    alpha=(snakemake.output.alpha_png, snakemake.output.alpha_pdf),
    kappa=(snakemake.output.kappa_png, snakemake.output.kappa_pdf),
)
