# perivigil: detecting drug misuse during pregnancy in French forum posts.
# The stages of the study, in order; each lives in workflow/rules/<stage>.smk
# and calls the package perivigil (src/perivigil/). See docs/audit.md.
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/collect.smk"
include: "workflow/rules/preprocess.smk"
include: "workflow/rules/corpus.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/annotation.smk"
include: "workflow/rules/agreement.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/notebooks.smk"


# What each stage of the study makes. A real study (demo: false) stops at each human step:
# rule all asks for the outputs of the stage it has reached (STAGE, common.smk), so that
# `make study` runs what it can and says what it waits for (perivigil.study).
CORPUS_OUTPUTS = [
    "results/corpus/posts.parquet",
    "results/corpus/collection_report.csv",
    "results/tables/corpus_by_board_month.csv",
    "results/tables/corpus_by_board_year.tex",
    "results/figures/corpus_by_board_month.png",
    "results/figures/corpus_by_board_month.pdf",
    "results/lexicon/lexicon.tsv",
    "results/tables/challenge.csv",
    "results/corpus/mentions.parquet",
    "results/corpus/decisions.parquet",
    "results/tables/source_yield.csv",
    "results/figures/source_yield.png",
    "results/annotation/batches",
    "results/notebooks/corpus.html",
]
ANNOTATION_OUTPUTS = CORPUS_OUTPUTS + [
    "results/annotation/annotations.parquet",
    "results/agreement/agreement.json",
    "results/figures/agreement_alpha.png",
    "results/annotation/adjudication/to_adjudicate.csv",
    "results/notebooks/agreement.html",
]
# Every table, figure and rendered notebook of the study; provenance.json records them all.
STUDY_OUTPUTS = ANNOTATION_OUTPUTS + [
    "results/annotation/gold.parquet",
    "results/tables/metrics.csv",
    "results/tables/comparisons.csv",
    "results/tables/prevalence.csv",
    "results/tables/sensitivity.csv",
    "results/figures/sensitivity.png",
    "results/tables/sample_size.csv",
    "results/tables/error_analysis.csv",
    "results/notebooks/models.html",
    "results/notebooks/prevalence.html",
]
TARGETS = {
    "corpus": CORPUS_OUTPUTS,
    "annotators": CORPUS_OUTPUTS,
    "adjudicator": ANNOTATION_OUTPUTS,
    "complete": STUDY_OUTPUTS + ["results/provenance.json"],
}


rule all:
    default_target: True
    input:
        TARGETS[STAGE.stage],


rule provenance:
    input:
        STUDY_OUTPUTS,
        # the files and folders the config names (resources, snapshots, inbox): the record's inputs
        sources=lambda wildcards: provenance_sources(),
    output:
        report(
            "results/provenance.json",
            caption="workflow/report/provenance.rst",
            category="8. Provenance",
            labels={"table": "provenance"},
        ),
    log:
        "logs/provenance.log",
    benchmark:
        "benchmarks/provenance/provenance.tsv"
    conda:
        "workflow/envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        config=config,
        config_files=[str(f) for f in workflow.configfiles],
        # each rule's output patterns under results/: the record names the rule behind each output
        rules=lambda wildcards: declared_rule_outputs(),
        code=code("provenance.py"),
    script:
        "workflow/scripts/provenance.py"
