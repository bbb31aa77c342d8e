"""The keyed hash that chains audit rows, and the verifier.

row_hash = HMAC-SHA256(AUDIT_KEY, canonical(row fields) + prev_hash). Without the key nobody can
recompute a chain after changing a row; with the key kept off the database host, a database
administrator who edits, deletes or inserts a row leaves a break that `verify` reports with the row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def _canonical_details(details: Any) -> str:
    # The database may reorder JSON keys (jsonb) and reformat numbers: hash a canonical form.
    return json.dumps(details or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_digest(key: bytes, fields: dict[str, Any], prev_hash: str) -> str:
    """The hash of one row given the previous row's hash; `fields` as stored (see FIELDS)."""
    parts = [
        str(fields["seq"]),
        _instant(fields["at"]),
        "" if fields["actor_id"] is None else str(fields["actor_id"]),
        fields["actor_role"],
        fields["action"],
        fields["object_type"],
        fields["object_id"],
        fields["outcome"],
        _canonical_details(fields["details"]),
        fields["request_id"],
        fields["client_addr"],
        prev_hash,
    ]
    message = "\x1f".join(parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "details",
    "request_id",
    "client_addr",
    "prev_hash",
    "row_hash",
)


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # edited | missing | broken_link | beyond_head | missing_tail
    message: str


@dataclass
class Verification:
    rows: int = 0
    first_seq: int = 0
    last_seq: int = 0
    head_hash: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_rows(
    key: bytes,
    rows: Iterable[dict[str, Any]],
    *,
    anchor_seq: int,
    anchor_hash: str,
    head_seq: int,
    head_hash: str,
) -> Verification:
    """Walk rows in seq order from the anchor and report every break, each with the row it is at.

    - edited: the row's fields no longer give its stored hash;
    - missing: seq numbers skipped (rows deleted);
    - broken_link: a row's prev_hash is not the hash of the row before it (a row deleted or inserted);
    - beyond_head / missing_tail: rows after the recorded end of the chain, or the end removed.
    """
    result = Verification(head_hash=head_hash)
    expected_seq = anchor_seq + 1
    prev = anchor_hash or GENESIS
    for row in rows:
        seq = int(row["seq"])
        if result.rows == 0:
            result.first_seq = seq
        result.rows += 1
        result.last_seq = seq
        if seq > head_seq:
            result.problems.append(
                Problem(seq, "beyond_head", f"row {seq} is after the chain's recorded end ({head_seq})")
            )
        if seq != expected_seq:
            result.problems.append(
                Problem(seq, "missing", f"rows {expected_seq}..{seq - 1} are missing (deleted)")
            )
        if row["prev_hash"] != prev:
            result.problems.append(
                Problem(seq, "broken_link", f"row {seq} does not follow the row before it")
            )
        if row_digest(key, row, row["prev_hash"]) != row["row_hash"]:
            result.problems.append(Problem(seq, "edited", f"row {seq} was changed after it was written"))
        expected_seq = seq + 1
        prev = row["row_hash"]
    if expected_seq - 1 < head_seq:
        result.problems.append(
            Problem(
                head_seq,
                "missing_tail",
                f"rows {expected_seq}..{head_seq} at the end of the chain are missing (deleted)",
            )
        )
    elif result.rows and prev != head_hash and expected_seq - 1 == head_seq:
        result.problems.append(
            Problem(head_seq, "broken_link", "the last row is not the one the chain's head records")
        )
    return result
