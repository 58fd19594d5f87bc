# Information extraction: the drug lexicon, then drugs, gestational age, dose and cues per post.


rule lexicon:
    input:
        bdpm_products=lexicon_input("bdpm", "CIS_bdpm.txt"),
        bdpm_composition=lexicon_input("bdpm", "CIS_COMPO_bdpm.txt"),
        substances=lexicon_input("substances"),
        forum_variants=lexicon_input("forum_variants"),
    output:
        parquet="results/lexicon/lexicon.parquet",
        tsv=report(
            "results/lexicon/lexicon.tsv",
            caption="../report/lexicon.rst",
            category="2. Extraction",
            labels={"table": "drug lexicon"},
        ),
    log:
        "logs/extract/lexicon.log",
    benchmark:
        "benchmarks/extract/lexicon.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        code=code("lexicon.py"),
    script:
        "../scripts/lexicon.py"


rule extract:
    input:
        posts="results/corpus/posts.parquet",
        lexicon="results/lexicon/lexicon.parquet",
    output:
        mentions="results/corpus/mentions.parquet",
        summary=report(
            "results/corpus/extract_summary.json",
            caption="../report/extract_summary.rst",
            category="2. Extraction",
            labels={"table": "extraction summary"},
        ),
    log:
        "logs/extract/extract.log",
    benchmark:
        "benchmarks/extract/extract.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        section=config["extract"],
        code=code("extract.py"),
    script:
        "../scripts/extract.py"


rule decide:
    input:
        posts="results/corpus/posts.parquet",
        mentions="results/corpus/mentions.parquet",
    output:
        "results/corpus/decisions.parquet",
    log:
        "logs/extract/decide.log",
    benchmark:
        "benchmarks/extract/decide.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        config={key: config[key] for key in ("rules",)},
        code=code("decide.py"),
    script:
        "../scripts/decide.py"


rule challenge:
    input:
        templates=config["challenge"]["templates"],
        lexicon="results/lexicon/lexicon.parquet",
    output:
        report(
            "results/tables/challenge.csv",
            caption="../report/challenge.rst",
            category="2. Extraction",
            labels={"table": "challenge suite"},
        ),
    log:
        "logs/extract/challenge.log",
    benchmark:
        "benchmarks/extract/challenge.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        config={key: config[key] for key in ("challenge", "extract", "rules")},
        code=code("challenge.py"),
    script:
        "../scripts/challenge.py"
