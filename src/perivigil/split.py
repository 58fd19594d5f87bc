"""Train / test split of the gold posts: by thread, stratified on both labels, seeded, leak-checked.

Study protocol §6: posts of one thread never straddle train and test. Threads are dealt
to folds by scikit-learn's ``StratifiedGroupKFold`` on the joint label (iso_t1,
nsaid_late); the first fold is the test split. A post of the test split whose text is an
exact or near duplicate of a training post (the same message reposted in another
thread) would leak: it is moved out of the test split (``split = "excluded"``, with the
reason), not silently kept. Joining threads through duplicates instead was tried and
fails on forums where messages are reposted across many threads: one giant group.
:func:`check_no_leak` fails the run on any thread or duplicate cluster on both sides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from perivigil.errors import InputError


def text_clusters(posts: pd.DataFrame) -> pd.Series:
    """post_id → the first post of its exact / near-duplicate chain (itself when it has none)."""
    parent = {p: p for p in posts["post_id"]}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for column in ("duplicate_of", "near_duplicate_of"):
        for post_id, other in zip(posts["post_id"], posts[column]):
            if isinstance(other, str) and other in parent:
                a, b = find(post_id), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return pd.Series({p: find(p) for p in parent}, name="text_cluster")


def split_gold(labels: pd.DataFrame, posts: pd.DataFrame, test_fraction: float, seed: int) -> pd.DataFrame:
    """``post_id, thread_id, text_cluster, split, reason, iso_t1, nsaid_late`` for the gold posts."""
    info = posts[["post_id", "thread_id"]].assign(text_cluster=lambda f: f["post_id"].map(text_clusters(posts)))
    frame = labels.merge(info, on="post_id", how="left").sort_values("post_id").reset_index(drop=True)
    if frame["thread_id"].isna().any():
        missing = frame.loc[frame["thread_id"].isna(), "post_id"].iloc[0]
        raise InputError(f"gold post {missing!r} is not in posts.parquet")
    strata = frame["iso_t1"].astype(int) * 2 + frame["nsaid_late"].astype(int)
    folds = StratifiedGroupKFold(n_splits=max(2, round(1 / test_fraction)), shuffle=True, random_state=seed)
    _, test_index = next(folds.split(np.zeros(len(frame)), strata, frame["thread_id"]))
    frame["split"], frame["reason"] = "train", ""
    frame.loc[test_index, "split"] = "test"
    in_train = set(frame.loc[frame["split"] == "train", "text_cluster"])
    leaking = (frame["split"] == "test") & frame["text_cluster"].isin(in_train)
    frame.loc[leaking, "split"] = "excluded"
    frame.loc[leaking, "reason"] = "duplicate of a training post"
    return frame[["post_id", "thread_id", "text_cluster", "split", "reason", "iso_t1", "nsaid_late"]]


def check_no_leak(split: pd.DataFrame) -> None:
    """Raise if a thread or a duplicate cluster has posts in train and in test."""
    used = split[split["split"].isin(["train", "test"])]
    for key, name in (("thread_id", "thread"), ("text_cluster", "duplicate cluster")):
        sides = used.groupby(key)["split"].nunique()
        leaking = sides[sides > 1]
        if len(leaking):
            value = leaking.index[0]
            rows = used.loc[used[key] == value].sort_values("split")
            raise InputError(
                f"split leak: {name} {value!r} is in train and test (posts "
                f"{rows['post_id'].iloc[-1]!r} in train and {rows['post_id'].iloc[0]!r} in test)"
            )
