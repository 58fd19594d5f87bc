# One notebook per stage, executed by the DAG (notebook:), then rendered to HTML.
# Sources: notebooks/<stage>.py (jupytext); workflow/notebooks/<stage>.ipynb is their
# conversion (`make notebooks`), kept in git because Snakemake's notebook: needs .ipynb.
# Each stage's inputs are in NOTEBOOK_INPUTS (common.smk). The executed notebook is the
# job's log; render_notebook turns it into results/notebooks/.


rule notebook:
    input:
        unpack(notebook_inputs),
    output:
        numbers="results/notebooks/{stage}_numbers.json",
    log:
        notebook="logs/notebooks/{stage}.ipynb",
    conda:
        "../envs/perivigil.yaml"
    notebook:
        "../notebooks/{wildcards.stage}.ipynb"


rule render_notebook:
    input:
        # the executed notebook is the log of rule notebook; its numbers order the jobs
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
