"""The program evaluation page and the monthly report downloads (supervisors and evaluators)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import sign_in
from tests.evaluation.test_report import month  # noqa: F401 - the fixture: a month of calls

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.mark.parametrize("persona", ["evaluator", "supervisor"])
def test_evaluation_page_shows_measures_charts_and_caveats(request: Any, month: None, persona: str) -> None:  # noqa: F811
    page = client_for(request.getfixturevalue(persona)).get("/evaluation/program/?month=2026-11&months=1")
    assert page.status_code == 200
    html = page.content.decode()
    # One answered call and two in scope: small counts are withheld, never printed.
    assert 'id="ev-answered">*<' in html and 'id="ev-in-scope">*<' in html
    assert 'id="ev-export" href="/evaluation/program/aggregates.csv?month=2026-11&amp;months=1"' in html
    assert 'id="chart-funnel-spec" type="application/json"' in html and 'id="chart-repeats"' in html
    assert "/static/vendor/plotly/plotly.min.js" in html and "not randomised" in html
    assert "555-01" not in html and "5th St" not in html  # aggregates only: no number or address
    assert page["Cache-Control"] == "no-store"


@pytest.mark.parametrize("persona", ["telecommunicator", "social_worker"])
def test_evaluation_is_not_for_other_roles(request: Any, persona: str) -> None:
    assert client_for(request.getfixturevalue(persona)).get("/evaluation/program/").status_code == 403


def test_a_bad_period_is_422(evaluator: Any) -> None:
    client = client_for(evaluator)
    assert client.get("/evaluation/program/?month=2026-13").status_code == 422
    assert client.get("/evaluation/program/?months=99").status_code == 422
    assert client.get("/evaluation/program/report.pdf?month=nope").status_code == 422


def test_monthly_report_downloads(month: None, evaluator: Any) -> None:  # noqa: F811
    client = client_for(evaluator)
    html = client.get("/evaluation/program/report.html?month=2026-11")
    assert html.status_code == 200 and "evaluation-2026-11.html" in html["Content-Disposition"]
    assert b"Repeat 911 calls" in html.content
    pdf = client.get("/evaluation/program/report.pdf?month=2026-11")
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF")
        and pdf["Content-Type"] == "application/pdf"
    )
    assert client.get("/evaluation/program/report.exe?month=2026-11").status_code == 404


def test_plotly_js_is_served_locally(client: Client) -> None:
    response = client.get("/static/vendor/plotly/plotly.min.js")
    assert response.status_code == 200
