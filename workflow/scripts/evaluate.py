"""Rule evaluate: every model's metrics on the test split (cluster-bootstrap BCa CIs) and paired comparisons."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.models.evaluate import EvaluationSettings, evaluate_models

models = {key: snakemake.input[key] for key in snakemake.params.models}
evaluate_models(
    snakemake.input.split,
    snakemake.input.posts,
    snakemake.input.decisions,
    models,
    EvaluationSettings.from_section(snakemake.params.section),
    snakemake.input.frame,
    predictions_path=snakemake.output.predictions,
    metrics_path=snakemake.output.metrics,
    comparisons_path=snakemake.output.comparisons,
    latex_path=snakemake.output.latex,
)
