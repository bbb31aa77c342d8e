"""The state between the password step and the second factor, kept in the (server-side) session.

Nobody is logged in while it exists: Django's login() runs only once the code is verified, so every
page and API call answers as for an anonymous visitor (pages send the person on to the code step).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crisisdesk.accounts import policy

PENDING_KEY = "crisisdesk.signin.pending"
ENROL_KEY = "crisisdesk.signin.enrol_key"  # the new device's secret until a code confirms it


@dataclass(frozen=True)
class Pending:
    user_id: int
    started_at: datetime
    next: str
    enrol: bool  # no confirmed device yet: the second step is enrolment


def start(session: Any, user_id: int, *, now: datetime, next_url: str, enrol: bool) -> None:
    session[PENDING_KEY] = {"user_id": user_id, "at": now.isoformat(), "next": next_url, "enrol": enrol}
    session.pop(ENROL_KEY, None)


def current(session: Any, now: datetime) -> Pending | None:
    """The pending sign-in, or None (none, or older than the allowed time between the steps)."""
    raw = session.get(PENDING_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        pending = Pending(
            user_id=int(raw["user_id"]),
            started_at=datetime.fromisoformat(raw["at"]),
            next=str(raw.get("next") or ""),
            enrol=bool(raw.get("enrol")),
        )
    except (KeyError, TypeError, ValueError):
        clear(session)
        return None
    if now - pending.started_at >= policy.current().second_step:
        clear(session)
        return None
    return pending


def clear(session: Any) -> None:
    session.pop(PENDING_KEY, None)
    session.pop(ENROL_KEY, None)
