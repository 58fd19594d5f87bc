# Collection: crawl each source into the raw zone (raw/, git-ignored, never shared).


rule collect:
    input:
        unpack(collect_inputs),
    output:
        # update(): a recollection that fails restores the previous raw posts and report
        # (a crawl of hours, from a site that may since have changed, is never lost)
        posts=update("raw/{source}/posts.jsonl"),
        report=update("results/corpus/collection/{source}.csv"),
    log:
        "logs/collect/{source}.log",
    benchmark:
        "benchmarks/collect/{source}.tsv"
    params:
        source=source_config,
        politeness=config["collect"],
    threads: 1
    resources:
        # one crawl per site at a time; polite delays make a crawl I/O-bound
        mem_mb=1000,
        runtime=720,
    conda:
        "../envs/perivigil.yaml"
    script:
        "../scripts/collect.py"


rule collection_report:
    input:
        expand("results/corpus/collection/{source}.csv", source=SOURCES),
    output:
        report(
            "results/corpus/collection_report.csv",
            caption="../report/collection_report.rst",
            category="1. Corpus",
            labels={"table": "collection report"},
        ),
    log:
        "logs/collect/collection_report.log",
    conda:
        "../envs/perivigil.yaml"
    script:
        "../scripts/collection_report.py"
