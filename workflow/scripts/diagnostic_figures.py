"""Rule diagnostic_figures: the calibration and learning-curve figures, drawn from their tables."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.diagnostics import write_diagnostic_figures

write_diagnostic_figures(
    snakemake.input.calibration,
    snakemake.input.learning,
    calibration=(snakemake.output.calibration_png, snakemake.output.calibration_pdf),
    learning=(snakemake.output.learning_png, snakemake.output.learning_pdf),
)
