"""Agreement outputs: the JSON of every coefficient, a table (CSV, LaTeX), two figures, the disagreements."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from perivigil.agreement import agreement_table
from perivigil.annotation.gold import disagreements
from perivigil.annotation.scheme import load_scheme
from perivigil.errors import InputError
from perivigil.files import atomic_path
from perivigil.report.figures import save_figure, write_csv, write_latex

SCHEME_LEVEL = {"binary": "nominal", "nominal": "nominal", "interval": "interval", "ratio": "ratio"}


def write_json(results: Mapping[str, Any], path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def summary_table(results: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    rows = []
    for label, r in results.items():
        ci = r["krippendorff_alpha_ci95"] or [None, None]
        kappas = [k for k in r["cohen_kappa"].values() if k is not None]
        rows.append(
            {
                "label": label,
                "level": r["level"],
                "units": r["n_units"],
                "annotators": r["n_annotators"],
                "alpha": r["krippendorff_alpha"],
                "alpha_ci_low": ci[0],
                "alpha_ci_high": ci[1],
                "p_alpha_below_0.667": r["p_alpha_below_0.667"],
                "fleiss_kappa": r["fleiss_kappa"],
                "gwet_ac1": r["gwet_ac1"],
                "percent_agreement": r["percent_agreement"],
                "cohen_kappa_min": min(kappas) if kappas else None,
                "cohen_kappa_max": max(kappas) if kappas else None,
            }
        )
    return pd.DataFrame(rows)


def format_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """A plain-text table for the terminal."""

    def f(x):
        return "  —  " if x is None else f"{x:.3f}"

    lines = [f"{'label':<20} {'alpha':>6} {'95% CI':>16} {'Fleiss':>7} {'AC1':>7} {'agree':>7} {'units':>6}"]
    for label, r in results.items():
        ci = r["krippendorff_alpha_ci95"]
        ci_text = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "—"
        lines.append(
            f"{label:<20} {f(r['krippendorff_alpha']):>6} {ci_text:>16} {f(r['fleiss_kappa']):>7} "
            f"{f(r['gwet_ac1']):>7} {f(r['percent_agreement']):>7} {r['n_units']:>6}"
        )
    return "\n".join(lines)


def alpha_figure(results: Mapping[str, Mapping[str, Any]]) -> Figure:
    labels = [name for name, r in results.items() if r["krippendorff_alpha"] is not None]
    figure = Figure(figsize=(6.5, 0.5 + 0.45 * max(len(labels), 1)))
    axes = figure.subplots()
    for y, label in enumerate(labels):
        r = results[label]
        low, high = r["krippendorff_alpha_ci95"]
        axes.plot([low, high], [y, y], color="C0", linewidth=2)
        axes.plot([r["krippendorff_alpha"]], [y], "o", color="C0")
    for threshold, style in ((0.667, ":"), (0.800, "--")):
        axes.axvline(threshold, color="grey", linestyle=style, linewidth=1)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlim(min(0.0, *(results[name]["krippendorff_alpha_ci95"][0] for name in labels)) if labels else 0, 1.0)
    axes.set_xlabel("Krippendorff's α (95% bootstrap CI); dotted 0.667, dashed 0.800")
    axes.invert_yaxis()
    return figure


def kappa_heatmap(results: Mapping[str, Mapping[str, Any]], label: str) -> Figure:
    pairs = results[label]["cohen_kappa"]
    annotators = sorted({a for pair in pairs for a in pair.split("|")})
    matrix = np.full((len(annotators), len(annotators)), np.nan)
    for pair, kappa in pairs.items():
        a, b = pair.split("|")
        i, j = annotators.index(a), annotators.index(b)
        matrix[i, j] = matrix[j, i] = np.nan if kappa is None else kappa
    np.fill_diagonal(matrix, 1.0)
    figure = Figure(figsize=(4, 3.4))
    axes = figure.subplots()
    image = axes.imshow(matrix, vmin=-0.2, vmax=1.0, cmap="viridis")
    axes.set_xticks(range(len(annotators)), annotators)
    axes.set_yticks(range(len(annotators)), annotators)
    for i in range(len(annotators)):
        for j in range(len(annotators)):
            if not np.isnan(matrix[i, j]):
                axes.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", color="white", fontsize=9)
    axes.set_title(f"Cohen's κ, {label}")
    figure.colorbar(image, ax=axes)
    return figure


def write_agreement(
    annotations_path: Path | str,
    sample_path: Path | str,
    labels_path: Path | str,
    settings: Mapping[str, Any],
    *,
    json_path: Path | str,
    csv_path: Path | str,
    tex_path: Path | str,
    disagreements_path: Path | str,
) -> dict[str, Any]:
    """Agreement on the overlap subset, per label of the scheme: JSON, CSV, LaTeX, disagreements.
    ``settings``: ``n_boot``, ``seed``, ``bootstrap`` (config ``agreement``)."""
    scheme = load_scheme(Path(labels_path))
    judgements = pd.read_parquet(annotations_path)
    overlap = set(pd.read_parquet(sample_path, columns=["post_id", "overlap"]).query("overlap")["post_id"])
    shared = judgements[judgements["post_id"].isin(overlap)].rename(columns={"post_id": "unit_id"})
    levels = {label.name: SCHEME_LEVEL[label.type] for label in scheme.labels}
    results = agreement_table(shared, levels, settings["n_boot"], settings["seed"], settings["bootstrap"])
    write_json(results, Path(json_path))
    table = summary_table(results)
    write_csv(table, csv_path)
    write_latex(
        table.drop(columns=["level", "alpha_ci_low", "alpha_ci_high", "cohen_kappa_min", "cohen_kappa_max"]),
        tex_path,
        caption="Inter-annotator agreement on the overlap subset (Krippendorff's α with a 95% "
        "bootstrap CI in the CSV).",
        label="tab:agreement",
    )
    write_csv(disagreements(judgements[judgements["post_id"].isin(overlap)]), disagreements_path)
    return results


def read_agreement(json_path: Path | str) -> dict[str, Any]:
    """The results written by :func:`write_agreement` (labels in its order: sorted)."""
    return json.loads(Path(json_path).read_text(encoding="utf-8"))


def write_agreement_figures(
    json_path: Path | str,
    heatmap_label: str,
    *,
    alpha: tuple[Path | str, Path | str],
    kappa: tuple[Path | str, Path | str],
) -> None:
    """Krippendorff's α per label and the pairwise κ heat map of ``heatmap_label`` (PNG and PDF each)."""
    results = read_agreement(json_path)
    if heatmap_label not in results:
        raise InputError(
            f"config: key 'agreement.heatmap_label': {heatmap_label!r} is not a label of {json_path} "
            f"({', '.join(results)})"
        )
    save_figure(alpha_figure(results), *alpha)
    save_figure(kappa_heatmap(results, heatmap_label), *kappa)
