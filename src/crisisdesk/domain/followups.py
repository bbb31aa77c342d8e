"""Follow-up: the policy as data, the lifecycle as a transition table, and the worklist rules.

After a case (or a "callback next shift" fallback) the social worker calls the person back. The
follow-up policy says when: the first attempt within `first_within` of the start, at most
`max_attempts` attempts, the last within `last_within`; the attempts in between are due at evenly
spaced instants. The default (first within 24 h, 3 attempts, last within 72 h) follows the 988
Lifeline "Follow-Up Matters" standard: a first call usually 24-48 h after the contact and 3-5
attempts before assuming drop-out.

**Hours are elapsed hours.** "Within 24 h" means 24 real hours later, whatever the wall clock does:
deadlines are computed on UTC instants, so across the fall-back change in America/Chicago (2026-11-01)
a follow-up started at 12:00 CDT is due at 11:00 CST the next day, and across the spring-forward
change (2026-03-08) one started at 12:00 CST is due at 13:00 CDT. (Adding a timedelta to an aware
datetime with a ZoneInfo tzinfo would add wall-clock time instead, an hour off on those days.)
Deadlines come back in UTC, the storage zone; comparisons are on instants.

**Callback next shift.** When the desk is closed, a call can fall back to "callback next shift":
that becomes a follow-up whose start is the next opening of the service calendar
(`next_shift_start`), with `visible_from` set to the same instant, so it is `upcoming` (not on
anyone's list yet) until the shift starts and its deadlines count from the opening, not from the
911 call in the middle of the night.

Lifecycle (services check every change against `TRANSITIONS`; terminal states stay terminal, a new
contact later is a new follow-up):

    pending --retry--> pending        (an attempt that did not reach the person; attempts remain)
       |--complete--> completed       (reached)
       |--decline---> declined        (reached, and the person does not want follow-up)
       |--give_up---> unreachable     (wrong number / not in service, or the last attempt failed)
       \\--cancel----> cancelled       (consent withdrawn, the case was reopened, a duplicate...)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from crisisdesk.domain.calendar import NaiveDatetimeError, ServiceCalendar

MAX_ATTEMPTS_LIMIT = 10
# Crisis follow-up is short-term (the longest programme we know of, Harris Center, keeps contact up
# to 90 days); a policy reaching further than that is almost certainly a unit mistake.
MAX_WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class FollowUpPolicy:
    version: str
    first_within: timedelta
    max_attempts: int
    last_within: timedelta


DEFAULT_POLICY = FollowUpPolicy(
    version="followup-default/1",
    first_within=timedelta(hours=24),
    max_attempts=3,
    last_within=timedelta(hours=72),
)

POLICY_KEYS = ("version", "first_within_hours", "max_attempts", "last_within_hours")


class FollowUpPolicyError(ValueError):
    """A policy document is invalid; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid follow-up policy: " + "; ".join(problems))


def _hours(doc: Mapping[str, Any], key: str, problems: list[str]) -> timedelta | None:
    value = doc.get(key)
    # bool is an int in Python; "true hours" is a mistake, not 1 hour.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{key}: must be a number of hours, not {value!r}")
        return None
    if value <= 0:
        problems.append(f"{key}: must be positive, not {value!r}")
        return None
    # Compare before building the timedelta: a huge number would overflow it.
    if value > MAX_WINDOW / timedelta(hours=1):
        problems.append(f"{key}: {value!r} hours is more than {MAX_WINDOW.days} days")
        return None
    return timedelta(hours=value)


def parse_policy(doc: Mapping[str, Any]) -> FollowUpPolicy:
    """Build a policy from its document form (as stored, or as an administrator edited it).

    `{"version": str, "first_within_hours": number, "max_attempts": int, "last_within_hours": number}`.
    Every problem is reported at once: hours positive (and at most 90 days), last >= first,
    1 <= max_attempts <= 10, with a single attempt the last deadline is the first, no unknown keys.
    """
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise FollowUpPolicyError([f"the policy must be a mapping, not {type(doc).__name__}"])
    for key in sorted(set(doc) - set(POLICY_KEYS), key=str):
        problems.append(f"{key}: unknown setting (expected {', '.join(POLICY_KEYS)})")
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append(f"version: must be a non-empty string, not {version!r}")
    first = _hours(doc, "first_within_hours", problems)
    last = _hours(doc, "last_within_hours", problems)
    attempts = doc.get("max_attempts")
    if isinstance(attempts, bool) or not isinstance(attempts, int):
        problems.append(f"max_attempts: must be a whole number, not {attempts!r}")
        attempts = None
    elif not 1 <= attempts <= MAX_ATTEMPTS_LIMIT:
        problems.append(f"max_attempts: must be between 1 and {MAX_ATTEMPTS_LIMIT}, not {attempts}")
        attempts = None
    if first is not None and last is not None:
        if last < first:
            problems.append("last_within_hours: must be at least first_within_hours")
        elif attempts == 1 and last != first:
            problems.append("last_within_hours: with a single attempt it must equal first_within_hours")
    if problems:
        raise FollowUpPolicyError(problems)
    assert isinstance(version, str) and first is not None and last is not None and attempts is not None
    return FollowUpPolicy(version=version, first_within=first, max_attempts=attempts, last_within=last)


def _as_hours(d: timedelta) -> int | float:
    hours = d / timedelta(hours=1)
    return int(hours) if hours.is_integer() else hours


def policy_document(p: FollowUpPolicy) -> dict[str, Any]:
    """The document form of a policy; `parse_policy(policy_document(p)) == p`. Hours are numbers."""
    return {
        "version": p.version,
        "first_within_hours": _as_hours(p.first_within),
        "max_attempts": p.max_attempts,
        "last_within_hours": _as_hours(p.last_within),
    }


def _require_aware(at: datetime, name: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveDatetimeError(f"{name} must be a timezone-aware datetime")


def attempt_deadlines(policy: FollowUpPolicy, start: datetime) -> tuple[datetime, ...]:
    """The due-by instant of each attempt, in UTC: attempt 1 at start + first_within, the last at
    start + last_within, the others evenly spaced between (elapsed time, see the module docstring)."""
    _require_aware(start, "start")
    origin = start.astimezone(UTC)
    n = policy.max_attempts
    if n == 1:
        return (origin + policy.first_within,)
    step = (policy.last_within - policy.first_within) / (n - 1)
    deadlines = [origin + policy.first_within + step * i for i in range(n - 1)]
    # The last one exactly, not first + (n-1) * step, which microsecond rounding could shift.
    deadlines.append(origin + policy.last_within)
    return tuple(deadlines)


# --- attempts and the lifecycle ---------------------------------------------------------------------


class AttemptOutcome(StrEnum):
    REACHED = "reached"
    LEFT_MESSAGE = "left_message"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    NUMBER_NOT_IN_SERVICE = "number_not_in_service"
    DECLINED = "declined"
    OTHER = "other"


class FollowUpStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


class FollowUpAction(StrEnum):
    RETRY = "retry"  # an attempt that did not reach the person, and attempts remain
    COMPLETE = "complete"
    DECLINE = "decline"
    GIVE_UP = "give_up"
    CANCEL = "cancel"


S, A = FollowUpStatus, FollowUpAction

TRANSITIONS: dict[tuple[FollowUpStatus, FollowUpAction], FollowUpStatus] = {
    (S.PENDING, A.RETRY): S.PENDING,
    (S.PENDING, A.COMPLETE): S.COMPLETED,
    (S.PENDING, A.DECLINE): S.DECLINED,
    (S.PENDING, A.GIVE_UP): S.UNREACHABLE,
    (S.PENDING, A.CANCEL): S.CANCELLED,
}

ACTIVE = frozenset({S.PENDING})
TERMINAL = frozenset(FollowUpStatus) - ACTIVE

# What one attempt's outcome does to the follow-up. None: it continues while attempts remain.
OUTCOME_ACTIONS: dict[AttemptOutcome, FollowUpAction | None] = {
    AttemptOutcome.REACHED: A.COMPLETE,
    AttemptOutcome.DECLINED: A.DECLINE,
    # Another try on a number that is wrong or dead cannot reach the person.
    AttemptOutcome.WRONG_NUMBER: A.GIVE_UP,
    AttemptOutcome.NUMBER_NOT_IN_SERVICE: A.GIVE_UP,
    AttemptOutcome.LEFT_MESSAGE: None,
    AttemptOutcome.NO_ANSWER: None,
    AttemptOutcome.OTHER: None,
}


class InvalidFollowUpTransition(Exception):
    """The action is not allowed from the follow-up's current state (HTTP 409 at the edge)."""

    def __init__(self, status: FollowUpStatus, action: FollowUpAction):
        self.status = status
        self.action = action
        super().__init__(f"cannot {action.value} a follow-up that is {status.value}")


def transition(status: FollowUpStatus | str, action: FollowUpAction | str) -> FollowUpStatus:
    """Check one step against the table; raise `InvalidFollowUpTransition` when it is not allowed.

    Unknown status or action codes raise a plain ValueError (from the enum), as in transfers."""
    before, act = FollowUpStatus(status), FollowUpAction(action)
    after = TRANSITIONS.get((before, act))
    if after is None:
        raise InvalidFollowUpTransition(before, act)
    return after


def action_for_attempt(
    policy: FollowUpPolicy, attempts_so_far: int, outcome: AttemptOutcome | str
) -> FollowUpAction:
    """The lifecycle action that recording an attempt means.

    `attempts_so_far` counts the attempts made so far INCLUDING the one being recorded (1 for the
    first attempt: services pass `attempts.count() + 1`, or the count after inserting the row). A
    non-final outcome on attempt number `max_attempts` gives up. A number outside
    1..max_attempts is a ValueError: the follow-up should already have ended.
    """
    result = AttemptOutcome(outcome)
    if not 1 <= attempts_so_far <= policy.max_attempts:
        raise ValueError(f"attempt {attempts_so_far} is outside the policy's {policy.max_attempts} attempts")
    action = OUTCOME_ACTIONS[result]
    if action is not None:
        return action
    return A.GIVE_UP if attempts_so_far >= policy.max_attempts else A.RETRY


def after_attempt(
    policy: FollowUpPolicy, attempts_so_far: int, outcome: AttemptOutcome | str
) -> FollowUpStatus:
    """The status of a pending follow-up after recording an attempt; `attempts_so_far` includes that
    attempt (1 for the first; see `action_for_attempt`)."""
    return transition(S.PENDING, action_for_attempt(policy, attempts_so_far, outcome))


# --- worklist -----------------------------------------------------------------------------------------


class WorklistState(StrEnum):
    UPCOMING = "upcoming"  # not visible yet, e.g. a callback before the next shift starts
    DUE = "due"  # on the list, the next attempt's deadline not yet passed
    OVERDUE = "overdue"  # now is past the next attempt's deadline
    DONE = "done"  # not pending: nothing more to do


def worklist_state(
    policy: FollowUpPolicy,
    start: datetime,
    status: FollowUpStatus | str,
    attempts_made: int,
    now: datetime,
    visible_from: datetime | None = None,
) -> tuple[WorklistState, datetime | None]:
    """Where a follow-up sits on the social worker's worklist at `now`, and when its next attempt is due.

    Returns `(state, due_by)`; `due_by` is the UTC deadline of attempt `attempts_made + 1`, or None
    when the follow-up is done. Upcoming while now < visible_from (default: start); overdue when
    now > due_by (at the deadline instant itself it is still due). A pending follow-up that has used
    all its attempts (say the policy was edited after it started: keep the version it started with)
    stays on the list against its last deadline, so somebody closes it.
    """
    _require_aware(start, "start")
    _require_aware(now, "now")
    if visible_from is not None:
        _require_aware(visible_from, "visible_from")
    if attempts_made < 0:
        raise ValueError(f"attempts_made cannot be negative ({attempts_made})")
    if FollowUpStatus(status) is not S.PENDING:
        return WorklistState.DONE, None
    deadlines = attempt_deadlines(policy, start)
    due_by = deadlines[min(attempts_made, len(deadlines) - 1)]
    instant = now.timestamp()
    if instant < (visible_from or start).timestamp():
        return WorklistState.UPCOMING, due_by
    if instant > due_by.timestamp():
        return WorklistState.OVERDUE, due_by
    return WorklistState.DUE, due_by


def next_shift_start(calendar: ServiceCalendar, at: datetime) -> datetime:
    """Start (and visible_from) of a "callback next shift" follow-up requested at `at`: the next
    opening of the service calendar, in UTC. If the desk is open at `at`, that is `at` itself (the
    callback goes on the list at once)."""
    _require_aware(at, "at")
    return calendar.next_opening(at).astimezone(UTC)
