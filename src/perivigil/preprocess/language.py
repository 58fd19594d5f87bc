"""Identify each post's language with lingua (lingua-language-detector, maintained, offline).

The detector is restricted to the languages that plausibly appear on French
forums (config ``preprocess.language.candidates``): fewer candidates make
lingua both faster and more accurate on short posts. A post whose best
language scores below ``min_confidence`` (one-liners such as "+1", emoji
alone) gets ``und`` (undetermined, ISO 639-2) rather than a guess.
"""

from __future__ import annotations

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


def detect_languages(
    detector: LanguageDetector, texts: Sequence[str], min_confidence: float
) -> list[tuple[str, float]]:
    """``(iso_639_1 or 'und', confidence)`` per text, in order."""
    results: list[tuple[str, float]] = []
    for values in detector.compute_language_confidence_values_in_parallel(list(texts)):
        if not values or values[0].value < min_confidence:
            results.append((UNDETERMINED, round(values[0].value, 4) if values else 0.0))
        else:
            results.append((values[0].language.iso_code_639_1.name.lower(), round(values[0].value, 4)))
    return results
