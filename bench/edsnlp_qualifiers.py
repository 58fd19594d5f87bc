"""Compare our exposure and person cues with edsnlp's qualifiers on the test cases.

    python bench/edsnlp_qualifiers.py

For each case of ``tests/test_extractors.py`` (EXPOSURE_CASES, PERSON_CASES), the drug
span is given to edsnlp's ``eds.negation``, ``eds.hypothesis`` and ``eds.family``
(after ``eds.normalizer`` and ``eds.sentences``) and read as: negated if negation,
intended if hypothesis, else actual; relative if family, else self. Prints a Markdown
table of the cases each method gets right.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import edsnlp  # noqa: E402
import edsnlp.pipes as eds  # noqa: E402

from perivigil.extract.cues import exposure_of, person_of  # noqa: E402
from perivigil.extract.text import matching_form, sentence_spans  # noqa: E402
from test_extractors import EXPOSURE_CASES, PERSON_CASES  # noqa: E402


def _edsnlp():
    nlp = edsnlp.blank("eds")
    nlp.add_pipe(eds.normalizer())
    nlp.add_pipe(eds.sentences())
    qualifiers = [eds.negation(nlp=nlp), eds.hypothesis(nlp=nlp), eds.family(nlp=nlp)]
    return nlp, qualifiers


def _qualified(nlp, qualifiers, text: str, drug: str):
    start = matching_form(text).index(drug)
    doc = nlp(text)
    span = doc.char_span(start, start + len(drug), label="drug", alignment_mode="expand")
    doc.ents = [span]
    for qualifier in qualifiers:
        doc = qualifier(doc)
    return doc.ents[0]


def _ours(text: str, drug: str):
    form = matching_form(text)
    start = form.index(drug)
    spans = sentence_spans(form)
    index = next(i for i, (s, e) in enumerate(spans) if s <= start < e)
    following = spans[index + 1] if index + 1 < len(spans) else None
    previous = spans[index - 1] if index > 0 else None
    return (exposure_of(form, spans[index], following, start, start + len(drug)),
            person_of(form, spans[index], previous, start)[0])


def main() -> None:
    nlp, qualifiers = _edsnlp()
    rows = []
    exp_ours = exp_eds = exp_n = exp_eds_no_none = exp_n_no_none = 0
    for text, drug, expected in EXPOSURE_CASES:
        span = _qualified(nlp, qualifiers, text, drug)
        theirs = "negated" if span._.negation else "intended" if span._.hypothesis else "actual"
        mine = _ours(text, drug)[0]
        exp_n += 1
        exp_ours += mine == expected
        exp_eds += theirs == expected
        if expected != "none":
            exp_n_no_none += 1
            exp_eds_no_none += theirs == expected
        if theirs != expected:
            rows.append(f"| exposure | {text} | {expected} | {mine} | {theirs} |")
    per_ours = per_eds = per_n = 0
    for text, drug, expected, _ in PERSON_CASES:
        span = _qualified(nlp, qualifiers, text, drug)
        theirs = "relative" if span._.family else "self"
        mine = _ours(text, drug)[1]
        per_n += 1
        per_ours += mine == expected
        per_eds += theirs == expected
        if theirs != expected:
            rows.append(f"| person | {text} | {expected} | {mine} | {theirs} |")
    print("| cue | cases | ours | edsnlp qualifiers |")
    print("|---|---|---|---|")
    print(f"| exposure (negated / intended / actual / none) | {exp_n} | {exp_ours} | {exp_eds} |")
    print(f"| exposure, cases edsnlp can express (no 'none') | {exp_n_no_none} | "
          f"{sum(1 for t, d, e in EXPOSURE_CASES if e != 'none' and _ours(t, d)[0] == e)} | {exp_eds_no_none} |")
    print(f"| person (self / relative / other) | {per_n} | {per_ours} | {per_eds} |")
    print()
    print("| cue | post | expected | ours | edsnlp |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
