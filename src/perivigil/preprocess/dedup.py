"""Find exact duplicates, near duplicates and the posts that quoted replies quote.

- Exact: same text once case, accents, punctuation and spaces are set aside
  (double posts, copy-pasted messages across threads).
- Near: MinHash LSH over word shingles, flagged when the estimated Jaccard
  similarity reaches the threshold (reworded reposts).
- Quoted: a reply's quote is matched to the earlier post of the same thread,
  by the same author, that begins with the quoted text.

Posts are processed in order and each duplicate points to the first post it
repeats, so the earliest one stays the reference.

Memory: the indexes keep hashes, not texts. The exact index keeps a 128-bit
BLAKE2b digest per distinct comparable text; the near-duplicate index keeps
each compared post's MinHash signature (``num_perm`` 32-bit values in numpy
chunks) and one 64-bit BLAKE2b digest per LSH band; the beginnings of posts
that quotes are matched against go to a private temporary SQLite database on
disk (its page cache is bounded), keyed by a 64-bit digest of thread and
author. So memory grows by a few hundred bytes per distinct post, not with the
posts' length, and the quote prefixes (one per post) stay on disk.

The MinHash signatures are datasketch's (``MinHash(num_perm, seed)``, default
"affine32" scheme, SHA-1 of each shingle): the permutations are taken once
from datasketch and applied to a whole batch of posts with numpy, which gives
the same values as ``MinHash.update`` shingle by shingle (checked by a test).
The LSH banding is datasketch's ``MinHashLSH`` (same bands and rows for the
threshold and ``num_perm``, candidates sharing at least one band, each then
checked on its whole signature); the buckets are held here because
datasketch's index keeps each band's values as bytes and each key in several
sets, hundreds of bytes more per post. A band is looked up by a 64-bit digest
of its values: two different bands with the same digest would only add a
candidate, which must still pass the check on the whole signature.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from datasketch import MinHash, MinHashLSH

QUOTE_PREFIX_CHARS = 100
_NON_WORD = re.compile(r"[\W_]+")
_ELLIPSIS = re.compile(r"\s*(\[\s*(\.\.\.|…)\s*\]|\.\.\.|…)\s*$")
_SIGNATURE_CHUNK = 1 << 16  # signatures kept in numpy chunks of this many rows
_HASH_BLOCK = 200_000  # shingles permuted at once (block of 200,000 x num_perm 32-bit values)


@functools.cache
def _accent_table() -> dict[int, str]:
    """Each character whose canonical decomposition differs from it, or that is a combining mark, mapped to
    its canonical decomposition less the combining marks (built once, about 0.4 s: every code point is read).

    Applying it character by character gives the same string as NFD followed by dropping every combining
    character: NFD decomposes character by character, and its canonical reordering only moves combining
    marks, which are all dropped.
    """
    table: dict[int, str] = {}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.combining(char):
            table[code] = ""
        elif unicodedata.decomposition(char)[:1] not in ("", "<") or 0xAC00 <= code <= 0xD7A3:  # Hangul: algorithmic
            table[code] = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return table


def fold_accents(text: str) -> str:
    """Drop accents and other combining marks: "Ibuprofène" -> "Ibuprofene" (a translation table)."""
    return text.translate(_accent_table())


def comparable(text: str) -> str:
    """Lower case, no accents, words separated by single spaces: the form compared for duplicates."""
    return _NON_WORD.sub(" ", fold_accents(text.casefold())).strip()


def shingles(words: list[str], size: int) -> set[str]:
    """Contiguous word n-grams of ``size`` words (the whole text when shorter)."""
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch applies it before its affine permutations."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


class MinHasher:
    """datasketch's MinHash signatures ("affine32" scheme, SHA-1 of each shingle), many posts at once."""

    def __init__(self, num_perm: int, seed: int) -> None:
        self.num_perm = num_perm
        reference = MinHash(num_perm=num_perm, seed=seed)
        if reference.scheme != "affine32":
            raise RuntimeError(f"datasketch's default MinHash scheme is {reference.scheme!r}, not 'affine32'")
        a, b = reference.permutations
        self._a = a.astype(np.uint32)[np.newaxis, :]
        self._b = b.astype(np.uint32)[np.newaxis, :]

    def signatures(self, shingle_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """One row of ``num_perm`` uint32 per list of shingles (each list non-empty)."""
        if any(not s for s in shingle_lists):
            raise ValueError("a post with no shingle has no MinHash signature")
        out = np.empty((len(shingle_lists), self.num_perm), dtype=np.uint32)
        start = 0
        while start < len(shingle_lists):
            stop, size = start, 0
            while stop < len(shingle_lists) and (size == 0 or size + len(shingle_lists[stop]) <= _HASH_BLOCK):
                size += len(shingle_lists[stop])
                stop += 1
            block = shingle_lists[start:stop]
            digests = b"".join(
                hashlib.sha1(s.encode("utf-8", "surrogatepass")).digest()[:4] for shingles_ in block for s in shingles_
            )
            hashed = _fmix32(np.frombuffer(digests, dtype="<u4").astype(np.uint32))[:, np.newaxis]
            permuted = hashed * self._a + self._b  # wraps modulo 2**32, as datasketch's uint32 arithmetic
            offsets = np.cumsum([0] + [len(s) for s in block[:-1]])
            out[start:stop] = np.minimum.reduceat(permuted, offsets, axis=0)
            start = stop
        return out


class NearDuplicateIndex:
    """MinHash LSH over signatures: the earliest earlier post whose estimated Jaccard reaches the threshold."""

    def __init__(self, threshold: float, num_perm: int) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands: list[tuple[int, int]] = list(MinHashLSH(threshold=threshold, num_perm=num_perm).hashranges)
        self._heads: dict[int, int] = {}  # band digest -> latest post (index) in that bucket
        self._previous: list[list[int]] = [[] for _ in self.bands]  # per band and post: the bucket's previous post
        self._chunks: list[np.ndarray] = []
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def _signature(self, index: int) -> np.ndarray:
        return self._chunks[index // _SIGNATURE_CHUNK][index % _SIGNATURE_CHUNK]

    def _digests(self, signature: np.ndarray) -> list[int]:
        return [
            int.from_bytes(
                hashlib.blake2b(
                    signature[start:end].tobytes(), digest_size=8, salt=band.to_bytes(8, "little")
                ).digest(),
                "little",
            )
            for band, (start, end) in enumerate(self.bands)
        ]

    def add(self, post_id: str, signature: np.ndarray) -> str | None:
        """The earliest earlier near duplicate of ``signature`` (or ``None``); then remember this post."""
        digests = self._digests(signature)
        candidates: set[int] = set()
        for band, digest in enumerate(digests):
            index = self._heads.get(digest, -1)
            previous = self._previous[band]
            while index >= 0:
                candidates.add(index)
                index = previous[index]
        found = None
        if candidates:
            order = sorted(candidates)
            rows = np.stack([self._signature(i) for i in order])
            similar = np.count_nonzero(rows == signature, axis=1) / self.num_perm >= self.threshold
            if similar.any():
                found = self._ids[order[int(np.argmax(similar))]]
        index = len(self._ids)
        for band, digest in enumerate(digests):
            self._previous[band].append(self._heads.get(digest, -1))
            self._heads[digest] = index
        if index % _SIGNATURE_CHUNK == 0:
            self._chunks.append(np.empty((_SIGNATURE_CHUNK, self.num_perm), dtype=np.uint32))
        self._chunks[-1][index % _SIGNATURE_CHUNK] = signature
        self._ids.append(post_id)
        return found


class QuotePrefixes:
    """Beginnings of posts by thread and author, in a private temporary SQLite database (on disk)."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a temporary database, on disk past its page cache, gone when closed
        self._db.execute("CREATE TABLE prefixes (seq INTEGER PRIMARY KEY, who INTEGER, post_id TEXT, prefix TEXT)")
        self._db.execute("CREATE INDEX by_who ON prefixes (who, seq)")
        self._seq = 0

    @staticmethod
    def _who(thread_id: str, author_id: str) -> int:
        digest = hashlib.blake2b(f"{thread_id}\x1f{author_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little", signed=True)

    def add(self, post_id: str, thread_id: str, author_id: str, prefix: str) -> None:
        self._db.execute(
            "INSERT INTO prefixes VALUES (?, ?, ?, ?)", (self._seq, self._who(thread_id, author_id), post_id, prefix)
        )
        self._seq += 1

    def latest_matching(self, thread_id: str, author_id: str, quote: str) -> str | None:
        """The latest post of the author in the thread whose prefix begins with the quote, or conversely."""
        rows = self._db.execute(
            "SELECT post_id, prefix FROM prefixes WHERE who = ? ORDER BY seq DESC", (self._who(thread_id, author_id),)
        )
        for post_id, prefix in rows:
            if prefix.startswith(quote) or quote.startswith(prefix):
                return post_id
        return None

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True)
class Duplicates:
    """What :meth:`DuplicateFinder.observe` found for one post."""

    duplicate_of: str | None
    near_duplicate_of: str | None
    quoted_post_id: str | None


@dataclass
class DuplicateFinder:
    """Stateful, order-dependent duplicate and quote detection over a stream of posts."""

    jaccard_threshold: float = 0.8
    shingle_words: int = 3
    num_perm: int = 128
    seed: int = 1
    min_words: int = 6  # shorter posts ("+1", "merci") are only compared exactly
    _exact: dict[bytes, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._hasher = MinHasher(self.num_perm, self.seed)
        self._near = NearDuplicateIndex(self.jaccard_threshold, self.num_perm)
        self._quotes = QuotePrefixes()

    def _shingle_list(self, words: list[str]) -> list[str]:
        """Every shingle of a post of at least ``min_words`` words (repeats do not change a MinHash)."""
        size = self.shingle_words
        if len(words) <= size:
            return [" ".join(words)]
        return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]

    def _exact_of(self, post_id: str, comparable_text: str) -> str | None:
        key = hashlib.blake2b(comparable_text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        first = self._exact.get(key)
        if first is None:
            self._exact[key] = post_id
        return first

    def exact_duplicate_of(self, post_id: str, text: str) -> str | None:
        """The first earlier post with the same comparable text, else ``None`` (and remember this one)."""
        return self._exact_of(post_id, comparable(text))

    def near_duplicate_of(self, post_id: str, text: str) -> str | None:
        """The earliest earlier post whose estimated Jaccard similarity reaches the threshold."""
        words = comparable(text).split()
        if len(words) < self.min_words:
            return None
        return self._near.add(post_id, self._hasher.signatures([self._shingle_list(words)])[0])

    def remember_for_quotes(self, post_id: str, thread_id: str, author_id: str, text: str) -> None:
        """Keep the beginning of a post, so that later replies quoting it can be linked to it."""
        self._quotes.add(post_id, thread_id, author_id, comparable(text)[:QUOTE_PREFIX_CHARS])

    def quoted_post(self, thread_id: str, quote_author_id: str | None, quote_text: str) -> str | None:
        """The latest earlier post of ``quote_author_id`` in the thread that begins with the quote."""
        if not quote_author_id:
            return None
        quote = comparable(_ELLIPSIS.sub("", quote_text))[:QUOTE_PREFIX_CHARS]
        if not quote:
            return None
        return self._quotes.latest_matching(thread_id, quote_author_id, quote)

    def observe(self, posts: Sequence[tuple[str, str, str, str, str | None, str | None]]) -> list[Duplicates]:
        """For each ``(post_id, thread_id, author_id, text, quote_author_id, quote_text)`` in order: what it
        duplicates, nearly duplicates and quotes; then remember it. Same answers as calling
        :meth:`exact_duplicate_of`, :meth:`near_duplicate_of` (when not an exact duplicate),
        :meth:`quoted_post` (when it quotes) and :meth:`remember_for_quotes` post by post; the text is made
        comparable once and the MinHash signatures of the batch are computed together.
        """
        forms = [comparable(text) for _, _, _, text, _, _ in posts]
        exact = [self._exact_of(post[0], form) for post, form in zip(posts, forms)]
        compared = [i for i, form in enumerate(forms) if exact[i] is None]
        word_lists = {i: forms[i].split() for i in compared}
        compared = [i for i in compared if len(word_lists[i]) >= self.min_words]
        signatures = self._hasher.signatures([self._shingle_list(word_lists[i]) for i in compared])
        signature_of = dict(zip(compared, signatures))
        found = []
        for i, (post_id, thread_id, author_id, _, quote_author_id, quote_text) in enumerate(posts):
            near = self._near.add(post_id, signature_of[i]) if i in signature_of else None
            quoted = self.quoted_post(thread_id, quote_author_id, quote_text) if quote_text is not None else None
            self._quotes.add(post_id, thread_id, author_id, forms[i][:QUOTE_PREFIX_CHARS])
            found.append(Duplicates(exact[i], near, quoted))
        return found

    def close(self) -> None:
        """Drop the temporary database of quote prefixes."""
        self._quotes.close()
