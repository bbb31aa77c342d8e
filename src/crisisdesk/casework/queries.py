"""Permission-scoped reads for casework pages. Not visible = NotFound (404).

Scopes follow `crisisdesk.domain.permissions`: a social worker opens the cases they own (and the
follow-ups assigned to them or to nobody); a supervisor reads every case of the program team;
telecommunicators see only the escalations they must acknowledge. A social worker working a case
also sees a summary of the prior contacts of its people (dates, call types, dispositions, who
worked them): continuity of care, a treatment purpose; the other cases themselves stay closed to
them. Every record handed out is an audited read (`crisisdesk.audit.reads`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from crisisdesk.audit import reads
from crisisdesk.audit.access import deny, require
from crisisdesk.calls.models import Call, Escalation
from crisisdesk.casework.models import (
    Assessment,
    Case,
    CaseNote,
    CaseParticipant,
    ContactConsent,
    FollowUp,
    FollowUpAttempt,
    Person,
    PersonLink,
    SafetyPlan,
)
from crisisdesk.casework.services.people import person_facts
from crisisdesk.domain.cases import LIVE, CaseStatus
from crisisdesk.domain.followups import FollowUpStatus, WorklistState, parse_policy, worklist_state
from crisisdesk.domain.people import Match, match_candidates
from crisisdesk.domain.roles import Role

REPEAT_WINDOWS_DAYS = (30, 90, 180)


_visible = require


def _owner_only(actor: Any) -> bool:
    return getattr(actor, "role", "") == Role.SOCIAL_WORKER


def case_in_scope(actor: Any, case_id: int) -> None:
    """The case exists and the actor may see it (a social worker: their own), else an audited 404."""
    require(actor, "view_cases")
    qs = Case.objects.filter(pk=case_id)
    if _owner_only(actor):
        qs = qs.filter(owner=actor)
    if not qs.exists():
        raise deny(actor, "case.read", "case", case_id, "not_found_or_out_of_scope")


# --- people across calls ----------------------------------------------------------------------


def linked_ids(person_id: int) -> set[int]:
    """The person and every record joined to it by live (not undone) links, transitively."""
    seen = {person_id}
    todo = deque([person_id])
    while todo:
        current = todo.popleft()
        rows = PersonLink.objects.filter(Q(person_a_id=current) | Q(person_b_id=current), undone_at=None)
        for a, b in rows.values_list("person_a_id", "person_b_id"):
            for other in (a, b):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
    return seen


def candidates_for(person: Person, *, limit: int = 5) -> list[tuple[Person, Match]]:
    """Earlier records that may be the same person, best first, for a social worker to confirm.

    The database prefetches by the indexed blocking keys; the domain scores them. Records already
    linked, and records in the same case, are not offered; records linked to each other are offered
    once (confirming one links the whole group).
    """
    keys = Q()
    if person.phone_e164:
        keys |= Q(phone_e164=person.phone_e164)
    if person.key_dob:
        keys |= Q(key_dob=person.key_dob)
    if person.key_name:
        keys |= Q(key_name=person.key_name)
    if person.key_street:
        keys |= Q(key_street=person.key_street)
    if not keys:
        return []
    same_case = CaseParticipant.objects.filter(
        case_id__in=CaseParticipant.objects.filter(person=person).values("case_id")
    ).values("person_id")
    exclude = linked_ids(person.pk)
    pool = list(
        Person.objects.filter(keys)
        .exclude(pk__in=exclude)
        .exclude(pk__in=same_case)
        .order_by("-created_at", "-pk")[:500]
    )
    by_id = {p.pk: p for p in pool}
    matches = match_candidates(person_facts(person), [person_facts(p) for p in pool])
    # One entry per human already known: records linked to each other are offered once (the best).
    out: list[tuple[Person, Match]] = []
    covered: set[int] = set()
    for m in matches:
        if m.candidate_id in covered:
            continue
        covered |= linked_ids(m.candidate_id)
        out.append((by_id[m.candidate_id], m))
        if len(out) == limit:
            break
    return out


@dataclass
class PriorContacts:
    """What a confirmed link shows: earlier calls, cases, referrals and follow-ups of the person."""

    person_ids: set[int]
    cases: list[Case]
    calls: list[Call]
    follow_ups: list[FollowUp]
    links: list[PersonLink]
    referrals: list[Any] = field(default_factory=list)  # referrals.Referral of those cases, newest first


def prior_contacts(actor: Any, person_id: int, *, exclude_case_id: int = 0) -> PriorContacts:
    """`exclude_case_id`: the case being worked (its own call is not a prior contact); 0 for none."""
    _visible(actor, "view_cases")
    if (
        _owner_only(actor)
        and not CaseParticipant.objects.filter(person_id=person_id, case__owner=actor).exists()
    ):
        raise deny(actor, "person.read", "person", person_id, "not_in_own_case")
    ids = linked_ids(person_id)
    case_ids = CaseParticipant.objects.filter(person_id__in=ids).values("case_id")
    cases = list(
        Case.objects.filter(pk__in=case_ids)
        .exclude(pk=exclude_case_id)
        .select_related("call", "owner")
        .order_by("-opened_at")
    )
    phones = set(Person.objects.filter(pk__in=ids).exclude(phone_key="").values_list("phone_key", flat=True))
    calls = list(
        Call.objects.filter(Q(pk__in=[c.call_id for c in cases if c.call_id]) | Q(caller_key__in=phones))
        .exclude(cases__pk=exclude_case_id)
        .distinct()
        .order_by("-received_at")[:50]
    )
    follow_ups = list(
        FollowUp.objects.filter(case_id__in=[c.pk for c in cases])
        .order_by("-created_at")
        .prefetch_related("attempts")
    )
    links = list(
        PersonLink.objects.filter(Q(person_a_id__in=ids) | Q(person_b_id__in=ids))
        .select_related("person_a", "person_b", "confirmed_by", "undone_by")
        .order_by("-confirmed_at")
    )
    from crisisdesk.referrals.models import Referral  # referrals builds on casework: imported late

    referrals = list(
        Referral.objects.filter(case_id__in=[c.pk for c in cases]).order_by("-created_at", "-pk")
    )
    reads.note(actor, Person.objects.filter(pk__in=ids), action="person.read_prior_contacts")
    reads.note(actor, [*cases, *calls], action="prior_contact.read")
    return PriorContacts(ids, cases, calls, follow_ups, links, referrals)


# --- the case workspace -----------------------------------------------------------------------


def get_case(actor: Any, case_id: int) -> Case:
    _visible(actor, "view_cases")
    case = (
        Case.objects.select_related("call", "transfer", "owner", "closed_by")
        .prefetch_related(
            Prefetch(
                "participants", queryset=CaseParticipant.objects.select_related("person").order_by("pk")
            ),
            Prefetch(
                "notes", queryset=CaseNote.objects.select_related("author").order_by("written_at", "pk")
            ),
            Prefetch("assessments", queryset=Assessment.objects.order_by("-assessed_at", "-pk")),
            Prefetch("safety_plans", queryset=SafetyPlan.objects.order_by("-written_at", "-pk")),
            Prefetch("consents", queryset=ContactConsent.objects.order_by("-recorded_at", "-pk")),
            Prefetch(
                "follow_ups",
                queryset=FollowUp.objects.order_by("-created_at").prefetch_related(
                    Prefetch("attempts", queryset=FollowUpAttempt.objects.order_by("number"))
                ),
            ),
            Prefetch(
                "escalations",
                queryset=Escalation.objects.select_related("escalated_by", "acknowledged_by").order_by(
                    "escalated_at"
                ),
            ),
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None or (_owner_only(actor) and case.owner_id != actor.pk):
        raise deny(actor, "case.read", "case", case_id, "not_found_or_out_of_scope")
    reads.note(actor, case)
    reads.note(actor, [p.person for p in case.participants.all()])
    return case


def case_for_transfer(actor: Any, transfer_id: int) -> Case | None:
    """The case a transfer opened, if the actor may see it (a social worker: their own)."""
    _visible(actor, "view_cases")
    qs = Case.objects.filter(transfer_id=transfer_id)
    return (qs.filter(owner=actor) if _owner_only(actor) else qs).first()


def my_cases(actor: Any, *, live_only: bool = True) -> list[Case]:
    _visible(actor, "view_cases")
    qs = Case.objects.filter(owner=actor).select_related("call")
    if live_only:
        qs = qs.filter(status__in=[s.value for s in LIVE])
    cases = list(qs.order_by("-opened_at"))
    reads.note(actor, cases)
    return cases


# --- follow-up worklist -----------------------------------------------------------------------


@dataclass(frozen=True)
class WorkItem:
    follow_up: FollowUp
    state: WorklistState
    next_due_by: datetime | None
    attempts: int


@dataclass(frozen=True)
class Worklist:
    items: list[WorkItem]
    counts: dict[str, int]


def worklist(
    actor: Any, now: datetime | None = None, *, everyone: bool = False, done_days: int = 7
) -> Worklist:
    """Due, overdue and done follow-ups of a social worker, plus unassigned callbacks now visible.

    `everyone` (supervisors) lists every social worker's. Done items are those ended in the last
    `done_days` days. Upcoming callbacks (before the next shift opens) are counted, not listed.
    """
    _visible(actor, "view_cases")
    now = now or timezone.now()
    mine = Q() if everyone else Q(assigned_to=actor) | Q(assigned_to=None)
    live = FollowUp.objects.filter(mine, status=FollowUpStatus.PENDING)
    done = FollowUp.objects.filter(mine, ended_at__gte=now - timedelta(days=done_days)).exclude(
        status=FollowUpStatus.PENDING
    )
    rows = (
        (live | done)
        .select_related("policy", "case", "call", "assigned_to", "consent", "referral")
        .annotate(n_attempts=Count("attempts"))
        .order_by("first_due_by", "pk")
    )
    items: list[WorkItem] = []
    counts = {s.value: 0 for s in WorklistState}
    for f in rows:
        policy = parse_policy(f.policy.document)
        state, due = worklist_state(
            policy, f.start_at, FollowUpStatus(f.status), f.n_attempts, now, visible_from=f.visible_from
        )
        counts[state.value] += 1
        if state is not WorklistState.UPCOMING:
            items.append(WorkItem(f, state, due, f.n_attempts))
    order = {WorklistState.OVERDUE: 0, WorklistState.DUE: 1, WorklistState.DONE: 2}
    items.sort(key=lambda i: (order.get(i.state, 3), i.next_due_by or i.follow_up.ended_at or now))
    reads.note(actor, [i.follow_up for i in items])
    return Worklist(items, counts)


def get_follow_up(actor: Any, follow_up_id: int) -> FollowUp:
    _visible(actor, "view_cases")
    f = (
        FollowUp.objects.select_related("case", "call", "consent", "policy", "assigned_to")
        .prefetch_related(Prefetch("attempts", queryset=FollowUpAttempt.objects.order_by("number")))
        .filter(pk=follow_up_id)
        .first()
    )
    mine = f is not None and (
        f.assigned_to_id in (None, actor.pk) or (f.case is not None and f.case.owner_id == actor.pk)
    )
    if f is None or (_owner_only(actor) and not mine):
        raise deny(actor, "followup.read", "followup", follow_up_id, "not_found_or_out_of_scope")
    reads.note(actor, f)
    return f


# --- escalations ------------------------------------------------------------------------------


def unacknowledged_escalations(actor: Any) -> list[Escalation]:
    """What every telecommunicator console shows until someone acknowledges it, oldest first."""
    _visible(actor, "acknowledge_escalation")
    rows = list(
        Escalation.objects.filter(acknowledged_at=None)
        .select_related("call", "escalated_by", "case")
        .order_by("escalated_at", "pk")
    )
    reads.note(actor, rows)  # the strip shows the responder, the reason and the call
    return rows


def overdue_escalations(actor: Any, now: datetime, ack_seconds: int) -> list[Escalation]:
    """Escalations nobody acknowledged within the protocol's limit: the supervisor's alert."""
    _visible(actor, "view_floor")
    return list(
        Escalation.objects.filter(
            acknowledged_at=None, escalated_at__lte=now - timedelta(seconds=ack_seconds)
        )
        .select_related("call", "escalated_by")
        .order_by("escalated_at")
    )


# --- supervisor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupervisorView:
    open_cases: list[Case]
    escalations: list[Escalation]  # today's, newest first, with acknowledgement
    unacknowledged: list[Escalation]
    overdue_follow_ups: list[WorkItem]
    follow_up_counts: dict[str, int]


def supervisor_view(
    actor: Any, now: datetime | None = None, *, since: datetime | None = None
) -> SupervisorView:
    _visible(actor, "view_floor")
    now = now or timezone.now()
    since = since or now - timedelta(hours=24)
    open_cases = list(
        Case.objects.filter(status__in=[s.value for s in LIVE])
        .select_related("owner", "call")
        .order_by("opened_at")
    )
    escalations = list(
        Escalation.objects.filter(escalated_at__gte=since)
        .select_related("call", "escalated_by", "acknowledged_by")
        .order_by("-escalated_at")
    )
    wl = worklist(actor, now, everyone=True)
    reads.note(actor, open_cases)
    return SupervisorView(
        open_cases=open_cases,
        escalations=escalations,
        unacknowledged=[e for e in escalations if e.acknowledged_at is None],
        overdue_follow_ups=[i for i in wl.items if i.state is WorklistState.OVERDUE],
        follow_up_counts=wl.counts,
    )


# --- evaluation -------------------------------------------------------------------------------


def repeat_calls_after_close(case: Case, windows: tuple[int, ...] = REPEAT_WINDOWS_DAYS) -> dict[int, int]:
    """911 calls by the same person within N days after the case closed (N = 30, 90, 180).

    "Same person" = any record linked to the case's people; their calls are found by the keyed
    hash of the phone number and by the calls of their other cases. The case's own call is not a
    repeat. Returns {days: count}; a case that is not closed has no window yet (empty dict).
    """
    if case.status != CaseStatus.CLOSED or case.closed_at is None:
        return {}
    ids: set[int] = set()
    for pid in CaseParticipant.objects.filter(case=case).values_list("person_id", flat=True):
        ids |= linked_ids(pid)
    keys = set(Person.objects.filter(pk__in=ids).exclude(phone_key="").values_list("phone_key", flat=True))
    other_calls = Case.objects.filter(participants__person_id__in=ids).exclude(call=None).values("call_id")
    base = Call.objects.filter(Q(caller_key__in=keys) | Q(pk__in=other_calls))
    if case.call_id is not None:
        base = base.exclude(pk=case.call_id)
    out = {}
    for days in windows:
        end = case.closed_at + timedelta(days=days)
        out[days] = base.filter(received_at__gt=case.closed_at, received_at__lte=end).distinct().count()
    return out


# --- reads the casework pages need beside the above (web/views/casework.py, followups.py) --------


def escalations_for_case(actor: Any, case_id: int) -> list[Escalation]:
    """The escalations of one case with their acknowledgement, oldest first (the case page polls it)."""
    case_in_scope(actor, case_id)
    return list(
        Escalation.objects.filter(case_id=case_id)
        .select_related("escalated_by", "acknowledged_by")
        .order_by("escalated_at", "pk")
    )


def callback_follow_ups_for_call(actor: Any, call_id: int) -> list[FollowUp]:
    """Callbacks a telecommunicator recorded on a call (they have no case until someone opens one)."""
    _visible(actor, "view_cases")
    return list(
        FollowUp.objects.filter(call_id=call_id, kind=FollowUp.Kind.CALLBACK)
        .select_related("assigned_to", "policy")
        .prefetch_related(Prefetch("attempts", queryset=FollowUpAttempt.objects.order_by("number")))
        .order_by("created_at", "pk")
    )


def callback_cases_by_call(actor: Any, call_ids: list[int]) -> dict[int, Case]:
    """The newest callback case opened for each of these calls (one query, for the worklist rows)."""
    from crisisdesk.domain.cases import CaseOrigin  # kept local: this section is appended to the module

    _visible(actor, "view_cases")
    out: dict[int, Case] = {}
    rows = Case.objects.filter(call_id__in=call_ids, origin=CaseOrigin.CALLBACK).order_by("opened_at", "pk")
    for case in rows:
        if case.call_id is not None:
            out[case.call_id] = case  # later rows win: the newest case per call
    return out


def attempts_by_follow_up(actor: Any, follow_up_ids: list[int]) -> dict[int, list[FollowUpAttempt]]:
    """The attempts of these follow-ups, in order (one query, for the worklist rows)."""
    _visible(actor, "view_cases")
    out: dict[int, list[FollowUpAttempt]] = {pk: [] for pk in follow_up_ids}
    rows = FollowUpAttempt.objects.filter(follow_up_id__in=follow_up_ids).select_related("attempted_by")
    for attempt in rows.order_by("follow_up_id", "number"):
        out[attempt.follow_up_id].append(attempt)
    return out


def cases_for_call(actor: Any, call_id: int) -> list[Case]:
    """The cases opened on a call (by its claim, or as callbacks), oldest first: the call page links them."""
    _visible(actor, "view_cases")
    return list(Case.objects.filter(call_id=call_id).select_related("owner").order_by("opened_at", "pk"))


# --- 42 CFR Part 2: disclosure consents and the disclosure ledger (appended by the Part 2 work) ------


def disclosure_consents_for_case(actor: Any, case_id: int) -> list[Any]:
    """The case's disclosure consents, newest first, with their recipient and who recorded them."""
    from crisisdesk.casework.models import DisclosureConsent  # kept local: appended section

    _visible(actor, "view_cases")
    return list(
        DisclosureConsent.objects.filter(case_id=case_id)
        .select_related("recipient_organization", "recorded_by", "revoked_by")
        .order_by("-given_at", "-pk")
    )


def disclosures_for_case(actor: Any, case_id: int) -> list[Any]:
    """The accounting of disclosures of a case (HIPAA 164.528, 42 CFR 2.24): every artifact that
    left the program, newest first."""
    from crisisdesk.casework.models import Disclosure  # kept local: appended section

    _visible(actor, "view_cases")
    return list(
        Disclosure.objects.filter(case_id=case_id)
        .select_related("disclosed_by", "consent", "referral")
        .order_by("-disclosed_at", "-pk")
    )


def disclosure_recipients(actor: Any) -> list[tuple[int, str]]:
    """Directory organizations a disclosure consent can name, by name: (id, name)."""
    from crisisdesk.directory.models import Organization  # kept local: appended section

    _visible(actor, "view_cases")
    return list(Organization.objects.order_by("name", "pk").values_list("pk", "name")[:500])


def shareable_items(actor: Any, case_id: int) -> tuple[Any, ...]:
    """The case's items a referral may share with the agency (domain.part2.Item, tagged Part 2 or not)."""
    from crisisdesk.casework.services.disclosures import case_facts  # kept local: appended section
    from crisisdesk.domain.part2 import case_items

    _visible(actor, "view_cases")
    case = Case.objects.filter(pk=case_id).first()
    return case_items(case_facts(case)) if case is not None else ()
