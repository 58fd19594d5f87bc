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
    wildcard_constraints:
        source=_any_of(sources_of("forum")),
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        # one crawl per site at a time; polite delays make a crawl I/O-bound
        mem_mb=1000,
        runtime=720,
    params:
        source=source_config,
        politeness=config["collect"],
    script:
        "../scripts/collect.py"


# A Reddit source: one job per monthly dump file (RS_ submissions, RC_ comments).
rule collect_reddit:
    input:
        unpack(reddit_dump_inputs),
    output:
        posts="raw/{source}/{dump}.jsonl",
        report="results/corpus/collection/{source}/{dump}.csv",
    log:
        "logs/collect/{source}/{dump}.log",
    benchmark:
        "benchmarks/collect/{source}/{dump}.tsv"
    wildcard_constraints:
        source=_any_of(sources_of("reddit_dump")),
        dump=r"R[SC]_\d{4}-\d{2}",
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        # streaming: one zstd window (up to 2 GiB) and a line at a time
        mem_mb=3000,
        runtime=240,
    params:
        source=source_config,
        code=code("collect_reddit.py"),
    script:
        "../scripts/collect_reddit.py"


# A Bluesky search: one job per calendar month of the configured span (resumable).
rule collect_bluesky:
    output:
        posts="raw/{source}/{period}.jsonl",
        report="results/corpus/collection/{source}/{period}.csv",
    log:
        "logs/collect/{source}/{period}.log",
    benchmark:
        "benchmarks/collect/{source}/{period}.tsv"
    wildcard_constraints:
        source=_any_of(sources_of("bluesky")),
        period=r"\d{4}-\d{2}",
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        # one account's rate limit: the months of one source are best run one after another
        bluesky=1,
        mem_mb=1000,
        runtime=720,
    params:
        source=source_config,
    script:
        "../scripts/collect_bluesky.py"


# A JSONL export of raw records: one job per file of the source's path (a file or a glob).
rule collect_jsonl:
    input:
        export=jsonl_export_input,
    output:
        posts="raw/{source}/{shard}.jsonl",
        report="results/corpus/collection/{source}/{shard}.csv",
    log:
        "logs/collect/{source}/{shard}.log",
    benchmark:
        "benchmarks/collect/{source}/{shard}.tsv"
    wildcard_constraints:
        source=_any_of(sources_of("jsonl")),
        shard=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        # streaming: a line at a time, plus the post ids kept from the file (duplicates)
        mem_mb=1000,
        runtime=60,
    params:
        code=code("collect_jsonl.py"),
    script:
        "../scripts/collect_jsonl.py"


rule collection_report:
    input:
        COLLECTION_REPORTS,
    output:
        report(
            "results/corpus/collection_report.csv",
            caption="../report/collection_report.rst",
            category="1. Corpus",
            labels={"table": "collection report"},
        ),
    log:
        "logs/collect/collection_report.log",
    benchmark:
        "benchmarks/collect/collection_report.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=60,
    params:
        code=code("collection_report.py"),
    script:
        "../scripts/collection_report.py"
