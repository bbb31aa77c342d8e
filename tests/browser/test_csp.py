"""The strict Content-Security-Policy in real Chromium: each role's main page (and the evaluation
charts, drawn by plotly.js) runs with no policy violation reported by the browser."""

from __future__ import annotations

from typing import Any

import pytest

from crisisdesk.calls.protocols import publish_protocol
from tests.conftest import protocol_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Registered before any page script runs (Playwright injects it outside the page's CSP).
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""

PAGES = [
    ("telecommunicator", "tc-alex", ["/"]),
    ("social_worker", "sw-sam", ["/"]),
    ("supervisor", "sup-pat", ["/"]),
    ("evaluator", "eval-kim", ["/", "/evaluation/program/"]),
    ("administrator", "admin-lee", ["/", "/admin/retention/retentionpolicyversion/"]),
]


def violations(page: Any, console: list[str]) -> list[str]:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # a violation event is dispatched asynchronously
    reported = list(page.evaluate("window.__cspViolations || []"))
    return reported + [m for m in console if "Content Security Policy" in m]


@pytest.mark.parametrize(("role", "username", "paths"), PAGES, ids=[p[0] for p in PAGES])
def test_no_page_of_a_role_violates_the_policy(
    new_page: Any, make_user: Any, shot: Any, role: str, username: str, paths: list[str]
) -> None:
    publish_protocol(None, protocol_text(version="browser-csp", always_open=True), system=True)
    make_user(role, username, is_staff=role == "administrator", is_superuser=role == "administrator")
    page = new_page(username)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type in {"error", "warning"} else None)
    page.context.add_init_script(LISTEN)
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.ok, (path, response and response.status)
        assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
        if path == "/evaluation/program/":
            # The charts are drawn (plotly.js with its styles from the static file) and react to
            # the pointer: hovering adds the mode bar, which plotly.js styles too.
            page.wait_for_selector(".chart .main-svg")
            page.hover(".chart")
            page.wait_for_selector(".chart .modebar", state="attached")
        found = violations(page, console)
        shot(page, f"csp-{role}-{path.strip('/').replace('/', '-') or 'home'}")
        assert not found, f"{role} {path}: {found}"
