"""The audited purge on a real database: exactly the due records and their parts go, nothing else.

Runs on SQLite and PostgreSQL (DATABASE_URL). Records are made through the services; the purge is
then run "years later" by passing `now`.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Model

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls import services as calls
from crisisdesk.calls.errors import Forbidden
from crisisdesk.calls.models import Call, Decision, DecisionReason, IntakeConflict, Screening, Transfer
from crisisdesk.calls.schemas import CadCall
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import (
    Assessment,
    Case,
    CaseNote,
    CaseParticipant,
    ContactConsent,
    FollowUp,
    Person,
)
from crisisdesk.retention.services import purge_expired
from tests.calls.builders import cad_record, new_call, screened
from tests.referrals.builders import claimed_case, person_id

pytestmark = pytest.mark.django_db

CASE_DAYS, CALL_DAYS = 2555, 365
NO_RISK = {"q1": "no", "q2": "no", "q6": "no"}
TABLES: tuple[type[Model], ...] = (
    Call,
    Screening,
    Decision,
    DecisionReason,
    Transfer,
    IntakeConflict,
    Case,
    CaseNote,
    Assessment,
    CaseParticipant,
    ContactConsent,
    FollowUp,
    Person,
)


def counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in TABLES}


def purge_rows(record_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="retention.purge", object_type=record_type))


def a_call(tc: Any, incident_id: str, received_at: str) -> Call:
    record = cad_record(incident_id, received_at=received_at)
    return calls.intake_call(tc, CadCall.model_validate(record)).call


def closed(sw: Any, case: Case) -> Case:
    cs.update_case_details(sw, case.pk, concerns={"mental_health"})
    cs.add_note(sw, case.pk, "counseling", "Talked through the evening.")
    cs.record_assessment(sw, case.pk, "cssrs_screener", NO_RISK)
    return cs.close_case(sw, case.pk, "resolved_by_phone", "Calm, plan for tomorrow")


@pytest.fixture
def closed_case(mecc_protocol: Any, telecommunicator: Any, social_worker: Any) -> Case:
    """A transferred call, claimed; a person, a note and an assessment in the case; closed."""
    return closed(social_worker, claimed_case(telecommunicator, social_worker))


def test_a_call_without_a_case_goes_a_year_after_it_was_received(
    mecc_protocol: Any, telecommunicator: Any
) -> None:
    old = new_call(telecommunicator, "MP-26-000101")
    screened(telecommunicator, old)  # screening + decision + its reasons are parts of the call
    later = a_call(telecommunicator, "MP-26-000202", "2027-03-01T10:00:00-06:00")
    assert DecisionReason.objects.filter(decision__call=old).exists()
    boundary = old.received_at + timedelta(days=CALL_DAYS)

    report = purge_expired(None, now=boundary - timedelta(microseconds=1))
    assert report.by_type()["call"].purged == 0 and Call.objects.count() == 2

    report = purge_expired(None, now=boundary)
    calls_report = report.by_type()["call"]
    assert (calls_report.due, calls_report.purged, calls_report.ids) == (1, 1, [old.pk])
    assert list(Call.objects.values_list("pk", flat=True)) == [later.pk]
    assert not Screening.objects.exists() and not Decision.objects.exists()
    assert not DecisionReason.objects.exists()
    assert calls_report.rows_deleted["calls.call"] == 1
    assert calls_report.rows_deleted["calls.screening"] == 1


def test_a_case_inside_its_period_keeps_its_call_and_its_people(closed_case: Case) -> None:
    # The person was recorded a month before the case closed: their own period ends first.
    Person.objects.update(created_at=closed_case.closed_at - timedelta(days=30))
    before = counts()
    at = closed_case.closed_at + timedelta(days=CASE_DAYS) - timedelta(seconds=1)
    report = purge_expired(None, now=at).by_type()
    assert counts() == before
    assert report["case"].past_period == 0
    assert (report["call"].past_period, report["call"].due, report["call"].held_by) == (1, 0, {"case": 1})
    assert report["call"].kept == {"held_by_kept_record": 1}
    assert (report["person"].past_period, report["person"].held_by) == (1, {"case": 1})


def test_a_case_past_its_period_goes_with_its_parts_its_call_and_its_people(
    closed_case: Case, telecommunicator: Any, social_worker: Any
) -> None:
    person = person_id(closed_case)
    # Another case, still open, and its call and person: none of it may go.
    other = claimed_case(telecommunicator, social_worker, "MP-26-000999")
    other_person = person_id(other)
    kept = {
        "case": [other.pk],
        "call": [other.call_id],
        "person": [other_person],
    }

    at = closed_case.closed_at + timedelta(days=CASE_DAYS)
    report = purge_expired(None, now=at).by_type()

    assert (report["case"].ids, report["person"].ids, report["call"].ids) == (
        [closed_case.pk],
        [person],
        [closed_case.call_id],
    )
    assert report["case"].past_period == 1  # the open case has not closed: nothing to count from
    assert list(Case.objects.values_list("pk", flat=True)) == kept["case"]
    assert list(Call.objects.values_list("pk", flat=True)) == kept["call"]
    assert list(Person.objects.values_list("pk", flat=True)) == kept["person"]
    assert not CaseNote.objects.filter(case_id=closed_case.pk).exists()
    assert not Assessment.objects.exists()  # only the closed case had one
    assert list(Transfer.objects.values_list("call_id", flat=True)) == [other.call_id]
    assert CaseParticipant.objects.filter(case=other).count() == 1
    assert report["case"].rows_deleted["casework.casenote"] >= 1


def test_an_open_case_is_never_purged_and_keeps_its_call_and_person(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    before = counts()
    report = purge_expired(None, now=case.opened_at + timedelta(days=40 * 365)).by_type()
    assert counts() == before
    assert report["call"].held_by == {"case": 1} and report["person"].held_by == {"case": 1}


def test_a_reopened_case_is_kept_and_a_live_status_wins_over_any_date(
    closed_case: Case, social_worker: Any
) -> None:
    cs.reopen_case(social_worker, closed_case.pk, "She called again")
    far = closed_case.closed_at + timedelta(days=40 * 365)
    assert purge_expired(None, now=far).by_type()["case"].purged == 0
    # Even a live case that carries a closing instant (bad data, an import) is never purged.
    Case.objects.filter(pk=closed_case.pk).update(closed_at=closed_case.closed_at)
    report = purge_expired(None, now=far).by_type()
    assert (report["case"].past_period, report["case"].kept) == (1, {"case_open": 1})
    assert Case.objects.filter(pk=closed_case.pk).exists()


def test_a_pending_follow_up_keeps_its_case_until_it_ends(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    consent = cs.record_consent(
        social_worker, case.pk, given_by="Dana Ortiz", relation="person_in_crisis",
        method="verbal_on_call", contact="(612) 555-0142",
    )  # fmt: skip
    follow_up = cs.schedule_follow_up(social_worker, consent.pk)
    case = closed(social_worker, case)
    far = case.closed_at + timedelta(days=20 * 365)

    report = purge_expired(None, now=far).by_type()
    assert report["follow_up"].past_period == 0  # pending: it has not ended
    assert report["case"].held_by == {"follow_up": 1} and Case.objects.filter(pk=case.pk).exists()

    ended = cs.cancel_follow_up(social_worker, follow_up.pk, "Person moved away")
    report = purge_expired(None, now=ended.ended_at + timedelta(days=CASE_DAYS)).by_type()
    # One run: the follow-up goes first, which frees the case, which frees its call and person.
    assert (report["follow_up"].purged, report["case"].purged, report["call"].purged) == (1, 1, 1)
    assert report["person"].purged == 1
    assert not Case.objects.exists() and not ContactConsent.objects.exists() and not Call.objects.exists()


def test_a_dry_run_deletes_nothing_and_predicts_the_real_run(closed_case: Case) -> None:
    at = closed_case.closed_at + timedelta(days=CASE_DAYS)
    before = counts()
    dry = purge_expired(None, now=at, dry_run=True)
    assert counts() == before
    assert not AuditEvent.objects.filter(action="retention.purge").exists()
    row = AuditEvent.objects.get(action="retention.dry_run")
    assert row.details["types"]["case"]["due"] == 1

    real = purge_expired(None, now=at)
    predicted = {t.record_type: t.due for t in dry.types if t.status == "dry_run"}
    assert predicted == {t.record_type: t.purged for t in real.types if t.status == "purged"}
    assert (predicted["case"], predicted["call"], predicted["person"]) == (1, 1, 1)


def test_one_audit_row_per_record_type_with_counts_ids_and_the_policy_version(
    closed_case: Case, administrator: Any
) -> None:
    at = closed_case.closed_at + timedelta(days=CASE_DAYS)
    report = purge_expired(administrator, now=at)
    rows = AuditEvent.objects.filter(action="retention.purge")
    assert sorted(rows.values_list("object_type", flat=True)) == sorted(t.record_type for t in report.types)
    (case_row,) = purge_rows("case")
    assert case_row.actor == administrator and case_row.outcome == "ok"
    assert case_row.details["ids"] == [closed_case.pk]
    assert (case_row.details["due"], case_row.details["purged"]) == (1, 1)
    assert case_row.details["policy_version"] == report.policy_version == "retention-proposal/1"
    assert case_row.details["rows_deleted"]["casework.case"] == 1
    (session_row,) = purge_rows("session")
    assert "ids" not in session_row.details  # session keys are credentials


def test_audit_events_younger_than_six_years_by_the_clock_are_counted_but_kept(closed_case: Case) -> None:
    """A run told it is 6 years later counts the rows as due, but the chain-aware audit purge keeps
    anything younger than 6 years by the server's clock (tests/audit covers the real removal)."""
    old = AuditEvent.objects.count()
    assert old > 0
    at = AuditEvent.objects.order_by("-at").first().at + timedelta(days=2190)  # type: ignore[union-attr]
    report = purge_expired(None, now=at).by_type()
    assert (report["audit_event"].status, report["audit_event"].due) == ("audit_module", old)
    assert report["audit_event"].purged == 0
    assert AuditEvent.objects.count() > old  # all still there, plus this run's rows


def test_a_newer_intake_conflict_holds_its_call_until_its_own_period_ends(
    mecc_protocol: Any, telecommunicator: Any
) -> None:
    call = new_call(telecommunicator)
    changed = cad_record(priority="1")
    calls.intake_call(telecommunicator, CadCall.model_validate(changed))
    conflict = IntakeConflict.objects.get()
    # Pretend the conflicting repeat came 100 days later (the CAD resent an old incident).
    IntakeConflict.objects.filter(pk=conflict.pk).update(received_at=call.received_at + timedelta(days=100))

    report = purge_expired(None, now=call.received_at + timedelta(days=CALL_DAYS)).by_type()
    assert report["call"].held_by == {"intake_conflict": 1} and Call.objects.exists()
    report = purge_expired(None, now=call.received_at + timedelta(days=CALL_DAYS + 100)).by_type()
    assert (report["intake_conflict"].purged, report["call"].purged) == (1, 1)


def test_a_run_deletes_at_most_its_limit_and_the_next_run_goes_on(
    mecc_protocol: Any, telecommunicator: Any
) -> None:
    for n in range(3):
        new_call(telecommunicator, f"MP-26-00030{n}")
    at = Call.objects.order_by("-received_at").first().received_at + timedelta(days=CALL_DAYS)  # type: ignore[union-attr]
    first = purge_expired(None, now=at, limit=2).by_type()["call"]
    assert (first.purged, first.more_remain, Call.objects.count()) == (2, True, 1)
    second = purge_expired(None, now=at, limit=2).by_type()["call"]
    assert (second.purged, second.more_remain, Call.objects.count()) == (1, False, 0)


def test_only_an_administrator_or_the_system_may_purge(closed_case: Case, social_worker: Any) -> None:
    with pytest.raises(Forbidden):
        purge_expired(social_worker, now=closed_case.closed_at + timedelta(days=CASE_DAYS))
    assert Case.objects.exists()


def test_the_command_prints_what_is_due_and_purged(closed_case: Case) -> None:
    at = (closed_case.closed_at + timedelta(days=CASE_DAYS)).isoformat()
    out = io.StringIO()
    call_command("retention_purge", "--dry-run", "--now", at, stdout=out)
    text = out.getvalue()
    assert "dry run: nothing deleted" in text and Case.objects.exists()
    case_line = next(line for line in text.splitlines() if line.startswith("case "))
    assert case_line.split()[1:5] == ["2555", "1", "1", "-"]

    out = io.StringIO()
    call_command("retention_purge", "--now", at, stdout=out)
    case_line = next(line for line in out.getvalue().splitlines() if line.startswith("case "))
    assert case_line.split()[1:5] == ["2555", "1", "1", "1"] and not Case.objects.exists()


def test_the_command_refuses_an_instant_without_an_offset() -> None:
    with pytest.raises(CommandError, match="offset"):
        call_command("retention_purge", "--now", "2033-01-01T03:00:00")


def test_sqlite_overwrites_the_pages_of_deleted_records() -> None:
    """The SQLite settings turn secure_delete on (PostgreSQL: VACUUM, docs/retention.md)."""
    from django.db import connection

    from crisisdesk import settings as production

    options = production.DATABASES["default"].get("OPTIONS", {})
    if connection.vendor == "sqlite":
        assert "PRAGMA secure_delete=ON" in options["init_command"]
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete")
            assert cursor.fetchone()[0] == 1
    else:
        assert "secure_delete" not in str(options)  # a PostgreSQL connection gets no SQLite pragma


def test_a_disclosure_ledger_entry_holds_its_case_and_person_until_its_own_period_ends(
    closed_case: Case, social_worker: Any
) -> None:
    """The ledger is a table the case plan does not list: it holds what it points at (schema)."""
    from crisisdesk.casework.models import Disclosure

    entry = Disclosure.objects.create(
        case=closed_case, person_id=person_id(closed_case), artifact="referral_packet",
        recipient_name="Hennepin Housing Help", purpose="care_coordination", outcome="all",
        rule_version="test", disclosed_by=social_worker,
        # Disclosed long after the close (a records request): the ledger's 6 years end after the case's 7.
        disclosed_at=closed_case.closed_at + timedelta(days=1000),
    )  # fmt: skip
    at = closed_case.closed_at + timedelta(days=CASE_DAYS)
    report = purge_expired(None, now=at).by_type()
    assert report["case"].held_by == {"disclosure_ledger": 1} and report["case"].purged == 0
    assert report["person"].held_by == {"case": 1, "disclosure_ledger": 1}
    assert Disclosure.objects.filter(pk=entry.pk).exists()

    report = purge_expired(None, now=entry.disclosed_at + timedelta(days=2190)).by_type()
    assert (report["disclosure_ledger"].ids, report["case"].ids) == ([entry.pk], [closed_case.pk])
    assert not Case.objects.exists() and not Disclosure.objects.exists()
