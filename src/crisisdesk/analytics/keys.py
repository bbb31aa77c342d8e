"""Keyed hashes for caller and address keys: analytics link calls without storing who or where.

A CAD row's address (or caller number) is normalised and turned into
`HMAC-SHA256(linkage key, kind + ":" + normalised value)`; the store keeps the first 60 bits of the
digest as a BIGINT (`int(hexdigest[:15], 16)`). Without the key nobody can test a guessed address
against the store (a plain hash could be reversed by hashing every address of the city); with the
same key, two datasets of the same deployment link on the same values (60 bits: about one chance in
40,000 of any collision among 10 million distinct values).

The key comes from the environment variable ``CRISISDESK_LINKAGE_KEY`` (at least 16 characters; keep
it in the deployment's secret store, never in the repository; rotate it only together with a full
re-import, because keys made with different linkage keys never match). The store records a
fingerprint of the key and refuses imports made with another key.

Normalisation (identical in Python, DuckDB and Spark, tested):
- address / text: runs of spaces, tabs and line breaks become one space, trimmed, upper case
  (several address columns are joined with a space first, skipping empty ones);
- phone: digits only; an 11-digit number starting with 1 (NANP country code) loses the 1.
An empty normalised value has no key (null).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from crisisdesk.analytics.schema import Dialect

LINKAGE_KEY_ENV = "CRISISDESK_LINKAGE_KEY"
MIN_KEY_CHARS = 16
KEY_HEX_DIGITS = 15
KINDS = ("address", "caller")
_BLOCK = 64  # SHA-256 block size
_SPACES = r"[ \t\r\n]+"


class LinkageKeyError(ValueError):
    """The linkage key is missing, too short, or not the one the store was built with."""


def linkage_key_from_env(required: bool = True) -> bytes | None:
    value = os.environ.get(LINKAGE_KEY_ENV, "")
    if not value:
        if required:
            raise LinkageKeyError(
                f"set {LINKAGE_KEY_ENV} (a secret of at least {MIN_KEY_CHARS} characters) to import "
                "address or caller columns; see docs/analytics.md"
            )
        return None
    return check_key(value.encode("utf-8"))


def check_key(key: bytes) -> bytes:
    if len(key) < MIN_KEY_CHARS:
        raise LinkageKeyError(f"the linkage key must be at least {MIN_KEY_CHARS} characters long")
    return key


def fingerprint(key: bytes) -> str:
    """A short public tag of the key, stored so a later import with another key is refused."""
    return hmac.new(key, b"crisisdesk linkage key fingerprint", hashlib.sha256).hexdigest()[:12]


# --- Python reference (tests, benchmark baseline) ---------------------------------------------------


def normalise_text(value: str | None) -> str | None:
    if value is None:
        return None
    out = re.sub(_SPACES, " ", value).strip(" ").upper()
    return out or None


def normalise_phone(value: str | None) -> str | None:
    if value is None:
        return None
    digits = re.sub("[^0-9]", "", value)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits or None


def keyed_hash(key: bytes, kind: str, normalised: str | None) -> int | None:
    """The stored key of an already normalised value (None stays None)."""
    if normalised is None:
        return None
    digest = hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
    return int(digest[:KEY_HEX_DIGITS], 16)


# --- SQL (DuckDB and Spark) --------------------------------------------------------------------------


def replace_all_sql(d: Dialect, s: str, pattern: str, repl: str) -> str:
    if d.spark:
        return f"regexp_replace({s}, {d.lit(pattern)}, {d.lit(repl)})"
    return f"regexp_replace({s}, {d.lit(pattern)}, {d.lit(repl)}, 'g')"


def normalise_text_sql(d: Dialect, s: str) -> str:
    return f"NULLIF(upper(trim({replace_all_sql(d, s, _SPACES, ' ')})), '')"


def normalise_phone_sql(d: Dialect, s: str) -> str:
    digits = replace_all_sql(d, s, "[^0-9]", "")
    return (
        f"NULLIF(CASE WHEN length({digits}) = 11 AND substr({digits}, 1, 1) = '1' "
        f"THEN substr({digits}, 2) ELSE {digits} END, '')"
    )


def keyed_hash_sql(d: Dialect, key: bytes, kind: str, normalised: str) -> str:
    """HMAC-SHA256 spelled with sha256, unhex and binary concatenation (RFC 2104), then 60 bits."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    k = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    k = k.ljust(_BLOCK, b"\0")
    # The inner message is ipad + "kind:" + value: the constant head is one literal, so each row
    # concatenates once (the two SHA-256 runs are most of the cost; the string work is the rest).
    head = (bytes(b ^ 0x36 for b in k) + f"{kind}:".encode()).hex()
    opad = bytes(b ^ 0x5C for b in k).hex()
    inner = d.sha256_hex(f"concat({d.unhex(head)}, {d.utf8(normalised)})")
    outer = d.sha256_hex(f"concat({d.unhex(opad)}, unhex({inner}))")
    if not d.spark:
        # DuckDB's concat() of BLOBs is a BLOB only with ||.
        inner = d.sha256_hex(f"({d.unhex(head)} || {d.utf8(normalised)})")
        outer = d.sha256_hex(f"({d.unhex(opad)} || unhex({inner}))")
    digest = d.hex_to_bigint(f"substr({outer}, 1, {KEY_HEX_DIGITS})")
    return f"(CASE WHEN {normalised} IS NULL THEN NULL ELSE {digest} END)"
