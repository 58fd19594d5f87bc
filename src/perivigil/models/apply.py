"""Apply one model to the whole corpus: counts, corrected prevalence, characterisation tables.

The model is chosen in config (``apply.model``): the rule system (its decisions are read
from ``decisions.parquet``, written once by rule ``decide``) or a trained model (linear or
transformer), run on every post's text.

Study protocol §6: the prevalence of each situation in the corpus is corrected for the
classifier's sensitivity and specificity (Rogan–Gladen), both ways: ``weighting = design``
(Se, Sp weighted by 1 / inclusion probability: the corpus's) and ``sample`` (unweighted). Its 95 % interval carries the
uncertainty of both: each bootstrap replicate draws threads of the test split (giving
Se*, Sp*) and threads of the corpus (giving the apparent prevalence p*), and computes
RG(p*, Se*, Sp*); the interval is the replicates' 2.5 and 97.5 percentiles. The
characterisation tables describe the posts labelled positive through the mentions that
make them positive (drug, gestational age, person) and through the indications the post
states (why; :mod:`perivigil.extract.indications`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from perivigil.evaluation import (
    bootstrap_strata,
    cluster_counts,
    design_replicate_counts,
    kish_effective_n,
    resampled_sums,
    rogan_gladen,
)
from perivigil.extract.indications import indications_near
from perivigil.models import LABELS
from perivigil.models.rules import labels_from_decisions
from perivigil.report.figures import write_csv
from perivigil.schemas import (
    CHARACTERISATION_AGES,
    CHARACTERISATION_DRUGS,
    CHARACTERISATION_INDICATION,
    CHARACTERISATION_PERSON,
    POSITIVES_BY_BOARD_MONTH,
    PREVALENCE,
    check,
)

LAST_BAND = ">= 36 SA"


def age_bands(iso_t1_max_sa: float = 14.0, nsaid_late_min_sa: float = 24.0) -> list[tuple[float, str]]:
    """Gestational-age bands of the characterisation table (upper limit, name), closed where the rules'
    thresholds are: first trimester <= ``iso_t1_max_sa`` (iso_t1), NSAIDs from ``nsaid_late_min_sa``
    (nsaid_late), then 4-week bands up to 36 SA (``LAST_BAND`` beyond)."""
    if not 0 < iso_t1_max_sa < nsaid_late_min_sa < 36:
        raise ValueError(
            f"age bands: need 0 < iso_t1_max_sa ({iso_t1_max_sa:g}) < nsaid_late_min_sa ({nsaid_late_min_sa:g}) < 36"
        )
    iso_t1_max_sa, nsaid_late_min_sa = float(iso_t1_max_sa), float(nsaid_late_min_sa)
    bands = [
        (iso_t1_max_sa, f"<= {iso_t1_max_sa:g} SA"),
        (nsaid_late_min_sa, f"> {iso_t1_max_sa:g} and < {nsaid_late_min_sa:g} SA"),
    ]
    start = nsaid_late_min_sa
    for limit in (28.0, 32.0, 36.0):
        if limit > start:
            bands.append((limit, f"{start:g} to < {limit:g} SA"))
            start = limit
    return bands


# The bands at the protocol's primary thresholds (14 and 24 SA).
AGE_BANDS = age_bands()
NO_AGE = "trimester or cue only"
NO_MENTION = "no drug mention"
# The columns of mentions.parquet the characterisation tables read.
MENTION_COLUMNS = ("post_id", "mention_index", "start", "inn", "drug_class", "gestational_age_sa", "person")
# The drug classes whose mentions characterise a positive post of each label.
LABEL_CLASSES = {"iso_t1": ("isotretinoin",), "nsaid_late": ("nsaid", "aspirin", "aspirin_analgesic")}


def corpus_labels(decisions: pd.DataFrame, post_ids: pd.Series) -> pd.DataFrame:
    """post_id → iso_t1, nsaid_late (0/1): the rule system's decisions (``decisions.parquet``), in ``post_ids``' order."""
    labels = labels_from_decisions(decisions).set_index("post_id").reindex(pd.Index(post_ids))
    frame = pd.DataFrame({"post_id": post_ids})
    undecided = frame.loc[labels[LABELS[0]].isna().to_numpy(), "post_id"]
    if len(undecided):
        raise ValueError(
            f"decisions: {len(undecided)} post(s) have no decision, first {undecided.iloc[0]!r}; rerun rule decide"
        )
    for label in LABELS:
        frame[label] = labels[label].to_numpy() if len(frame) else np.zeros(0, int)
    return frame.astype({label: int for label in LABELS})


def supporting_events(decisions: pd.DataFrame, label: str) -> pd.DataFrame:
    """``post_id, mention_index`` of the events behind each positive decision of ``label`` (one row each)."""
    chosen = decisions.loc[(decisions["label"] == label) & (decisions["value"] == 1), ["post_id", "mention_indexes"]]
    events = chosen.assign(mention_index=chosen["mention_indexes"].astype(str).str.split(",")).explode("mention_index")
    events = events[events["mention_index"].notna() & (events["mention_index"] != "")]
    return pd.DataFrame(
        {"post_id": events["post_id"].to_numpy(), "mention_index": events["mention_index"].astype("int64").to_numpy()}
    )


def _se_sp_replicates(
    counts: np.ndarray, sizes: tuple[float, float], rng: np.random.Generator, notes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Se*, Sp* of the replicates; where every replicate is equal (no error seen), draws from the
    Jeffreys Beta(x + 1/2, n − x + 1/2) on ``sizes`` (posts, or their effective number) instead."""
    with np.errstate(divide="ignore", invalid="ignore"):
        values = [counts[:, 0] / (counts[:, 0] + counts[:, 2]), counts[:, 3] / (counts[:, 3] + counts[:, 1])]
    for i, (name, n) in enumerate(zip(("Se", "Sp"), sizes)):
        finite = values[i][np.isfinite(values[i])]
        if len(finite) and np.all(finite == finite[0]) and n > 0:
            x = finite[0] * n
            values[i] = rng.beta(x + 0.5, n - x + 0.5, size=len(values[i]))
            notes.append(f"{name} = {finite[0]:g} in every replicate: drawn from the Jeffreys beta on n = {n:.1f}")
    return values[0], values[1]


# Cells (replicates × threads) of one chunk of the corpus bootstrap: its draws, their counts and weights take
# about 8 bytes a cell each, so that a chunk stays near 100 MB whatever the number of threads.
BOOTSTRAP_CELLS = 1 << 22


def replicate_chunk(n_clusters: int, cells: int = BOOTSTRAP_CELLS) -> int:
    """Replicates drawn together over ``n_clusters`` clusters (1000 at most, as in
    :func:`perivigil.evaluation.resampled_sums`). The draws come from the generator in the same
    order whatever the chunk, so the replicates do not depend on it."""
    return max(1, min(1000, cells // max(1, n_clusters)))


def corrected_prevalence(
    predicted: np.ndarray,
    threads: np.ndarray,
    test_truth: np.ndarray,
    test_predicted: np.ndarray,
    test_threads: np.ndarray,
    n_boot: int,
    seed: int,
    test_weights: np.ndarray | None = None,
    test_strata: np.ndarray | None = None,
) -> dict[str, Any]:
    """Apparent and Rogan–Gladen prevalence, with a bootstrap interval carrying Se, Sp and sampling.

    With ``test_weights`` (1 / inclusion probability) and ``test_strata``, Se and Sp are
    design-weighted and their replicates come from the Rao–Wu bootstrap within strata;
    otherwise from the cluster bootstrap of the test threads.
    """
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    truth, guess = np.asarray(test_truth, bool), np.asarray(test_predicted, bool)
    if test_weights is None:
        test_counts = cluster_counts(truth, guess, test_threads)
        (test_sums,) = resampled_sums([test_counts], n_boot, rng)
        sizes = (float(truth.sum()), float((~truth).sum()))
    else:
        if test_strata is None:
            raise ValueError("design-weighted intervals need the test posts' strata with their weights")
        units, unit_strata = bootstrap_strata(test_strata, test_threads)
        test_counts = cluster_counts(truth, guess, units, test_weights)
        test_sums = design_replicate_counts(test_counts, unit_strata, n_boot, rng)
        weights = np.asarray(test_weights, float)
        sizes = (kish_effective_n(weights[truth]), kish_effective_n(weights[~truth]))
    tp, fp, fn, tn = test_counts.sum(axis=0)
    sensitivity, specificity = tp / (tp + fn), tn / (tn + fp)
    corpus = np.stack(
        [
            pd.Series(predicted).groupby(threads).sum().to_numpy(),
            pd.Series(predicted).groupby(threads).size().to_numpy(),
        ],
        axis=1,
    ).astype(float)
    (corpus_sums,) = resampled_sums([corpus], n_boot, rng, chunk=replicate_chunk(len(corpus)))
    se, sp = _se_sp_replicates(test_sums, sizes, rng, notes)
    replicates = np.array([rogan_gladen(p, n, s, q) for (p, n), s, q in zip(corpus_sums, se, sp)])
    undefined = int(np.sum(~np.isfinite(replicates)))
    replicates = replicates[np.isfinite(replicates)]
    low, high = np.quantile(replicates, [0.025, 0.975]) if len(replicates) else (np.nan, np.nan)
    positives, n = float(predicted.sum()), float(len(predicted))
    if sensitivity + specificity <= 1:
        notes.append("correction undefined: Se + Sp <= 1")
    else:
        raw = (positives / n + specificity - 1) / (sensitivity + specificity - 1)
        if not 0 <= raw <= 1:
            notes.append(f"corrected value {raw:.4f} outside [0, 1]: clipped")
    if undefined:
        notes.append(f"{undefined} replicate(s) with Se + Sp <= 1 left out")
    return {
        "posts": int(n),
        "positives": int(positives),
        "apparent_prevalence": positives / n,
        "sensitivity": float(sensitivity),
        "specificity": float(specificity),
        "corrected_prevalence": rogan_gladen(positives, n, sensitivity, specificity),
        "ci_low": float(low),
        "ci_high": float(high),
        "valid_replicates": int(len(replicates)),
        "ci_note": "; ".join(notes),
    }


def age_band(sa: float, bands: list[tuple[float, str]] | None = None) -> str:
    """The band of a gestational age in SA (NaN: the post gave a trimester or a cue, no age)."""
    bands = AGE_BANDS if bands is None else bands
    if pd.isna(sa):
        return NO_AGE
    if sa <= bands[0][0]:
        return bands[0][1]
    return next((name for limit, name in bands[1:] if sa < limit), LAST_BAND)


def age_bands_of(ages: pd.Series | np.ndarray, bands: list[tuple[float, str]] | None = None) -> np.ndarray:
    """:func:`age_band` of each age, column-wise (the first band whose limit holds wins)."""
    bands = AGE_BANDS if bands is None else bands
    values = np.asarray(ages, dtype=float)
    names = np.full(len(values), LAST_BAND, dtype=object)
    for limit, name in reversed(bands[1:]):  # the smallest limit above an age is written last
        names[values < limit] = name
    names[values <= bands[0][0]] = bands[0][1]
    names[np.isnan(values)] = NO_AGE
    return names


def with_unexplained(table: pd.DataFrame, column: str, labels: pd.DataFrame, support: pd.DataFrame) -> pd.DataFrame:
    """``table`` plus, per label, the positive posts without any supporting mention (``no drug mention``),
    so that each characterisation table counts every positive post."""
    extra = []
    for label in LABELS:
        missing = (labels[label] == 1).sum() - support.loc[support["label"] == label, "post_id"].nunique()
        if missing:
            extra.append({"label": label, column: NO_MENTION, "posts": int(missing)})
    if not extra:
        return table.reset_index(drop=True)
    return pd.concat([table, pd.DataFrame(extra)], ignore_index=True)


def label_models(model: str, model_paths: Mapping[str, str]):
    """The saved models of ``model`` (one per label), applied together
    (:class:`perivigil.models.linear.LabelModels`: one shared transform per batch where it can)."""
    from perivigil.models.linear import LabelModels
    from perivigil.models.store import load_model

    return LabelModels({label: load_model(Path(model_paths[f"{model}_{label}"])) for label in LABELS})


def predicted_labels(post_ids: pd.Series, predictions: Iterable[Mapping[str, tuple[np.ndarray, Any]]]) -> pd.DataFrame:
    """post_id → iso_t1, nsaid_late (0/1), from the labels of consecutive batches of posts."""
    parts: dict[str, list[np.ndarray]] = {label: [] for label in LABELS}
    for batch in predictions:
        for label in LABELS:
            parts[label].append(np.asarray(batch[label][0]).astype(int))
    frame = pd.DataFrame({"post_id": post_ids.reset_index(drop=True)})
    for label in LABELS:
        frame[label] = np.concatenate(parts[label]) if parts[label] else np.zeros(0, int)
    if len(frame[LABELS[0]]) != len(post_ids):  # pragma: no cover - the batches come from the same posts
        raise ValueError(f"predictions: {len(frame[LABELS[0]])} labels for {len(post_ids)} posts")
    return frame


def corpus_predictions(
    model: str, posts: pd.DataFrame, decisions: pd.DataFrame, model_paths: Mapping[str, str], batch_size: int = 5000
) -> pd.DataFrame:
    """post_id → iso_t1, nsaid_late (0/1) by ``model``: the rule system's decisions, or a saved model per label."""
    if model == "rules":
        return corpus_labels(decisions, posts["post_id"])
    texts = posts["text"]
    batches = (texts.iloc[i : i + batch_size].tolist() for i in range(0, len(texts), batch_size))
    return predicted_labels(posts["post_id"], label_models(model, model_paths).predict_batches(batches))


def parquet_batches(path: Path, columns: list[str], batch_size: int) -> Iterator[pa.RecordBatch]:
    """Record batches of ``columns`` of a Parquet file, in order (memory: one batch)."""
    yield from pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns)


def texts_of(posts_path: Path, post_ids: Iterable[str], batch_size: int = 20000) -> dict[str, str]:
    """post_id → text of ``post_ids`` only, read from ``posts.parquet`` one batch at a time."""
    wanted = pa.array(sorted(set(post_ids)), type=pa.string())
    texts: dict[str, str] = {}
    if not len(wanted):
        return texts
    for batch in parquet_batches(posts_path, ["post_id", "text"], batch_size):
        ids = batch.column(0)
        kept = batch.filter(pc.is_in(ids, value_set=wanted.cast(ids.type)))
        texts.update(zip(kept.column(0).to_pylist(), kept.column(1).to_pylist()))
    return texts


def supporting_mentions(
    mentions: pd.DataFrame, labels: pd.DataFrame, label: str, decisions: pd.DataFrame
) -> pd.DataFrame:
    """The mentions behind each post labelled positive: those the rules count for ``label``; failing
    that (a trained model's positive), the mentions of the label's drug classes in the post."""
    chosen = mentions[mentions["post_id"].isin(labels.loc[labels[label] == 1, "post_id"])]
    counted = pd.MultiIndex.from_frame(supporting_events(decisions, label))
    supports = chosen[pd.MultiIndex.from_frame(chosen[["post_id", "mention_index"]]).isin(counted)]
    classes = LABEL_CLASSES[label]
    fallback = chosen[~chosen["post_id"].isin(set(supports["post_id"])) & chosen["drug_class"].isin(classes)]
    return (
        pd.concat([supports, fallback])
        .sort_values(["post_id", "mention_index"])
        .drop_duplicates(["post_id", "inn"])
        .assign(label=label)
    )


def indication_table(labels: pd.DataFrame, support: pd.DataFrame, texts: Mapping[str, str]) -> pd.DataFrame:
    """label, indication, posts (a post stating several indications counts once in each), positives.

    Indications are read around the post's supporting mentions (``support``), or in the whole
    post when it has none.
    """
    rows = []
    for label in LABELS:
        positives = labels.loc[labels[label] == 1, "post_id"]
        starts = support[support["label"] == label].groupby("post_id")["start"].agg(list)
        counts: dict[str, int] = {}
        for post_id in positives:
            for name in indications_near(texts[post_id], starts.get(post_id, [])):
                counts[name] = counts.get(name, 0) + 1
        rows += [
            {"label": label, "indication": name, "posts": n, "positives": len(positives)}
            for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
    return pd.DataFrame(rows, columns=["label", "indication", "posts", "positives"])


def apply_model(
    posts_path: Path,
    mentions_path: Path,
    decisions_path: Path,
    predictions_path: Path,
    model_paths: Mapping[str, str],
    settings: Mapping[str, Any],
    outputs,
    bands: list[tuple[float, str]] | None = None,
    batch_size: int = 5000,
) -> pd.DataFrame:
    """The chosen model on the whole corpus: prevalence, counts by board and month, characterisation.

    ``bands``: the gestational-age bands (:func:`age_bands` of the rules' thresholds; default 14/24 SA).
    Memory does not hold the posts' texts: a trained model reads them ``batch_size`` at a time, and the
    indication table reads those of the positive posts only.
    """
    bands = AGE_BANDS if bands is None else bands
    model = settings["model"]
    posts = pd.read_parquet(posts_path, columns=["post_id", "thread_id", "board", "created_at"])
    decisions = pd.read_parquet(decisions_path, columns=["post_id", "label", "value", "mention_indexes"])
    if model == "rules":
        predicted = corpus_labels(decisions, posts["post_id"])
    else:
        batches = (b.column(0).to_pylist() for b in parquet_batches(Path(posts_path), ["text"], batch_size))
        predicted = predicted_labels(posts["post_id"], label_models(model, model_paths).predict_batches(batches))
    labels = predicted.merge(posts, on="post_id")
    del posts, predicted
    test = pd.read_csv(predictions_path, dtype={"post_id": str, "thread_id": str, "stratum": str})
    rows = []
    for label in LABELS:
        for weighting in ("design", "sample"):
            design = weighting == "design"
            result = corrected_prevalence(
                labels[label].to_numpy(),
                labels["thread_id"].to_numpy(),
                test[label].to_numpy(),
                test[f"{model}_{label}"].to_numpy(),
                test["thread_id"].to_numpy(),
                settings["n_boot"],
                settings["seed"],
                test["weight"].to_numpy() if design else None,
                test["stratum"].to_numpy() if design else None,
            )
            rows.append({"model": model, "label": label, "weighting": weighting, **result})
    prevalence = pd.DataFrame(rows)
    write_csv(check(PREVALENCE, prevalence, str(outputs.prevalence)), outputs.prevalence)
    month = labels["created_at"].dt.strftime("%Y-%m")
    counts = labels.assign(month=month).groupby(["board", "month"])[list(LABELS)].sum().reset_index()
    counts = counts[(counts["iso_t1"] > 0) | (counts["nsaid_late"] > 0)]
    write_csv(check(POSITIVES_BY_BOARD_MONTH, counts, str(outputs.by_board_month)), outputs.by_board_month)
    mentions = pd.read_parquet(mentions_path, columns=list(MENTION_COLUMNS))
    support = pd.concat(
        [supporting_mentions(mentions, labels, label, decisions) for label in LABELS], ignore_index=True
    )
    del mentions, decisions
    drugs = support.groupby(["label", "inn"])["post_id"].nunique().rename("posts").reset_index()
    drugs = with_unexplained(
        drugs.sort_values(["label", "posts", "inn"], ascending=[True, False, True]), "inn", labels, support
    )
    write_csv(check(CHARACTERISATION_DRUGS, drugs, str(outputs.drugs)), outputs.drugs)
    first = support.drop_duplicates(["label", "post_id"])
    ages = first.assign(gestational_age=age_bands_of(first["gestational_age_sa"], bands))
    ages = ages.groupby(["label", "gestational_age"])["post_id"].nunique().rename("posts").reset_index()
    order = {name: i for i, name in enumerate([*(n for _, n in bands), LAST_BAND, NO_AGE])}
    ages = ages.sort_values(["label", "gestational_age"], key=lambda c: c.map(order) if c.name != "label" else c)
    ages = with_unexplained(ages, "gestational_age", labels, support)
    write_csv(check(CHARACTERISATION_AGES, ages, str(outputs.ages)), outputs.ages)
    people = first.groupby(["label", "person"])["post_id"].nunique().rename("posts").reset_index()
    people = with_unexplained(people, "person", labels, support)
    write_csv(check(CHARACTERISATION_PERSON, people, str(outputs.people)), outputs.people)
    positive = labels.loc[(labels[list(LABELS)] == 1).any(axis=1), "post_id"]
    reasons = indication_table(labels, support, texts_of(Path(posts_path), positive))
    write_csv(check(CHARACTERISATION_INDICATION, reasons, str(outputs.indications)), outputs.indications)
    return prevalence
