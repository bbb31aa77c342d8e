"""The evaluation from the operational database: de-identified rows, measures, the monthly report."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from crisisdesk.analytics.evaluation_published import publish
from crisisdesk.calls import services as calls
from crisisdesk.calls.schemas import CadCall
from crisisdesk.casework import services
from crisisdesk.casework.models import Case
from crisisdesk.evaluation.dataset import COLUMNS, evaluation_rows
from crisisdesk.evaluation.report import evaluation_for, write_report
from crisisdesk.referrals import services as rs
from tests.calls.builders import CLOSED_AT, OPEN_AT, cad_record, requested_transfer, screened
from tests.referrals.builders import agency_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(mecc_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    """One answered call (closed, with a follow-up and referrals) and one after-hours call (comparison)."""
    transfer = requested_transfer(telecommunicator, social_worker)
    calls.claim_transfer(social_worker, transfer.pk, now=OPEN_AT + timedelta(seconds=40))
    case = Case.objects.get(transfer=transfer)
    referrals(social_worker, case)
    services.update_case_details(
        social_worker, case.pk, concerns={"mental_health"}, language="Somali", interpreter_used=True
    )
    consent = services.record_consent(
        social_worker,
        case.pk,
        given_by="Caller",
        relation="caller",
        method="verbal_on_call",
        contact="612-555-0142",
    )
    follow_up = services.schedule_follow_up(social_worker, consent.pk)
    services.record_attempt(social_worker, follow_up.pk, channel="phone", outcome="reached")
    services.close_case(
        social_worker, case.pk, "resolved_by_phone", "ok", now=OPEN_AT + timedelta(minutes=30)
    )
    record = cad_record("MP-26-000777", received_at=CLOSED_AT.isoformat())
    after_hours = calls.intake_call(telecommunicator, CadCall.model_validate(record)).call
    screened(telecommunicator, after_hours, at=CLOSED_AT)


def referrals(sw: Any, case: Case) -> None:
    """Three referrals sent from the case (one completed, one failed, one still open) and a draft."""
    at = OPEN_AT + timedelta(minutes=5)
    report = {"said": "ok", "channel": "phone"}
    sent = []
    for name in ("Housing help", "Food shelf", "Peer line"):
        service = agency_service(name, f"{name} org")
        consent = rs.record_referral_consent(
            sw, case.pk, service.pk, given_by="Dana", relation="person_in_crisis", method="verbal_on_call",
            contact="612-555-0142", now=at,
        )  # fmt: skip
        sent.append(rs.refer(sw, case.pk, service.pk, consent.pk, need="other", now=at))
    for r in sent[:2]:
        rs.record_agency_response(sw, r.pk, accepted=True, occurred_at=at, **report)
    rs.complete_referral(sw, sent[0].pk, occurred_at=at + timedelta(minutes=1), **report)
    rs.fail_referral(sw, sent[1].pk, occurred_at=at + timedelta(minutes=1), reason="no show", **report)
    service = agency_service("Not sent", "Draft org")
    consent = rs.record_referral_consent(
        sw, case.pk, service.pk, given_by="Dana", relation="person_in_crisis", method="verbal_on_call",
        contact="612-555-0142", now=at,
    )  # fmt: skip
    rs.create_referral(sw, case.pk, service.pk, consent.pk, need="other", now=at)  # a draft: not "made"


def test_rows_carry_no_names_numbers_or_narratives(month: None) -> None:
    rows = evaluation_rows(OPEN_AT - timedelta(days=1), OPEN_AT + timedelta(days=1))
    assert len(rows) == 2 and all(tuple(r) == COLUMNS for r in rows)
    text = repr(rows)
    assert "555" not in text and "narrative" not in text and "5th St" not in text
    answered = next(r for r in rows if r["answered"])
    assert answered["seconds_to_answer"] == 40.0 and answered["language"] == "Somali"
    # The three referral checks are not counted as follow-ups (the measure keeps its meaning).
    assert (answered["follow_ups"], answered["follow_ups_done"], answered["follow_ups_reached"]) == (1, 1, 1)
    assert (answered["referrals"], answered["referrals_completed"], answered["referrals_failed"]) == (3, 1, 1)
    after_hours = next(r for r in rows if not r["answered"])
    assert (
        after_hours["referrals"],
        after_hours["referrals_completed"],
        after_hours["referrals_failed"],
    ) == (0, 0, 0)
    assert "Housing help" not in text and "Dana" not in text
    assert answered["caller_key"] and len(answered["caller_key"]) == 64


def test_measures_and_comparison_group(month: None) -> None:
    ev = evaluation_for(
        OPEN_AT - timedelta(days=1), OPEN_AT + timedelta(days=1), as_of=OPEN_AT + timedelta(days=40)
    )
    assert ev.funnel["answered"] == 1 and ev.funnel["in_scope"] == 2
    assert ev.outcomes["resolved_without_police_or_ems"] == 1
    assert ev.comparison.calls == 1 and ev.comparison_by_reason == {"outside service hours": 1}
    # Both calls came from the same number: the after-hours call is a repeat of the answered one.
    assert ev.program.repeats[0].eligible == 1 and ev.program.repeats[0].with_repeat == 1
    assert ev.by_language == {"Somali": 1}  # raw: pages and exports print it only through publish()
    assert publish(ev).breakdown("answered_by_language") == {"Somali": "*"}
    assert ev.referrals == {"made": 3, "completed": 1, "failed": 1}


def test_monthly_report_html_and_pdf_with_the_charts(month: None, tmp_path: Path) -> None:
    ev = evaluation_for(
        OPEN_AT - timedelta(days=1), OPEN_AT + timedelta(days=1), as_of=OPEN_AT + timedelta(days=40)
    )
    html_path, pdf_path = write_report(ev, tmp_path)
    page = html_path.read_text(encoding="utf-8")
    assert "Repeat 911 calls" in page and "Plotly.newPlot" in page and "* = withheld" in page
    # 3 referrals made, 1 completed, 1 failed: all counts of 1..10, so all withheld.
    assert "referrals made / completed / did not work out" in page and "* / * / *" in page
    assert "3 / 1 / 1" not in page
    assert "cdn" not in page.split("<script>", 1)[0].lower()  # plotly.js is inside the file
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_the_command_writes_the_report(month: None, tmp_path: Path) -> None:
    out = StringIO()
    call_command("evaluation_report", month="2026-11", out=str(tmp_path), no_pdf=True, stdout=out)
    assert (tmp_path / "evaluation-2026-11.html").exists()
    assert "2 calls, 2 in scope, 1 answered" in out.getvalue()
    with pytest.raises(Exception, match="2026-11"):
        call_command("evaluation_report", month="November", out=str(tmp_path))
