"""The challenge suite: what the rule system handles and what it does not, phenomenon by phenomenon.

In the manner of CheckList (Ribeiro et al., "Beyond Accuracy: Behavioral Testing of NLP
Models with CheckList", ACL 2020): templates × fillers, each case with the labels the
study protocol expects, grouped by phenomenon (a way of naming a drug, of telling an
age, a negation, a relative, a warning…). Invariance sets (accents removed, SMS
spelling) keep the label; directional sets move the age across 14 or 24 SA and flip it.

The templates are data (``resources/challenge/templates.yaml``), written from the protocol
by a writer who had not read the code. Expansion (:func:`expand`): every ``{name}`` of a
template is filled from its ``vars`` or from the shared ``fillers``; all combinations are
made, then at most ``max_per_template`` are kept (a sample seeded by ``seed``; both from
config ``challenge``). An
expected label is a Python expression of the case's vars with ``late``, ``t1``,
``aspirin_min`` (the configured thresholds) and ``months_sa``, ``month_start_sa``,
``sg_to_sa`` (protocol §3); it is evaluated without builtins. The table written by
:func:`challenge_table` is ``results/tables/challenge.csv``.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from perivigil.errors import InputError
from perivigil.files import load_yaml
from perivigil.models import LABELS

MAX_PER_TEMPLATE = 40
EXAMPLES_SHOWN = 3
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Case:
    phenomenon: str
    text: str
    expected: dict[str, int]


def protocol_namespace(
    months_to_sa: list[float], iso_t1_max_sa: float, nsaid_late_min_sa: float, aspirin_min_mg_day: float
) -> dict[str, Any]:
    """The names an expected label may use: the thresholds and the conversions of protocol §3."""
    table = {month: float(sa) for month, sa in enumerate(months_to_sa, start=1)}

    def months_sa(n: int) -> float:
        return table[int(n)]

    def month_start_sa(n: int) -> float:
        return 0.0 if int(n) == 1 else table[int(n) - 1]

    def sg_to_sa(n: float) -> float:
        return float(n) + 2

    return {
        "late": nsaid_late_min_sa,
        "t1": iso_t1_max_sa,
        "aspirin_min": aspirin_min_mg_day,
        "months_sa": months_sa,
        "month_start_sa": month_start_sa,
        "sg_to_sa": sg_to_sa,
    }


def expand(
    templates_path: Path | str, namespace: Mapping[str, Any], seed: int = 0, max_per_template: int = MAX_PER_TEMPLATE
) -> Iterator[Case]:
    """Every case of the templates file (see the module docstring)."""
    raw = load_yaml(templates_path, "challenge templates")
    if not isinstance(raw, dict) or not isinstance(raw.get("phenomena"), list):
        raise InputError(f"{templates_path}: expected keys 'fillers' and 'phenomena' (a list)")
    fillers = raw.get("fillers") or {}
    rng = random.Random(seed)
    for p_index, phenomenon in enumerate(raw["phenomena"]):
        name = phenomenon.get("name") if isinstance(phenomenon, dict) else None
        if not name:
            raise InputError(f"{templates_path}: phenomena[{p_index}] has no name")
        for t_index, template in enumerate(phenomenon.get("templates") or []):
            where = f"{templates_path}: phenomenon '{name}', template {t_index + 1}"
            yield from _template_cases(template, fillers, namespace, name, where, rng, max_per_template)


def _template_cases(
    template: Mapping[str, Any],
    fillers: Mapping[str, list],
    namespace: Mapping[str, Any],
    phenomenon: str,
    where: str,
    rng: random.Random,
    max_per_template: int = MAX_PER_TEMPLATE,
) -> Iterator[Case]:
    text = template.get("text")
    if not isinstance(text, str):
        raise InputError(f"{where}: key 'text' is missing")
    variables = template.get("vars") or {}
    names = list(dict.fromkeys(_FIELD.findall(text)))
    pools = []
    for field_name in names:
        pool = variables.get(field_name, fillers.get(field_name))
        if not isinstance(pool, list) or not pool:
            raise InputError(f"{where}: no values for '{{{field_name}}}' in vars or fillers")
        pools.append(pool)
    combos = list(itertools.product(*pools))
    if len(combos) > max_per_template:
        combos = rng.sample(combos, max_per_template)
    expect = template.get("expect") or {}
    if set(expect) != set(LABELS):
        raise InputError(f"{where}: key 'expect' must give {list(LABELS)}")
    for combo in combos:
        values = dict(zip(names, combo))
        scope = {**namespace, **{k: v for k, v in values.items() if k in variables}}
        expected = {label: int(bool(_evaluate(str(expect[label]), scope, where))) for label in LABELS}
        yield Case(phenomenon, text.format(**values), expected)


def _evaluate(expression: str, scope: Mapping[str, Any], where: str) -> Any:
    try:
        return eval(expression, {"__builtins__": {}}, dict(scope))  # noqa: S307 (project data, no builtins)
    except Exception as exc:
        raise InputError(f"{where}: expected label {expression!r} cannot be evaluated ({exc})") from None


def run_cases(cases: list[Case], classify: Callable[[str], Mapping[str, int]]) -> pd.DataFrame:
    """One row per case: phenomenon, text, expected and predicted labels, passed (both labels right)."""
    rows = []
    for case in cases:
        predicted = classify(case.text)
        row: dict[str, object] = {"phenomenon": case.phenomenon, "text": case.text}
        for label in LABELS:
            row[f"expected_{label}"] = case.expected[label]
            row[f"predicted_{label}"] = int(predicted[label])
        row["passed"] = all(case.expected[label] == int(predicted[label]) for label in LABELS)
        rows.append(row)
    return pd.DataFrame(rows)


def challenge_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per phenomenon: cases, passed, share passed, and a few failures with what was expected."""
    rows = []
    for phenomenon, group in results.groupby("phenomenon", sort=False):
        failed = group[~group["passed"]]
        examples = " | ".join(
            f"{r.text} (expected iso_t1={r.expected_iso_t1} nsaid_late={r.expected_nsaid_late})"
            for r in failed.head(EXAMPLES_SHOWN).itertuples()
        )
        rows.append(
            {
                "phenomenon": phenomenon,
                "cases": len(group),
                "passed": int(group["passed"].sum()),
                "share_passed": round(float(group["passed"].mean()), 4),
                "failures": examples,
            }
        )
    table = pd.DataFrame(rows, columns=["phenomenon", "cases", "passed", "share_passed", "failures"])
    table["cases"] = table["cases"].astype("int64")
    table["passed"] = table["passed"].astype("int64")
    return table


def rule_system_classifier(config: Mapping[str, Any], lexicon: pd.DataFrame) -> Callable[[str], dict[str, int]]:
    """The study's rule system on one text (no post date): extraction of its events, then the decision."""
    from perivigil.extract.pipeline import event_rows
    from perivigil.extract.run import extractor_from_config
    from perivigil.models.rules import decide, thresholds_from_config

    extractor = extractor_from_config(config, lexicon)
    thresholds = thresholds_from_config(config)

    def classify(text: str) -> dict[str, int]:
        decision = decide(event_rows("case", extractor.extract(text)), thresholds)
        return {"iso_t1": decision.iso_t1, "nsaid_late": decision.nsaid_late}

    return classify


def suite_results(
    config: Mapping[str, Any], lexicon: pd.DataFrame, templates: Path | str | None = None
) -> pd.DataFrame:
    """Every case of the configured suite, run through the configured rule system."""
    from perivigil.models.rules import thresholds_from_config

    section = config["challenge"]
    thresholds = thresholds_from_config(config)
    namespace = protocol_namespace(
        config["extract"]["months_to_sa"],
        thresholds.iso_t1_max_sa,
        thresholds.nsaid_late_min_sa,
        thresholds.aspirin_min_mg_day,
    )
    cases = list(
        expand(templates or section["templates"], namespace, int(section["seed"]), int(section["max_per_template"]))
    )
    return run_cases(cases, rule_system_classifier(config, lexicon))


def write_challenge(
    templates: Path | str, lexicon_path: Path | str, output: Path | str, config: Mapping[str, Any]
) -> pd.DataFrame:
    """``results/tables/challenge.csv``: the suite's table, checked, written whole or not at all."""
    from perivigil.files import atomic_path
    from perivigil.logs import Progress
    from perivigil.schemas import CHALLENGE, check

    lexicon = pd.read_parquet(lexicon_path)
    progress = Progress("challenge", "phenomena")
    results = suite_results(config, lexicon, templates)
    table = check(CHALLENGE, challenge_table(results), str(output))
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    below = table[table["share_passed"] < 0.95]
    progress.finish(
        f"{int(table['passed'].sum()):,} of {int(table['cases'].sum()):,} cases passed; "
        f"{len(below)} phenomena below 95 %"
    )
    return table
