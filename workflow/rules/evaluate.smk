# Split the gold posts by thread, train the linear baselines, evaluate every model on the test split.


rule split:
    input:
        gold="results/annotation/gold.parquet",
        posts="results/corpus/posts.parquet",
    output:
        report(
            "results/splits/split.csv",
            caption="../report/split.rst",
            category="5. Evaluation",
            labels={"table": "train/test split"},
        ),
    log:
        "logs/evaluate/split.log",
    benchmark:
        "benchmarks/evaluate/split.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        section=config["split"],
        code=code("split.py"),
    script:
        "../scripts/split.py"


rule train:
    input:
        split="results/splits/split.csv",
        posts="results/corpus/posts.parquet",
    output:
        model="results/models/{model}_{label}.joblib",
        record="results/models/{model}_{label}.json",
    log:
        "logs/evaluate/train_{model}_{label}.log",
    benchmark:
        "benchmarks/evaluate/train_{model}_{label}.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings={key: config["models"][key] for key in ("c_grid", "cv_folds", "seed")},
        code=code("train.py"),
    script:
        "../scripts/train.py"


rule train_transformer:
    input:
        split="results/splits/split.csv",
        posts="results/corpus/posts.parquet",
    output:
        model=directory("results/models/transformer_{label}"),
        record="results/models/transformer_{label}.json",
    log:
        "logs/evaluate/train_transformer_{label}.log",
    benchmark:
        "benchmarks/evaluate/train_transformer_{label}.tsv"
    conda:
        "../envs/transformer.yaml"
    threads: 4
    resources:
        mem_mb=16000,
        gpu=1,
        runtime=240,
    params:
        settings=config["models"]["transformer"],
        seed=config["models"]["seed"],
        code=code("train_transformer.py"),
    script:
        "../scripts/train_transformer.py"


rule evaluate:
    input:
        unpack(trained_models),
        split="results/splits/split.csv",
        posts="results/corpus/posts.parquet",
        decisions="results/corpus/decisions.parquet",
        frame="results/annotation/sampling_frame.parquet",
    output:
        metrics=report(
            "results/tables/metrics.csv",
            caption="../report/metrics.rst",
            category="5. Evaluation",
            labels={"table": "metrics"},
        ),
        latex=report(
            "results/tables/metrics.tex",
            caption="../report/metrics.rst",
            category="5. Evaluation",
            labels={"table": "metrics (LaTeX)"},
        ),
        comparisons=report(
            "results/tables/comparisons.csv",
            caption="../report/comparisons.rst",
            category="5. Evaluation",
            labels={"table": "model comparisons"},
        ),
        predictions=report(
            "results/evaluation/predictions.csv",
            caption="../report/predictions.rst",
            category="5. Evaluation",
            labels={"table": "test predictions"},
        ),
    log:
        "logs/evaluate/evaluate.log",
    benchmark:
        "benchmarks/evaluate/evaluate.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        section=config["evaluation"],
        models=list(trained_models(None)),
        code=code("evaluate.py"),
    script:
        "../scripts/evaluate.py"


rule apply:
    input:
        unpack(applied_models),
        posts="results/corpus/posts.parquet",
        mentions="results/corpus/mentions.parquet",
        decisions="results/corpus/decisions.parquet",
        predictions="results/evaluation/predictions.csv",
    output:
        prevalence=report(
            "results/tables/prevalence.csv",
            caption="../report/prevalence.rst",
            category="6. Corpus-wide estimates",
            labels={"table": "corrected prevalence"},
        ),
        by_board_month=report(
            "results/tables/positives_by_board_month.csv",
            caption="../report/characterisation.rst",
            category="6. Corpus-wide estimates",
            labels={"table": "positives by board and month"},
        ),
        drugs=report(
            "results/tables/characterisation_drugs.csv",
            caption="../report/characterisation.rst",
            category="6. Corpus-wide estimates",
            labels={"table": "drugs of positive posts"},
        ),
        ages=report(
            "results/tables/characterisation_gestational_age.csv",
            caption="../report/characterisation.rst",
            category="6. Corpus-wide estimates",
            labels={"table": "gestational age of positive posts"},
        ),
        people=report(
            "results/tables/characterisation_person.csv",
            caption="../report/characterisation.rst",
            category="6. Corpus-wide estimates",
            labels={"table": "who took the drug"},
        ),
        indications=report(
            "results/tables/characterisation_indication.csv",
            caption="../report/characterisation.rst",
            category="6. Corpus-wide estimates",
            labels={"table": "why (indications)"},
        ),
    log:
        "logs/evaluate/apply.log",
    benchmark:
        "benchmarks/evaluate/apply.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        settings=config["apply"],
        rules=config["rules"],
        models=list(applied_models(None)),
        code=code("apply.py"),
    script:
        "../scripts/apply.py"


rule diagnostics:
    input:
        unpack(trained_records),
        split="results/splits/split.csv",
        posts="results/corpus/posts.parquet",
        predictions="results/evaluation/predictions.csv",
        decisions="results/corpus/decisions.parquet",
        mentions="results/corpus/mentions.parquet",
    output:
        calibration=report(
            "results/tables/calibration.csv",
            caption="../report/diagnostics.rst",
            category="5. Evaluation",
            labels={"table": "calibration"},
        ),
        learning=report(
            "results/tables/learning_curve.csv",
            caption="../report/diagnostics.rst",
            category="5. Evaluation",
            labels={"table": "learning curve"},
        ),
        errors=report(
            "results/tables/error_analysis.csv",
            caption="../report/error_analysis.rst",
            category="5. Evaluation",
            labels={"table": "error analysis"},
        ),
    log:
        "logs/evaluate/diagnostics.log",
    benchmark:
        "benchmarks/evaluate/diagnostics.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        seed=config["evaluation"]["seed"],
        records=list(trained_records(None)),
        code=code("diagnostics.py"),
    script:
        "../scripts/diagnostics.py"


rule diagnostic_figures:
    input:
        calibration="results/tables/calibration.csv",
        learning="results/tables/learning_curve.csv",
    output:
        calibration_png=report(
            "results/figures/calibration.png",
            caption="../report/diagnostics.rst",
            category="5. Evaluation",
            labels={"figure": "calibration"},
        ),
        calibration_pdf="results/figures/calibration.pdf",
        learning_png=report(
            "results/figures/learning_curve.png",
            caption="../report/diagnostics.rst",
            category="5. Evaluation",
            labels={"figure": "learning curve"},
        ),
        learning_pdf="results/figures/learning_curve.pdf",
    log:
        "logs/evaluate/diagnostic_figures.log",
    benchmark:
        "benchmarks/evaluate/diagnostic_figures.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        code=code("diagnostic_figures.py"),
    script:
        "../scripts/diagnostic_figures.py"


rule sensitivity:
    input:
        posts="results/corpus/posts.parquet",
        mentions="results/corpus/mentions.parquet",
        predictions="results/evaluation/predictions.csv",
    output:
        table=report(
            "results/tables/sensitivity.csv",
            caption="../report/sensitivity.rst",
            category="6. Corpus-wide estimates",
            labels={"table": "sensitivity analyses"},
        ),
        png=report(
            "results/figures/sensitivity.png",
            caption="../report/sensitivity.rst",
            category="6. Corpus-wide estimates",
            labels={"figure": "sensitivity analyses"},
        ),
        pdf="results/figures/sensitivity.pdf",
    log:
        "logs/evaluate/sensitivity.log",
    benchmark:
        "benchmarks/evaluate/sensitivity.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        config={
            "rules": config["rules"],
            "apply": keys("apply", "n_boot", "seed"),
            "sensitivity": config.get("sensitivity", {}),
        },
        code=code("sensitivity.py"),
    script:
        "../scripts/sensitivity.py"


rule sample_size:
    input:
        frame="results/annotation/sampling_frame.parquet",
        gold="results/annotation/gold.parquet",
    output:
        table=report(
            "results/tables/sample_size.csv",
            caption="../report/sample_size.rst",
            category="5. Evaluation",
            labels={"table": "sample size"},
        ),
    log:
        "logs/evaluate/sample_size.log",
    benchmark:
        "benchmarks/evaluate/sample_size.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=60,
    params:
        settings=config.get("sample_size", {}),
        code=code("sample_size.py"),
    script:
        "../scripts/sample_size.py"
