"""Find exact duplicates, near duplicates and the posts that quoted replies quote.

- Exact: same text once case, accents, punctuation and spaces are set aside
  (double posts, copy-pasted messages across threads).
- Near: MinHash LSH (datasketch) over word shingles, flagged when the
  estimated Jaccard similarity reaches the threshold (reworded reposts).
- Quoted: a reply's quote is matched to the earlier post of the same thread,
  by the same author, that begins with the quoted text.

Posts are processed in order and each duplicate points to the first post it
repeats, so the earliest one stays the reference. Memory grows with the
number of posts (a hash, a MinHash and a 100-character prefix per post), not
with their length.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from datasketch import MinHash, MinHashLSH

QUOTE_PREFIX_CHARS = 100
_NON_WORD = re.compile(r"[\W_]+")
_ELLIPSIS = re.compile(r"\s*(\[\s*(\.\.\.|…)\s*\]|\.\.\.|…)\s*$")


def comparable(text: str) -> str:
    """Lower case, no accents, words separated by single spaces: the form compared for duplicates."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    no_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", no_accents).strip()


def shingles(words: list[str], size: int) -> set[str]:
    """Contiguous word n-grams of ``size`` words (the whole text when shorter)."""
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


@dataclass
class DuplicateFinder:
    """Stateful, order-dependent duplicate and quote detection over a stream of posts."""

    jaccard_threshold: float = 0.8
    shingle_words: int = 3
    num_perm: int = 128
    seed: int = 1
    min_words: int = 6  # shorter posts ("+1", "merci") are only compared exactly
    _exact: dict[str, str] = field(default_factory=dict)
    _prefixes: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    _lsh: MinHashLSH | None = None

    def __post_init__(self) -> None:
        self._lsh = MinHashLSH(threshold=self.jaccard_threshold, num_perm=self.num_perm)
        self._signatures: dict[str, np.ndarray] = {}
        self._order: dict[str, int] = {}

    def exact_duplicate_of(self, post_id: str, text: str) -> str | None:
        """The first earlier post with the same comparable text, else ``None`` (and remember this one)."""
        key = hashlib.sha256(comparable(text).encode("utf-8")).hexdigest()
        first = self._exact.get(key)
        if first is None:
            self._exact[key] = post_id
        return first

    def near_duplicate_of(self, post_id: str, text: str) -> str | None:
        """The earliest earlier post whose estimated Jaccard similarity reaches the threshold."""
        words = comparable(text).split()
        if len(words) < self.min_words:
            return None
        minhash = MinHash(num_perm=self.num_perm, seed=self.seed)
        for shingle in sorted(shingles(words, self.shingle_words)):
            minhash.update(shingle.encode("utf-8"))
        signature = minhash.hashvalues.astype(np.uint32)  # datasketch's hash values fit 32 bits
        candidates = [
            c
            for c in self._lsh.query(minhash)
            if np.count_nonzero(self._signatures[c] == signature) / self.num_perm >= self.jaccard_threshold
        ]
        self._lsh.insert(post_id, minhash)
        self._signatures[post_id] = signature
        self._order[post_id] = len(self._order)
        return min(candidates, key=self._order.__getitem__) if candidates else None

    def remember_for_quotes(self, post_id: str, thread_id: str, author_id: str, text: str) -> None:
        """Keep the beginning of a post, so that later replies quoting it can be linked to it."""
        prefix = comparable(text)[:QUOTE_PREFIX_CHARS]
        self._prefixes.setdefault((thread_id, author_id), []).append((post_id, prefix))

    def quoted_post(self, thread_id: str, quote_author_id: str | None, quote_text: str) -> str | None:
        """The latest earlier post of ``quote_author_id`` in the thread that begins with the quote."""
        if not quote_author_id:
            return None
        quote = comparable(_ELLIPSIS.sub("", quote_text))[:QUOTE_PREFIX_CHARS]
        if not quote:
            return None
        for post_id, prefix in reversed(self._prefixes.get((thread_id, quote_author_id), [])):
            if prefix.startswith(quote) or quote.startswith(prefix):
                return post_id
        return None
