# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Corpus: what was collected and what preprocessing kept
#
# Executed by the rule `notebook` (stage `corpus`, Snakemake `notebook:` directive); rendered to
# `results/notebooks/corpus.html`. It reads the corpus tables and shows the paper figure
# `corpus_by_board_month.png`, which rule `corpus_overview` makes
# (`workflow/scripts/corpus_overview.py`). The numbers the thesis quotes are written to
# `results/notebooks/corpus_numbers.json`.

# %%
import json

import pandas as pd
from IPython.display import Image, display

posts = pd.read_parquet(snakemake.input.posts)  # noqa: F821 (the snakemake object is injected)
report = pd.read_csv(snakemake.input.report, keep_default_na=False)  # noqa: F821
summary = json.loads(open(snakemake.input.summary, encoding="utf-8").read())  # noqa: F821

# %% [markdown]
# ## Collection: pages and posts kept or skipped, with the reason

# %%
report.pivot_table(index=["source", "level", "reason"], columns="outcome", values="count", aggfunc="sum",
                   fill_value=0)

# %% [markdown]
# ## Preprocessing: languages, duplicates, masking

# %%
pd.DataFrame({"count": {"posts": summary["posts"], "exact duplicates": summary["exact_duplicates"],
                        "near duplicates": summary["near_duplicates"], **{f"masked {k}": v for k, v in
                                                                          summary["masked"].items()}}})

# %%
pd.Series(summary["languages"], name="posts").sort_values(ascending=False).to_frame()

# %% [markdown]
# ## Posts per board and year

# %%
posts.assign(year=posts["created_at"].dt.year).pivot_table(index="board", columns="year", values="post_id",
                                                          aggfunc="count", fill_value=0)

# %%
posts["n_chars"].describe().round(1).to_frame("characters per post")

# %%
display(Image(filename=snakemake.input.figure))  # noqa: F821

# %%
dated = posts["created_at"].dropna()
numbers = {"posts": int(len(posts)), "threads": int(posts["thread_id"].nunique()),
           "boards": int(posts["board"].nunique()), "sources": sorted(posts["source"].unique().tolist()),
           "first_post": dated.min().strftime("%Y-%m-%d"), "last_post": dated.max().strftime("%Y-%m-%d"),
           "french_posts": int(summary["languages"].get("fr", 0)),
           "exact_duplicates": int(summary["exact_duplicates"]), "near_duplicates": int(summary["near_duplicates"])}
with open(snakemake.output.numbers, "w", encoding="utf-8") as handle:  # noqa: F821
    handle.write(json.dumps(numbers, indent=2, sort_keys=True) + "\n")
numbers
