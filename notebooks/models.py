# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Models on the test split
#
# Executed by the rule `notebook` (stage `models`); rendered to `results/notebooks/models.html`.
# The metrics come from rule `evaluate`, two ways on the same test posts: **design-weighted**
# (each post weighted by 1 / its inclusion probability in the annotation sample: estimates for
# the corpus; Rao–Wu bootstrap within strata) first, **unweighted** (the sample as it is;
# cluster-bootstrap BCa over threads) beside them (docs/evaluation.md). The
# calibration and learning curves from rule `diagnostics` (`workflow/scripts/diagnostics.py`),
# which also makes the figures shown here.

# %%
import json

import pandas as pd
from IPython.display import Image, display

metrics = pd.read_csv(snakemake.input.metrics)  # noqa: F821
comparisons = pd.read_csv(snakemake.input.comparisons)  # noqa: F821
split = pd.read_csv(snakemake.input.split, dtype=str)  # noqa: F821
errors = pd.read_csv(snakemake.input.errors, keep_default_na=False)  # noqa: F821

# %% [markdown]
# ## The split

# %%
split.groupby("split").agg(posts=("post_id", "count"), threads=("thread_id", "nunique"))

# %% [markdown]
# ## Precision (PPV), recall (sensitivity), F1, specificity, NPV with 95 % intervals: design first

# %%
shown = metrics[metrics["metric"].isin(["precision", "recall", "f1", "specificity", "npv", "auprc"])].copy()
shown["value"] = [f"{e:.3f} [{lo:.3f}, {hi:.3f}]" + ("*" if note else "") for e, lo, hi, note in
                  zip(shown["estimate"], shown["ci_low"], shown["ci_high"], shown["ci_note"].fillna(""))]
shown["weighting"] = pd.Categorical(shown["weighting"], ["design", "sample"], ordered=True)
shown.pivot_table(index=["label", "model"], columns=["weighting", "metric"], values="value", aggfunc="first",
                  observed=True)

# %% [markdown]
# `*`: the interval's method is named in `ci_method` and explained in `ci_note` (an exact
# Clopper–Pearson interval where every bootstrap replicate was equal, Korn–Graubard for
# design-weighted proportions):

# %%
metrics.loc[metrics["ci_note"].fillna("") != "", ["model", "label", "metric", "weighting", "ci_method", "ci_note"]]

# %% [markdown]
# ## Each trained model against the rule system (paired bootstrap of the F1 difference, McNemar)

# %%
comparisons

# %%
display(Image(filename=snakemake.input.calibration))  # noqa: F821
display(Image(filename=snakemake.input.learning))  # noqa: F821

# %% [markdown]
# ## The rule system's errors

# %%
errors[["label", "error", "post_id", "evidence"]]

# %%
f1 = metrics[(metrics["metric"] == "f1") & (metrics["weighting"] == "design")]
numbers = {label: {"best_model": part.sort_values(["estimate", "model"], ascending=[False, True])["model"].iloc[0],
                   "f1": {m: [round(e, 4), round(lo, 4), round(hi, 4)] for m, e, lo, hi in
                          zip(part["model"], part["estimate"], part["ci_low"], part["ci_high"])}}
           for label, part in f1.groupby("label")}
numbers["test_posts"] = int((split["split"] == "test").sum())
with open(snakemake.output.numbers, "w", encoding="utf-8") as handle:  # noqa: F821
    handle.write(json.dumps(numbers, indent=2, sort_keys=True) + "\n")
numbers
