"""Identify each post's language with lingua (lingua-language-detector, maintained, offline).

The detector is restricted to the languages that plausibly appear on French
forums (config ``preprocess.language.candidates``): fewer candidates make
lingua both faster and more accurate on short posts. A post whose best
language scores below ``min_confidence`` (one-liners such as "+1", emoji
alone) gets ``und`` (undetermined, ISO 639-2) rather than a guess.

Forums repeat themselves ("merci", "+1", copied messages): :class:`LanguageCache`
detects each distinct text once and hands the same answer to its repeats. The
texts are detected one by one rather than with lingua's parallel call: the
threads of the parallel call cost about half as much CPU time again for the same
answers (docs/benchmarks.md, "Preprocessing").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from perivigil.errors import InputError

UNDETERMINED = "und"


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


def detect_language(detector: LanguageDetector, text: str, min_confidence: float) -> tuple[str, float]:
    """``(iso_639_1 or 'und', confidence rounded to 4 decimals)`` of one text."""
    values = detector.compute_language_confidence_values(text)
    if not values or values[0].value < min_confidence:
        return UNDETERMINED, round(values[0].value, 4) if values else 0.0
    return values[0].language.iso_code_639_1.name.lower(), round(values[0].value, 4)


def detect_languages(
    detector: LanguageDetector, texts: Sequence[str], min_confidence: float
) -> list[tuple[str, float]]:
    """``(iso_639_1 or 'und', confidence)`` per text, in order."""
    return [detect_language(detector, text, min_confidence) for text in texts]


class LanguageCache:
    """The language of each distinct text, detected once; repeats reuse the answer.

    Keyed by a 128-bit BLAKE2b digest of the text (the texts themselves are not
    kept): about 150 bytes per distinct text. ``detections`` counts the texts
    actually given to the detector.
    """

    def __init__(self, detector: LanguageDetector, min_confidence: float) -> None:
        self._detector = detector
        self._min_confidence = min_confidence
        self._known: dict[bytes, tuple[str, float]] = {}
        self.detections = 0

    def languages(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """``(iso_639_1 or 'und', confidence)`` per text, in order, as :func:`detect_languages` gives them."""
        results = []
        for text in texts:
            key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            result = self._known.get(key)
            if result is None:
                result = detect_language(self._detector, text, self._min_confidence)
                self._known[key] = result
                self.detections += 1
            results.append(result)
        return results
