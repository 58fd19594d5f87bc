# perivigil: detecting drug misuse during pregnancy in French forum posts.
# The stages of the study, in order; each lives in workflow/rules/<stage>.smk
# and calls the package perivigil (src/perivigil/). See docs/audit.md.
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


rule all:
    default_target: True
    input:
        "results/corpus/posts.parquet",
        "results/corpus/collection_report.csv",
        "results/tables/corpus_by_board_month.csv",
        "results/tables/corpus_by_board_year.tex",
        "results/figures/corpus_by_board_month.png",
        "results/figures/corpus_by_board_month.pdf",
        "results/lexicon/lexicon.tsv",
        "results/corpus/mentions.parquet",
        "results/annotation/batches",
        "results/annotation/gold.parquet",
        "results/agreement/agreement.json",
        "results/figures/agreement_alpha.png",
        "results/tables/metrics.csv",
        "results/tables/comparisons.csv",
        "results/tables/prevalence.csv",
        "results/tables/error_analysis.csv",
