# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Prevalence in the corpus and who, what, when, why
#
# Executed by the rule `notebook` (stage `prevalence`); rendered to `results/notebooks/prevalence.html`.
# The tables come from rule `apply` (`workflow/scripts/apply.py`): the model chosen in
# config on every post, the Rogan–Gladen prevalence corrected for its test sensitivity and
# specificity, and the characterisation of the posts it labels positive.

# %%
import json

import pandas as pd

prevalence = pd.read_csv(snakemake.input.prevalence)  # noqa: F821
tables = {name: pd.read_csv(getattr(snakemake.input, name)) for name in  # noqa: F821
          ("drugs", "ages", "people", "indications")}

# %%
prevalence.sort_values(["label", "weighting"])  # design (corpus-weighted Se/Sp) first

# %% [markdown]
# ## Drugs, gestational ages, persons and indications of the positive posts

# %%
tables["drugs"]

# %%
tables["ages"].pivot_table(index="gestational_age", columns="label", values="posts", fill_value=0)

# %%
tables["people"].pivot_table(index="person", columns="label", values="posts", fill_value=0)

# %%
tables["indications"]

# %%
numbers = {row.label: {"model": row.model, "positives": int(row.positives),
                       "apparent_prevalence": round(row.apparent_prevalence, 4),
                       "corrected_prevalence": round(row.corrected_prevalence, 4)
                       if pd.notna(row.corrected_prevalence) else None,
                       "ci95": [round(row.ci_low, 4), round(row.ci_high, 4)] if pd.notna(row.ci_low) else None}
           for row in prevalence[prevalence["weighting"] == "design"].itertuples()}
with open(snakemake.output.numbers, "w", encoding="utf-8") as handle:  # noqa: F821
    handle.write(json.dumps(numbers, indent=2, sort_keys=True) + "\n")
numbers
