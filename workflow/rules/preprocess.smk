# Preprocessing: pseudonymise authors, mask personal data, normalise, language, duplicates.


rule preprocess:
    input:
        RAW_SHARDS,
    output:
        posts="results/corpus/posts.parquet",
        summary=report(
            "results/corpus/preprocess_summary.json",
            caption="../report/preprocess_summary.rst",
            category="1. Corpus",
            labels={"table": "preprocessing summary"},
        ),
    log:
        "logs/preprocess/preprocess.log",
    benchmark:
        "benchmarks/preprocess/preprocess.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 2
    resources:
        mem_mb=4000,
    params:
        config={key: config[key] for key in ("demo", "preprocess")},
        code=code("preprocess.py"),
    script:
        "../scripts/preprocess.py"
