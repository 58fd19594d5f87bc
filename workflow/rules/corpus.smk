# Corpus overview: size of the corpus by board and month (table and figure).


rule corpus_overview:
    input:
        "results/corpus/posts.parquet",
    output:
        table=report(
            "results/tables/corpus_by_board_month.csv",
            caption="../report/corpus_by_board_month.rst",
            category="1. Corpus",
            labels={"table": "posts by board and month"},
        ),
        latex=report(
            "results/tables/corpus_by_board_year.tex",
            caption="../report/corpus_by_board_month.rst",
            category="1. Corpus",
            labels={"table": "posts by board and year (LaTeX)"},
        ),
        png=report(
            "results/figures/corpus_by_board_month.png",
            caption="../report/corpus_by_board_month.rst",
            category="1. Corpus",
            labels={"figure": "posts by board and month"},
        ),
        pdf="results/figures/corpus_by_board_month.pdf",
    log:
        "logs/corpus/corpus_overview.log",
    benchmark:
        "benchmarks/corpus/corpus_overview.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        code=code("corpus_overview.py"),
    script:
        "../scripts/corpus_overview.py"


# Source yield: what each source and month brings, before any annotation (to choose sources).
rule source_yield:
    input:
        posts="results/corpus/posts.parquet",
        mentions="results/corpus/mentions.parquet",
        decisions="results/corpus/decisions.parquet",
    output:
        table=report(
            "results/tables/source_yield.csv",
            caption="../report/source_yield.rst",
            category="1. Corpus",
            labels={"table": "yield by source and month"},
        ),
        png=report(
            "results/figures/source_yield.png",
            caption="../report/source_yield.rst",
            category="1. Corpus",
            labels={"figure": "yield by source and month"},
        ),
        pdf="results/figures/source_yield.pdf",
    log:
        "logs/corpus/source_yield.log",
    benchmark:
        "benchmarks/corpus/source_yield.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        code=code("source_yield.py"),
    script:
        "../scripts/source_yield.py"
