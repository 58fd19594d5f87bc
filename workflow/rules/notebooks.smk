# One notebook per stage, executed by the DAG (notebook:), then rendered to HTML.
# Sources: notebooks/<stage>.py (jupytext); workflow/notebooks/<stage>.ipynb is their
# conversion (`make notebooks`), kept in git because Snakemake's notebook: needs .ipynb.
# The executed notebook is the job's log; render_notebook turns it into results/notebooks/.


rule notebook_corpus:
    input:
        posts="results/corpus/posts.parquet",
        report="results/corpus/collection_report.csv",
        summary="results/corpus/preprocess_summary.json",
        figure="results/figures/corpus_by_board_month.png",
    output:
        numbers="results/notebooks/corpus_numbers.json",
    log:
        notebook="logs/notebooks/corpus.ipynb",
    conda:
        "../envs/perivigil.yaml"
    notebook:
        "../notebooks/corpus.ipynb"


rule notebook_agreement:
    input:
        agreement="results/agreement/agreement.json",
        disagreements="results/agreement/disagreements.csv",
        alpha="results/figures/agreement_alpha.png",
        kappa="results/figures/agreement_kappa.png",
    output:
        numbers="results/notebooks/agreement_numbers.json",
    log:
        notebook="logs/notebooks/agreement.ipynb",
    conda:
        "../envs/perivigil.yaml"
    notebook:
        "../notebooks/agreement.ipynb"


rule notebook_models:
    input:
        metrics="results/tables/metrics.csv",
        comparisons="results/tables/comparisons.csv",
        split="results/splits/split.csv",
        errors="results/tables/error_analysis.csv",
        calibration="results/figures/calibration.png",
        learning="results/figures/learning_curve.png",
    output:
        numbers="results/notebooks/models_numbers.json",
    log:
        notebook="logs/notebooks/models.ipynb",
    conda:
        "../envs/perivigil.yaml"
    notebook:
        "../notebooks/models.ipynb"


rule notebook_prevalence:
    input:
        prevalence="results/tables/prevalence.csv",
        drugs="results/tables/characterisation_drugs.csv",
        ages="results/tables/characterisation_gestational_age.csv",
        people="results/tables/characterisation_person.csv",
        indications="results/tables/characterisation_indication.csv",
    output:
        numbers="results/notebooks/prevalence_numbers.json",
    log:
        notebook="logs/notebooks/prevalence.ipynb",
    conda:
        "../envs/perivigil.yaml"
    notebook:
        "../notebooks/prevalence.ipynb"


rule render_notebook:
    input:
        # the executed notebook is the log of notebook_<stage>; its numbers order the jobs
        numbers="results/notebooks/{stage}_numbers.json",
    output:
        report(
            "results/notebooks/{stage}.html",
            caption="../report/notebook.rst",
            category="7. Notebooks",
            labels={"notebook": "{stage}"},
        ),
    log:
        "logs/notebooks/render_{stage}.log",
    params:
        executed="logs/notebooks/{stage}.ipynb",
    conda:
        "../envs/perivigil.yaml"
    script:
        "../scripts/render_notebook.py"
