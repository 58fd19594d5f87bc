# Split the gold posts by thread, and evaluate the rule system on the test split.


rule split:
    input:
        gold="results/annotation/gold.parquet",
        posts="results/corpus/posts.parquet",
    output:
        "results/splits/split.csv",
    log:
        "logs/evaluate/split.log",
    params:
        section=config["split"],
    conda:
        "../envs/perivigil.yaml"
    script:
        "../scripts/split.py"


rule evaluate_rules:
    input:
        split="results/splits/split.csv",
        posts="results/corpus/posts.parquet",
        lexicon="results/lexicon/lexicon.parquet",
    output:
        metrics=report(
            "results/tables/metrics.csv",
            caption="../report/metrics.rst",
            category="5. Evaluation",
            labels={"table": "metrics"},
        ),
        latex="results/tables/metrics.tex",
        predictions="results/evaluation/predictions_rules.csv",
    log:
        "logs/evaluate/evaluate_rules.log",
    params:
        config={key: config[key] for key in ("extract", "rules", "evaluation")},
    conda:
        "../envs/perivigil.yaml"
    script:
        "../scripts/evaluate_rules.py"
