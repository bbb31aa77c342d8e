"""The evaluator's CSV export of suppressed aggregates: roles, audit, content, Safe Harbor checks."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crisisdesk.analytics.safe_harbor import ExportRefused
from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.errors import Forbidden
from crisisdesk.casework.models import Case
from crisisdesk.evaluation.services import export_evaluation_csv
from tests.conftest import sign_in
from tests.evaluation.test_report import month  # noqa: F401 - the fixture: a month of calls

pytestmark = pytest.mark.django_db
URL = "/evaluation/program/aggregates.csv?month=2026-11&months=1"
NOVEMBER = (
    datetime(2026, 11, 1, tzinfo=timezone.get_default_timezone()),
    datetime(2026, 12, 1, tzinfo=timezone.get_default_timezone()),
)


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def rows_of(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


@pytest.mark.parametrize("persona", ["evaluator", "supervisor"])
def test_the_export_is_a_csv_download_of_suppressed_counts(request: Any, month: None, persona: str) -> None:  # noqa: F811
    response = client_for(request.getfixturevalue(persona)).get(URL)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="evaluation-aggregates-2026-11-01-to-2026-11-30.csv"'
    )
    rows = rows_of(response.content)
    tables = {r["table"] for r in rows}
    assert {"funnel", "answered_by_language", "answered_by_neighbourhood_and_period"} <= tables
    # No count of 1..10 anywhere: the month has 2 calls, so every non-zero count is withheld.
    for r in rows:
        if r["unit"] in ("calls", "cases", "follow-ups", "referrals", "escalations"):
            assert r["value"] == "" or r["value"] == "0" or int(r["value"]) > 10, r
            assert (r["suppressed"] == "1") == (r["value"] == "")
    calls = next(r for r in rows if r["table"] == "funnel" and r["category_1"] == "calls")
    assert calls["suppressed"] == "1" and calls["value"] == ""
    text = response.content.decode()
    assert "555-01" not in text and "5th St" not in text and "MP-26" not in text


def test_every_export_is_audited(month: None, evaluator: Any) -> None:  # noqa: F811
    client_for(evaluator).get(URL)
    event = AuditEvent.objects.filter(action="export.evaluation_csv").latest("pk")
    assert event.outcome == "ok" and event.actor_id == evaluator.pk
    assert event.details["start"] == "2026-11-01" and event.details["grain"] == "month"
    assert event.details["policy"] == "deid/1" and event.details["withheld"] > 0


@pytest.mark.parametrize("persona", ["telecommunicator", "social_worker"])
def test_other_roles_get_403(request: Any, month: None, persona: str) -> None:  # noqa: F811
    assert client_for(request.getfixturevalue(persona)).get(URL).status_code == 403


def test_the_service_refuses_and_audits_a_role_without_aggregates(social_worker: Any) -> None:
    with pytest.raises(Forbidden):
        export_evaluation_csv(social_worker, *NOVEMBER)
    assert AuditEvent.objects.get(action="export.evaluation_csv").outcome == "denied"


def test_a_bad_period_is_422(evaluator: Any) -> None:
    assert client_for(evaluator).get("/evaluation/program/aggregates.csv?month=2026-13").status_code == 422


def test_a_formula_in_a_language_name_is_neutralised(month: None, evaluator: Any) -> None:  # noqa: F811
    Case.objects.update(language="=1+2+cmd")  # a label typed by a person could start with "="
    rows = rows_of(client_for(evaluator).get(URL).content)
    labels = {r["category_1"] for r in rows if r["table"] == "answered_by_language"}
    assert labels == {"'=1+2+cmd"}


def test_a_url_in_a_category_refuses_the_export(month: None, evaluator: Any) -> None:  # noqa: F811
    Case.objects.update(language='=HYPERLINK("http://evil.test")')
    response = client_for(evaluator).get(URL)
    assert response.status_code == 422 and b"URL" in response.content
    assert AuditEvent.objects.filter(action="export.evaluation_csv").latest("pk").outcome == "refused"


def test_the_grain_setting_decides_the_periods(month: None, evaluator: Any, settings: Any) -> None:  # noqa: F811
    settings.EXPORT_DATE_GRAIN = "year"
    rows = rows_of(client_for(evaluator).get(URL).content)
    assert {r["category_1"] for r in rows if r["table"] == "calls_by_period"} == {"2026"}
    settings.EXPORT_DATE_GRAIN = "week"
    rows = rows_of(client_for(evaluator).get(URL).content)
    weeks = {r["category_1"] for r in rows if r["table"] == "calls_by_period"}
    assert "2026-W45" in weeks and all(w.startswith("2026-W") for w in weeks)


def test_the_evaluation_page_links_the_export_and_says_when_the_grain_is_not_safe_harbor(
    month: None,  # noqa: F811
    evaluator: Any,
    settings: Any,
) -> None:
    html = client_for(evaluator).get("/evaluation/program/?month=2026-11&months=1").content.decode()
    assert "aggregates.csv" in html and "not HIPAA Safe Harbor" in html
    settings.EXPORT_DATE_GRAIN = "year"
    html = client_for(evaluator).get("/evaluation/program/?month=2026-11&months=1").content.decode()
    assert "not HIPAA Safe Harbor" not in html


def test_the_export_date_grain_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    from crisisdesk.config import ConfigError, load_config

    monkeypatch.setenv("CRISISDESK_DEBUG", "1")
    monkeypatch.setenv("CRISISDESK_EXPORT_DATE_GRAIN", "Quarter")
    assert load_config().export_date_grain == "quarter"
    monkeypatch.setenv("CRISISDESK_EXPORT_DATE_GRAIN", "day")
    with pytest.raises(ConfigError, match="CRISISDESK_EXPORT_DATE_GRAIN"):
        load_config()
    with pytest.raises(ExportRefused):
        raise ExportRefused(["x"])
