# Annotation: sample -> batches for the tools -> (annotators) -> import -> adjudication -> gold.


rule sample:
    input:
        posts="results/corpus/posts.parquet",
        mentions="results/corpus/mentions.parquet",
    output:
        frame="results/annotation/sampling_frame.parquet",
        sample="results/annotation/sample.parquet",
        assignments="results/annotation/assignments.csv",
    log:
        "logs/annotation/sample.log",
    benchmark:
        "benchmarks/annotation/sample.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        section=keys(
            "annotation",
            "strata",
            "period",
            "n_candidates",
            "n_noncandidates",
            "min_per_stratum",
            "seed",
            "annotators",
            "overlap",
        ),
        code=code("sample.py"),
    script:
        "../scripts/sample.py"


rule export_batches:
    input:
        sample="results/annotation/sample.parquet",
        assignments="results/annotation/assignments.csv",
        labels=config["annotation"]["labels"],
        guidelines=config["annotation"]["guidelines"],
    output:
        directory("results/annotation/batches"),
    log:
        "logs/annotation/export_batches.log",
    benchmark:
        "benchmarks/annotation/export_batches.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        section=keys("annotation", "labels", "guidelines", "annotators"),
        code=code("export_batches.py"),
    script:
        "../scripts/export_batches.py"


rule import_annotations:
    input:
        inbox=annotation_returns,
        sample="results/annotation/sample.parquet",
        assignments="results/annotation/assignments.csv",
        labels=config["annotation"]["labels"],
    output:
        annotations="results/annotation/annotations.parquet",
        report=report(
            "results/annotation/import_report.csv",
            caption="../report/annotation_import.rst",
            category="3. Annotation",
            labels={"table": "annotation import"},
        ),
    log:
        "logs/annotation/import_annotations.log",
    benchmark:
        "benchmarks/annotation/import_annotations.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        inbox=config["annotation"]["inbox"],
        section=keys("annotation", "labels", "annotators", "withdrawn", "tool_users"),
        code=code("import_annotations.py"),
    script:
        "../scripts/import_annotations.py"


rule adjudication_sheet:
    input:
        annotations="results/annotation/annotations.parquet",
        sample="results/annotation/sample.parquet",
    output:
        csv="results/annotation/adjudication/to_adjudicate.csv",
        xlsx="results/annotation/adjudication/to_adjudicate.xlsx",
    log:
        "logs/annotation/adjudication_sheet.log",
    benchmark:
        "benchmarks/annotation/adjudication_sheet.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        code=code("adjudication_sheet.py"),
    script:
        "../scripts/adjudication_sheet.py"


rule gold:
    input:
        annotations="results/annotation/annotations.parquet",
        adjudicated=adjudicated_sheet,
        sample="results/annotation/sample.parquet",
        labels=config["annotation"]["labels"],
    output:
        gold=report(
            "results/annotation/gold.parquet",
            caption="../report/gold.rst",
            category="3. Annotation",
            labels={"table": "gold standard"},
        ),
        undecided="results/annotation/undecided.csv",
    log:
        "logs/annotation/gold.log",
    benchmark:
        "benchmarks/annotation/gold.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        section=keys("annotation", "labels", "adjudicated", "majority_fallback"),
        code=code("gold.py"),
    script:
        "../scripts/gold.py"


if config["demo"]:

    rule simulate_annotators:
        input:
            sample="results/annotation/sample.parquet",
            assignments="results/annotation/assignments.csv",
            truth=config["demo_forum"]["truth"],
        output:
            directory(config["annotation"]["inbox"]),
        log:
            "logs/annotation/simulate_annotators.log",
        benchmark:
            "benchmarks/annotation/simulate_annotators.tsv"
        conda:
            "../envs/perivigil.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=60,
        params:
            section=keys("annotation", "labels", "seed", "simulation"),
            source=config["sources"][0]["name"],
            code=code("simulate_annotators.py"),
        script:
            "../scripts/simulate_annotators.py"

    rule simulate_adjudicator:
        input:
            sheet="results/annotation/adjudication/to_adjudicate.csv",
            truth=config["demo_forum"]["truth"],
        output:
            config["annotation"]["adjudicated"],
        log:
            "logs/annotation/simulate_adjudicator.log",
        benchmark:
            "benchmarks/annotation/simulate_adjudicator.tsv"
        conda:
            "../envs/perivigil.yaml"
        threads: 1
        resources:
            mem_mb=500,
            runtime=60,
        params:
            section=keys("annotation", "labels", "simulation"),
            source=config["sources"][0]["name"],
            code=code("simulate_adjudicator.py"),
        script:
            "../scripts/simulate_adjudicator.py"
