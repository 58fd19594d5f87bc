# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Inter-annotator agreement
#
# Executed by the rule `notebook` (stage `agreement`); rendered to `results/notebooks/agreement.html`.
# The figures shown are made by rule `agreement` (`workflow/scripts/agreement.py`). Reading
# (study protocol §5, Krippendorff 2004): α ≥ 0.800 reliable, 0.667–0.800 tentative
# conclusions only.

# %%
import json

import pandas as pd
from IPython.display import Image, display

agreement = json.loads(open(snakemake.input.agreement, encoding="utf-8").read())  # noqa: F821
disagreements = pd.read_csv(snakemake.input.disagreements, keep_default_na=False)  # noqa: F821

# %%
table = pd.DataFrame({
    label: {"level": r["level"], "units": r["n_units"], "alpha": r["krippendorff_alpha"],
            "alpha 95% CI": r["krippendorff_alpha_ci95"], "P(alpha < 0.667)": r["p_alpha_below_0.667"],
            "Fleiss kappa": r["fleiss_kappa"], "percent agreement": r["percent_agreement"]}
    for label, r in agreement.items()}).T
table

# %% [markdown]
# ## Where the annotators disagree

# %%
disagreements.groupby("label").size().rename("posts with a disagreement").to_frame()

# %%
display(Image(filename=snakemake.input.alpha))  # noqa: F821
display(Image(filename=snakemake.input.kappa))  # noqa: F821

# %%
def reading(alpha):
    if alpha is None:
        return "undefined"
    return "reliable" if alpha >= 0.800 else "tentative" if alpha >= 0.667 else "unreliable"


numbers = {label: {"alpha": r["krippendorff_alpha"], "ci95": r["krippendorff_alpha_ci95"],
                   "reading": reading(r["krippendorff_alpha"]), "units": r["n_units"]}
           for label, r in sorted(agreement.items())}
with open(snakemake.output.numbers, "w", encoding="utf-8") as handle:  # noqa: F821
    handle.write(json.dumps(numbers, indent=2, sort_keys=True) + "\n")
numbers
