"""Protocol test cards: run `decide` over a JSON-lines file of calls (`crisisdesk triage --batch`).

One card per line::

    {"id": "c1", "call_type": "Emotionally Disturb Person",
     "answers": {"weapon": false, ..., "caller_accepts_social_worker": true},
     "at": "2026-11-25T13:00:00-06:00", "social_worker_available": true,
     "expect": {"outcome": "transfer", "reasons": ["eligible"]}}      # optional

prints one JSON line per card: {"id", "outcome", "reasons", "protocol_version", "fallback_options"},
or {"id", "error"} for a card that cannot be read. With `check=True` a card's optional `expect`
is compared with the result; supervisors use this to test a protocol change before publishing it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crisisdesk.domain.calendar import ServiceCalendar
from crisisdesk.domain.protocol import Protocol
from crisisdesk.domain.triage import decide


@dataclass
class CardResult:
    line: dict[str, Any]
    mismatch: str | None = None
    error: bool = False


def _parse_card(raw: str, protocol: Protocol) -> dict[str, Any]:
    card = json.loads(raw)
    if not isinstance(card, dict):
        raise ValueError("a card must be a JSON object")
    for key in ("id", "call_type", "answers", "at"):
        if key not in card:
            raise ValueError(f"missing field {key!r}")
    if not isinstance(card["call_type"], str):
        raise ValueError("call_type must be a string")
    if not isinstance(card["answers"], dict):
        raise ValueError("answers must be an object of question id -> true/false/null")
    unknown = set(card["answers"]) - set(protocol.question_ids)
    if unknown:
        raise ValueError(f"unknown question ids: {sorted(unknown)}")
    for qid, value in card["answers"].items():
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"answer {qid!r} must be true, false or null")
    at = datetime.fromisoformat(str(card["at"]))
    if at.tzinfo is None:
        raise ValueError("at must carry a UTC offset, e.g. 2026-11-25T13:00:00-06:00")
    card["at"] = at
    available = card.get("social_worker_available", True)
    if not isinstance(available, bool):
        raise ValueError("social_worker_available must be true or false")
    card["social_worker_available"] = available
    return card


def run_cards(lines: Iterable[str], protocol: Protocol, check: bool = False) -> Iterator[CardResult]:
    calendar = ServiceCalendar(protocol.calendar)
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        card_id: Any = f"line {number}"
        try:
            card = _parse_card(raw, protocol)
            card_id = card["id"]
        except (ValueError, TypeError) as exc:
            with contextlib.suppress(ValueError, AttributeError):
                card_id = json.loads(raw).get("id", card_id)
            yield CardResult({"id": card_id, "error": f"line {number}: {exc}"}, error=True)
            continue
        decision = decide(
            protocol,
            card["call_type"],
            card["answers"],
            card["at"],
            card["social_worker_available"],
            calendar=calendar,
        )
        line = {"id": card_id, **decision.as_dict()}
        mismatch = None
        expect = card.get("expect")
        if check and isinstance(expect, dict):
            wrong = [k for k, v in expect.items() if line.get(k) != v]
            if wrong:
                mismatch = ", ".join(f"{k}: expected {expect[k]!r}, got {line.get(k)!r}" for k in wrong)
        yield CardResult(line, mismatch=mismatch)
