# Inter-annotator agreement on the overlap subset: every coefficient, per label.


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
        disagreements=report(
            "results/agreement/disagreements.csv",
            caption="../report/disagreements.rst",
            category="4. Agreement",
            labels={"table": "disagreements"},
        ),
    log:
        "logs/agreement/agreement.log",
    conda:
        "../envs/perivigil.yaml"
    params:
        settings=config["agreement"],
    script:
        "../scripts/agreement.py"
