"""Protocol evaluation: may this call go to the on-site social worker now?

`decide` is the one function that turns a call type, the telecommunicator's screening answers, the
time and the social worker's availability into a `Decision`. It is pure: the web app, the API, the
`crisisdesk triage` test cards and the analytics replay all call it, so they cannot disagree.

Order of the rules (each documented in docs/protocol-authoring.md):
1. Unknown call type -> not_eligible (call_type_unknown), flagged for review.
2. Emergency-only call type -> dispatch, whatever the answers.
3. Call type not in scope -> not_eligible.
4. Any safety question answered yes -> dispatch with every such reason; any required question
   unanswered -> dispatch with screening_incomplete (an unanswered question never yields a transfer).
5. The social worker cannot take it (holiday, outside hours, unavailable, caller declined) ->
   fallback with every such reason and the options the protocol lists for them.
6. Otherwise -> transfer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from crisisdesk.domain.calendar import NaiveDatetimeError, ServiceCalendar
from crisisdesk.domain.protocol import CallType, Protocol, QuestionKind, Scope
from crisisdesk.domain.reasons import DISPATCH_REASONS, FALLBACK_REASONS, Outcome, Reason


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    protocol_version: str
    fallback_options: tuple[str, ...] = ()
    call_type: CallType | None = None
    needs_review: bool = False  # an unknown call-type name: someone should add it to the protocol
    next_opening: datetime | None = None  # when closed: the next time the desk opens
    unanswered: tuple[str, ...] = field(default=())  # question ids left unanswered

    def as_dict(self) -> dict[str, object]:
        """The wire form used by the API and the triage card runner."""
        return {
            "outcome": self.outcome.value,
            "reasons": [r.value for r in self.reasons],
            "protocol_version": self.protocol_version,
            "fallback_options": list(self.fallback_options),
        }


def _ordered(reasons: set[Reason], order: tuple[Reason, ...]) -> tuple[Reason, ...]:
    return tuple(r for r in order if r in reasons)


def fallback_options_for(protocol: Protocol, reasons: tuple[Reason, ...]) -> tuple[str, ...]:
    """Union of the protocol's options for each reason, first-listed first, without repeats."""
    out: list[str] = []
    for reason in reasons:
        for option in protocol.fallbacks.get(reason, ()):
            if option not in out:
                out.append(option)
    return tuple(out)


def decide(
    protocol: Protocol,
    call_type: str,
    answers: Mapping[str, bool | None],
    at: datetime,
    social_worker_available: bool,
    calendar: ServiceCalendar | None = None,
) -> Decision:
    """Decide the route of one call. `answers` maps question id -> True / False / None (unanswered)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveDatetimeError(
            "decide() needs a timezone-aware instant, even when the rules will not use it"
        )
    version = protocol.version
    ct = protocol.find_call_type(call_type)
    if ct is None:
        return Decision(Outcome.NOT_ELIGIBLE, (Reason.CALL_TYPE_UNKNOWN,), version, needs_review=True)
    if ct.scope is Scope.EMERGENCY_ONLY:
        return Decision(Outcome.DISPATCH, (Reason.CALL_TYPE_EMERGENCY_ONLY,), version, call_type=ct)
    if ct.scope is Scope.NOT_IN_SCOPE:
        return Decision(Outcome.NOT_ELIGIBLE, (Reason.CALL_TYPE_NOT_IN_SCOPE,), version, call_type=ct)

    dispatch: set[Reason] = set()
    fallback: set[Reason] = set()
    unanswered = []
    for question in protocol.questions:
        answer = answers.get(question.id)
        if answer is None:
            unanswered.append(question.id)
            dispatch.add(Reason.SCREENING_INCOMPLETE)
        elif question.kind is QuestionKind.EXCLUSION and answer is True:
            dispatch.add(question.reason)
        elif question.kind is QuestionKind.CONSENT and answer is False:
            fallback.add(question.reason)
    if dispatch:
        return Decision(
            Outcome.DISPATCH,
            _ordered(dispatch, DISPATCH_REASONS),
            version,
            call_type=ct,
            unanswered=tuple(unanswered),
        )

    availability = (calendar or ServiceCalendar(protocol.calendar)).is_open(at)
    if not availability.open and availability.reason is not None:
        fallback.add(availability.reason)
    elif not social_worker_available:
        fallback.add(Reason.SOCIAL_WORKER_UNAVAILABLE)
    if fallback:
        reasons = _ordered(fallback, FALLBACK_REASONS)
        return Decision(
            Outcome.FALLBACK,
            reasons,
            version,
            fallback_options=fallback_options_for(protocol, reasons),
            call_type=ct,
            next_opening=availability.next_opening,
        )
    return Decision(Outcome.TRANSFER, (Reason.ELIGIBLE,), version, call_type=ct)


def fallback_for_unclaimed_transfer(protocol: Protocol) -> tuple[str, ...]:
    """Options to offer when a transfer timed out or was declined.

    The social worker turned out not to be able to take the call, so the telecommunicator gets the
    protocol's options for `social_worker_unavailable`. One rule for the API and the pages.
    """
    return fallback_options_for(protocol, (Reason.SOCIAL_WORKER_UNAVAILABLE,))
