"""Web hardening (issue 5, item 6): CSP on every page kind, cookies, generic error pages, no personal
data in application logs (S16), and `check --deploy` clean with the production settings."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from crisisdesk.domain.roles import HUMAN_ROLES, Role
from crisisdesk.logging_filters import MASK, WITHHELD, RedactPersonalData, redact
from tests.calls.builders import cad_record
from tests.conftest import sign_in
from tests.web.hardening_urls import BOOM

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "src" / "crisisdesk").rglob("templates/**/*.html"))
EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def csp(response: Any) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    parts = (p.strip().split(" ", 1) for p in header.split(";") if p.strip())
    return {part[0]: part[1] for part in parts}


# --- Content-Security-Policy -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r.value for r in HUMAN_ROLES])
def test_each_roles_main_page_sends_the_strict_policy(role: str, make_user: Any, mecc_protocol: Any) -> None:
    # An administrator's main page is the admin site, which needs staff status.
    user = make_user(role, is_staff=role == Role.ADMINISTRATOR)
    client = sign_in(Client(), user)
    response = client.get("/", follow=True)
    assert response.status_code == 200 and response.redirect_chain, role
    assert csp(response) == EXPECTED_CSP


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/login/", "/api/v1/openapi.json", "/admin/login/", "/no-such-page/", "/static/crisisdesk/app.css"],
    ids=["login", "api", "admin", "not-found", "static"],
)
def test_every_other_page_kind_sends_it_too(path: str) -> None:
    response = Client().get(path)
    assert csp(response) == EXPECTED_CSP, path


@pytest.mark.django_db
def test_the_api_docs_page_sends_it(make_user: Any) -> None:
    client = sign_in(Client(), make_user(Role.SUPERVISOR))
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and csp(response) == EXPECTED_CSP


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on* event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style", re.I), "a <style> block"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"hx-on", re.I), "an hx-on handler (htmx evaluates it as script)"),
]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_template_needs_inline_script_or_style(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"{#.*?#}", "", text, flags=re.S)  # comments may name what they avoid
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert not found, f"{path.relative_to(ROOT)} has {', '.join(found)}: the CSP refuses it"


def test_the_inline_check_catches_what_it_looks_for() -> None:
    bad = '<script>alert(1)</script><a onclick="x()">x</a><p style="color:red">'
    assert {what for pattern, what in INLINE if pattern.search(bad)} == {
        "inline <script>",
        "an on* event handler",
        "a style attribute",
    }
    assert not any(p.search('<script src="/static/x.js"></script>') for p, _ in INLINE)
    assert not any(p.search('<script id="c" type="application/json">{}</script>') for p, _ in INLINE)


# --- Generic error pages ------------------------------------------------------------------------------


@pytest.fixture
def production_errors(settings: Any) -> Any:
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.web.hardening_urls"
    return settings


@pytest.mark.django_db
def test_a_failing_view_gives_the_generic_500_page_without_details(production_errors: Any) -> None:
    response = Client(raise_request_exception=False).get("/test-only/boom/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    for leak in ("Traceback", "RuntimeError", "Quixmarker", "555-0177", "hardening_urls", "boom"):
        assert leak not in body, leak
    assert csp(response) == EXPECTED_CSP


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("request_kwargs", "path", "status", "heading"),
    [
        ({}, "/test-only/refuse/", 403, "You cannot open this page"),
        ({}, "/cases/999999/does-not-exist/", 404, "Nothing here"),
        ({"HTTP_HOST": "evil.example"}, "/login/", 400, "The request could not be read"),
    ],
    ids=["403", "404", "400-bad-host"],
)
def test_other_errors_are_generic_too(
    production_errors: Any, request_kwargs: dict[str, str], path: str, status: int, heading: str
) -> None:
    response = Client().get(path, **request_kwargs)  # type: ignore[arg-type]
    body = response.content.decode()
    assert response.status_code == status and heading in body
    assert "Quixmarker" not in body and "evil.example" not in body and "Traceback" not in body


@pytest.mark.django_db
def test_a_csrf_failure_does_not_say_which_check_failed() -> None:
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"})
    body = response.content.decode()
    assert response.status_code == 403 and "This form has expired" in body
    assert "CSRF" not in body and "Referer" not in body and "cookie" not in body.lower()


# --- No personal data in application logs (S16) ------------------------------------------------------


def test_the_filter_masks_phones_emails_and_long_numbers() -> None:
    text = "call (612) 555-0142 or 612.555.0143 or +16125550144; mail dana.o+1@example.org; ssn 123-45-6789; file 12345678"
    out = redact(text)
    for leak in ("555-0142", "555.0143", "6125550144", "dana.o", "123-45-6789", "12345678"):
        assert leak not in out, leak
    assert out.count(MASK) == 6
    assert redact("case 1234 closed at 2026-11-25 15:30:00") == "case 1234 closed at 2026-11-25 15:30:00"


def test_every_handler_in_the_settings_has_the_filter() -> None:
    from django.conf import settings

    logging_config = settings.LOGGING
    assert logging_config["handlers"], "no handlers configured"
    for name, handler in logging_config["handlers"].items():
        assert "redact_personal_data" in handler.get("filters", []), name
    assert logging_config["filters"]["redact_personal_data"]["()"].endswith("RedactPersonalData")


def _handlers(name: str) -> list[logging.Handler]:
    """The handlers a record logged on `name` reaches (what logging itself walks)."""
    found: list[logging.Handler] = []
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None:
        found += [h for h in logger.handlers if type(h).__module__.split(".")[0] not in {"_pytest"}]
        logger = logger.parent if logger.propagate else None
    return found


@pytest.mark.parametrize("name", ["django.request", "django.server", "django", "crisisdesk.calls", "root"])
def test_no_configured_handler_writes_unfiltered_or_mails_requests(name: str) -> None:
    from django.utils.log import AdminEmailHandler

    handlers = _handlers("" if name == "root" else name)
    assert handlers, name
    for handler in handlers:
        assert not isinstance(handler, AdminEmailHandler), "it would e-mail the request body"
        assert any(isinstance(f, RedactPersonalData) for f in handler.filters), (name, handler)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured stream handlers write, captured (their filters and formatters included)."""
    stream = io.StringIO()
    handlers = {h for n in ("django.request", "crisisdesk", "") for h in _handlers(n)}
    swapped = [(h, h.setStream(stream)) for h in handlers if isinstance(h, logging.StreamHandler)]
    levels = [(lg, lg.level) for lg in (logging.getLogger("django"), logging.getLogger("crisisdesk"))]
    for lg, _ in levels:
        lg.setLevel(logging.DEBUG)
    yield stream
    for handler, previous in swapped:
        handler.setStream(previous)
    for lg, level in levels:
        lg.setLevel(level)


MARKERS = {
    "name": "Zebulon Quixmarker",
    "phone": "(612) 555-0177",
    "narrative": "MARKER-NARRATIVE-7Q says the neighbour hears voices",
    "address": "77 Markerplatz Ave",
}


@pytest.mark.django_db
def test_an_intake_and_failing_requests_leave_no_personal_data_in_the_log(
    log_output: io.StringIO, production_errors: Any, mecc_protocol: Any, cad: Any
) -> None:
    from crisisdesk.accounts.services import issue_api_token

    token = issue_api_token(cad, "MECC CAD")[1]
    api = Client(headers={"Authorization": f"Bearer {token}"}, raise_request_exception=False)
    narrative = f"{MARKERS['narrative']}; caller {MARKERS['name']}"
    good = cad_record(
        "MP-26-000777",
        narrative=narrative,
        caller={"phone": MARKERS["phone"]},
        location={"address": MARKERS["address"]},
    )
    assert api.post("/api/v1/calls", good, content_type="application/json").status_code == 201
    bad = dict(good, source="not allowed!", incident_id="")  # refused: 422, kept as a rejected record
    assert api.post("/api/v1/calls", bad, content_type="application/json").status_code == 422
    assert api.post("/api/v1/calls", "{not json", content_type="application/json").status_code in {400, 422}
    assert api.get("/test-only/boom/").status_code == 500  # an exception quoting a name and a phone

    written = log_output.getvalue()
    assert "Internal Server Error" in written and WITHHELD in written  # the failures were logged ...
    assert "Unprocessable" in written
    for what, marker in MARKERS.items():  # ... without any of what was sent
        assert marker not in written, what
    for fragment in ("Quixmarker", "555-0177", "6125550177", "zq@example.org", "MARKER-NARRATIVE"):
        assert fragment not in written, fragment
    assert BOOM not in written


# --- Cookies and `check --deploy` with the production settings ---------------------------------------

PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.test import RequestFactory

call_command("check", deploy=True, fail_level="WARNING")

def view(request):
    get_token(request)
    response = HttpResponse()
    response.set_cookie(
        settings.SESSION_COOKIE_NAME, "x", secure=settings.SESSION_COOKIE_SECURE,
        httponly=settings.SESSION_COOKIE_HTTPONLY, samesite=settings.SESSION_COOKIE_SAMESITE,
    )
    return response

response = CsrfViewMiddleware(view)(RequestFactory().get("/", secure=True))
print("PROBE" + json.dumps({
    "cookies": {name: morsel.OutputString() for name, morsel in response.cookies.items()},
    "hsts": [settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD],
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "debug": settings.DEBUG,
}))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory: Any) -> dict[str, Any]:
    # A deployment's environment: nothing of the test run's own (e.g. the browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly refuses).
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("CRISISDESK_", "DJANGO_", "DATABASE_"))
    }
    env = {
        **inherited,
        "CRISISDESK_DEBUG": "0",
        "CRISISDESK_SECRET_KEY": secrets.token_urlsafe(64),
        "CRISISDESK_LINKAGE_KEY": secrets.token_urlsafe(32),
        "CRISISDESK_AUDIT_KEY": secrets.token_urlsafe(32),
        "CRISISDESK_ALLOWED_HOSTS": "example.org",
        "CRISISDESK_DATA_DIR": str(tmp_path_factory.mktemp("production")),
        "DJANGO_SETTINGS_MODULE": "crisisdesk.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    done = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"check --deploy or the probe failed:\n{done.stdout}\n{done.stderr}"
    line = next(x for x in done.stdout.splitlines() if x.startswith("PROBE"))
    return dict(json.loads(line.removeprefix("PROBE")), output=done.stdout + done.stderr)


def test_check_deploy_is_clean_with_the_production_settings(production: dict[str, Any]) -> None:
    assert "System check identified no issues" in production["output"]
    assert production["debug"] is False and production["ssl_redirect"] is True
    assert production["hsts"] == [31536000, True, True]


def test_cookies_are_host_only_secure_and_not_readable_by_script(production: dict[str, Any]) -> None:
    cookies = production["cookies"]
    assert set(cookies) == {"__Host-crisisdesk_session", "__Host-csrftoken"}
    for name, text in cookies.items():
        attributes = {a.strip().split("=")[0].lower() for a in text.split(";")[1:]}
        assert {"secure", "httponly", "samesite", "path"} <= attributes, name
        assert "domain" not in attributes, f"{name}: a __Host- cookie has no Domain"
        assert "SameSite=Lax" in text and "Path=/" in text, name


def test_the_static_plotly_stylesheet_matches_the_installed_plotly() -> None:
    """plotly.js's own rules, served as a file instead of injected (tests/web/plotly_css.py)."""
    from tests.web.plotly_css import stylesheet

    shipped = ROOT / "src" / "crisisdesk" / "web" / "static" / "crisisdesk" / "plotly.css"
    assert shipped.read_text(encoding="utf-8") == stylesheet(), (
        "plotly changed: .venv/bin/python -m tests.web.plotly_css > src/crisisdesk/web/static/crisisdesk/plotly.css"
    )
    assert ".js-plotly-plot .plotly .modebar" in shipped.read_text(encoding="utf-8")
