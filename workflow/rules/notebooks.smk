# One notebook per stage, run by the DAG and rendered to HTML.
# Sources: notebooks/<stage>.py (jupytext); workflow/notebooks/<stage>.ipynb is their
# conversion (`make notebooks`), kept in git. Each stage's inputs are in NOTEBOOK_INPUTS
# (common.smk). The executed notebook is kept in the rule's log folder.


rule notebook:
    input:
        unpack(notebook_inputs),
        # a file of the workflow, not of the working folder (which --directory may move)
        notebook=f"{workflow.basedir}/workflow/notebooks/{{stage}}.ipynb",
    output:
        numbers="results/notebooks/{stage}_numbers.json",
        html=report(
            "results/notebooks/{stage}.html",
            caption="../report/notebook.rst",
            category="7. Notebooks",
            labels={"notebook": "{stage}"},
        ),
    log:
        notebook="logs/notebooks/{stage}.ipynb",
        log="logs/notebooks/{stage}.log",
    benchmark:
        "benchmarks/notebooks/notebook_{stage}.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        code=code("run_notebook.py"),
    script:
        "../scripts/run_notebook.py"
