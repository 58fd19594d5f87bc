# Inter-annotator agreement on the overlap subset: every coefficient, per label (computed once),
# then its figures, drawn from the computed table (a plotting choice reruns no bootstrap).


rule agreement:
    input:
        annotations="results/annotation/annotations.parquet",
        sample="results/annotation/sample.parquet",
        labels=config["annotation"]["labels"],
    output:
        json="results/agreement/agreement.json",
        csv=report(
            "results/agreement/agreement.csv",
            caption="../report/agreement.rst",
            category="4. Agreement",
            labels={"table": "agreement by label"},
        ),
        tex=report(
            "results/tables/agreement.tex",
            caption="../report/agreement.rst",
            category="4. Agreement",
            labels={"table": "agreement (LaTeX)"},
        ),
        disagreements=report(
            "results/agreement/disagreements.csv",
            caption="../report/disagreements.rst",
            category="4. Agreement",
            labels={"table": "disagreements"},
        ),
    log:
        "logs/agreement/agreement.log",
    benchmark:
        "benchmarks/agreement/agreement.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        settings=keys("agreement", "n_boot", "seed", "bootstrap"),
        code=code("agreement.py"),
    script:
        "../scripts/agreement.py"


rule agreement_figures:
    input:
        agreement="results/agreement/agreement.json",
    output:
        alpha_png=report(
            "results/figures/agreement_alpha.png",
            caption="../report/agreement.rst",
            category="4. Agreement",
            labels={"figure": "Krippendorff's alpha"},
        ),
        alpha_pdf="results/figures/agreement_alpha.pdf",
        kappa_png=report(
            "results/figures/agreement_kappa.png",
            caption="../report/agreement.rst",
            category="4. Agreement",
            labels={"figure": "pairwise Cohen's kappa"},
        ),
        kappa_pdf="results/figures/agreement_kappa.pdf",
    log:
        "logs/agreement/agreement_figures.log",
    benchmark:
        "benchmarks/agreement/agreement_figures.tsv"
    conda:
        "../envs/perivigil.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        heatmap_label=config["agreement"]["heatmap_label"],
        code=code("agreement_figures.py"),
    script:
        "../scripts/agreement_figures.py"
