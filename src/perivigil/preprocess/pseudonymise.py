"""Replace author names by keyed pseudonyms (HMAC-SHA256), per study protocol §7.

The key never lives in the repository or in ``config/``: it is read from an
environment variable (or from a file named by ``<VAR>_FILE``). Without a key,
only the demo configuration may run, with :data:`DEMO_KEY`, which is public and
therefore protects nothing: it exists so that the demo runs out of a clone.

A keyed hash (not a plain hash) is used because forum handles are few and
guessable: anyone could hash a list of handles and match them, unless they
also hold the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from pathlib import Path

from perivigil.errors import InputError

DEMO_KEY = b"perivigil-DEMO-KEY--public--never-use-on-real-data"
PSEUDONYM_PREFIX = "u_"
PSEUDONYM_HEX_CHARS = 16  # 64 bits: no collision expected below ~10^9 authors
MIN_KEY_BYTES = 16  # 128 bits: a key a person cannot guess


def load_key(env_var: str, *, allow_demo_key: bool, environ: dict[str, str] | None = None) -> tuple[bytes, bool]:
    """Return ``(key, is_demo_key)``.

    Reads ``$env_var``, else the file named by ``$env_var_FILE``; falls back to
    the demo key only when ``allow_demo_key`` (the demo configuration).
    """
    environ = dict(os.environ) if environ is None else environ
    value = environ.get(env_var, "")
    if value:
        if len(value.encode("utf-8")) < MIN_KEY_BYTES:
            raise InputError(
                f"${env_var}: the pseudonymisation key is shorter than {MIN_KEY_BYTES} bytes "
                "(make one with: python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return value.encode("utf-8"), False
    key_file = environ.get(f"{env_var}_FILE", "")
    if key_file:
        path = Path(key_file)
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise InputError(f"{path}: cannot read the pseudonymisation key named by ${env_var}_FILE: {exc}") from exc
        if len(key) < MIN_KEY_BYTES:
            raise InputError(f"{path}: the pseudonymisation key is shorter than {MIN_KEY_BYTES} bytes")
        return key, False
    if allow_demo_key:
        return DEMO_KEY, True
    raise InputError(
        f"no pseudonymisation key: set ${env_var} (or ${env_var}_FILE to a file outside the repository); "
        "the demo key is refused outside the demo configuration (config key 'demo')"
    )


def normalise_handle(author: str) -> str:
    """The form of a handle that is hashed: Unicode NFC, surrounding spaces removed."""
    return unicodedata.normalize("NFC", author).strip()


def pseudonym(author: str, source: str, key: bytes) -> str:
    """Keyed pseudonym of an author of a source: ``u_`` + 16 hex digits of HMAC-SHA256.

    The source is part of the message, so that the same handle on two forums
    (usually two different people) gets two pseudonyms.
    """
    message = f"{source}\x1f{normalise_handle(author)}".encode()
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_CHARS]
