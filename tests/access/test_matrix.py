"""The access matrix, walked: every page and every API operation x every role x own / other record.

Pages are found by walking the URL resolver and API operations from the OpenAPI schema, so a new
page or endpoint without an entry here fails `test_every_route_is_in_the_walk`. What each role may
do comes from the code under test (`web.views.common.role_page(action)` with `domain.roles.CAN`,
and `domain.permissions` for scopes); the walk asserts that the server enforces it: a role without
the action gets 403 (pages) or 403/404 (API), a record out of scope is 404 and never shows its
content, and every refusal is an audit row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from crisisdesk.api import api
from crisisdesk.audit.models import AuditEvent
from crisisdesk.domain.roles import Role, may
from tests.access.world import CLINICAL_MARKER, PERSON_MARKER, World, build_world
from tests.conftest import sign_in

PARAM_KIND = {
    "call_id": "call",
    "transfer_id": "transfer",
    "case_id": "case",
    "follow_up_id": "follow_up",
    "referral_id": "referral",
    "person_id": "person",
    "escalation_id": "escalation",
    "consent_id": "consent",
    "service_id": "service",
    "link_id": "link",
    "user_id": "user",
    "run_id": "run",
}
FIXED = {"instrument": "cssrs_screener", "kind": "html"}
# Records a social worker sees only when they are theirs (domain.permissions: own scope).
OWN_FOR_SOCIAL_WORKER = {"case", "follow_up", "referral", "person", "consent"}
# Pages outside role_page: who may open them is stated here.
OPEN_PAGES = {"login", "logout", "home", "login_verify", "login_enrol"}
# Routes that are not pages of ours (the admin has its own test; static files; the API below).
NOT_WALKED = re.compile(r"^(admin/|api/v1/|static/)")


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def page_routes() -> list[tuple[str, URLPattern]]:
    return [(route, p) for route, p in _routes(get_resolver().url_patterns) if not NOT_WALKED.match(route)]


# Pages that take their records from the query string.
QUERY = {"referral_new": "case={case}&service={service}"}


def _fill(route: str, records: dict[str, int], name: str | None = None) -> tuple[str, str | None]:
    """The URL with the side's records, and the kind of record it is about (the first id in it)."""
    kind: str | None = None

    def one(m: re.Match[str]) -> str:
        nonlocal kind
        name = m.group("name")
        if name in PARAM_KIND:
            kind = kind or PARAM_KIND[name]
            return str(records[PARAM_KIND[name]])
        return str(FIXED[name])

    url = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", one, route)
    url = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", one, url).replace("\\.", ".").lstrip("^").rstrip("$")
    query = QUERY.get(name or "", "").format(**records)
    return "/" + url + (f"?{query}" if query else ""), kind


def expected_page(role: Role, action: str, kind: str | None, own: bool) -> str:
    if not may(role, action):
        return "forbidden"
    if not own and role is Role.SOCIAL_WORKER and kind in OWN_FOR_SOCIAL_WORKER:
        return "not_found"
    if not own and role is Role.TELECOMMUNICATOR and kind == "transfer":
        return "not_found"
    return "allowed"


def _outcome(status: int, body: bytes, login_redirect: bool) -> str:
    if status == 403:
        return "forbidden"
    if status == 404:
        return "not_found"
    if login_redirect or status == 401:
        return "unauthenticated"
    if status >= 500:
        return f"error {status}"
    return "allowed"


class _Rollback(Exception):
    pass


def _isolated(fn: Any) -> Any:
    """Run one request and roll back what it changed, so each cell starts from the same world."""
    result: list[Any] = []
    atom = transaction.atomic()
    atom._from_testcase = True  # type: ignore[attr-defined]  # lets services open durable blocks inside
    try:
        with atom:
            result.append(fn())
            raise _Rollback
    except _Rollback:
        pass
    return result[0]


TEAM = (Role.SOCIAL_WORKER, Role.SUPERVISOR)
OUTSIDE = (Role.EVALUATOR, Role.ADMINISTRATOR)
HUMANS = [Role.TELECOMMUNICATOR, Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.EVALUATOR, Role.ADMINISTRATOR]


def _actor(world: World, role: Role) -> Any:
    if role is Role.TELECOMMUNICATOR:
        return world.a.tc
    if role is Role.SOCIAL_WORKER:
        return world.a.sw
    return world.people[role]


@pytest.fixture
def world(make_user: Any, mecc_protocol: Any, settings: Any) -> World:
    return build_world(make_user)


def test_every_route_is_in_the_walk() -> None:
    """A page without role_page must be named in OPEN_PAGES; every id in a URL has a record kind."""
    missing = []
    for route, p in page_routes():
        if p.name in OPEN_PAGES:
            continue
        if getattr(p.callback, "required_action", None) is None:
            missing.append(f"{route} ({p.name}) has no role_page action")
        for name in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route):
            name = next(n for n in name if n) if isinstance(name, tuple) else name
            if name not in PARAM_KIND and name not in FIXED:
                missing.append(f"{route}: no record kind for <{name}>")
    assert not missing, missing


@pytest.mark.django_db
@pytest.mark.parametrize("role", HUMANS, ids=lambda r: r.value)
def test_pages_x_roles_x_own_and_other(world: World, role: Role) -> None:
    actor = _actor(world, role)
    client = sign_in(Client(), actor)
    wrong: list[str] = []
    for route, p in page_routes():
        action = getattr(p.callback, "required_action", None)
        if action is None:
            continue
        for own, side in ((True, world.a), (False, world.b)):
            url, kind = _fill(route, side.records, p.name)
            if p.name in QUERY:
                kind = "case"
            expect = expected_page(role, action, kind, own)
            for method in ("get", "post"):
                denials_before = AuditEvent.objects.filter(outcome="denied").count()

                def go(
                    url: str = url, method: str = method, before: int = denials_before
                ) -> tuple[int, bytes, bool, int]:
                    r = getattr(client, method)(url, HTTP_HX_REQUEST="true" if "live" in url else "")
                    denied = AuditEvent.objects.filter(outcome="denied").count() - before
                    location = r.get("Location", "") or r.get("HX-Redirect", "")
                    return r.status_code, r.content, "/login/" in location, denied

                status, body, to_login, denied = _isolated(go)
                got = _outcome(status, body, to_login)
                if status == 405:  # the page takes only the other method
                    continue
                if got != expect:
                    wrong.append(
                        f"{method.upper()} {url} ({'own' if own else 'other'}): {got} {status}, expected {expect}"
                    )
                if got in ("forbidden", "not_found"):
                    if denied < 1:
                        wrong.append(f"{method.upper()} {url}: refused without an audit row")
                    if CLINICAL_MARKER.encode() in body or PERSON_MARKER.encode() in body:
                        wrong.append(f"{method.upper()} {url}: refusal shows case content")
                if got == "allowed" and role not in TEAM and CLINICAL_MARKER.encode() in body:
                    wrong.append(f"{method.upper()} {url}: a {role.value} sees a clinical note")
                if got == "allowed" and role in OUTSIDE and PERSON_MARKER.encode() in body:
                    wrong.append(f"{method.upper()} {url}: a {role.value} sees a person's name")
    assert not wrong, "\n".join(wrong)


# --- the API ---------------------------------------------------------------------------------

# operationId -> (action the service checks, the record kind in the path)
API_OPERATIONS: dict[str, tuple[str, str | None]] = {}


def _api_operations() -> list[tuple[str, str, str]]:
    schema = api.get_openapi_schema()
    out = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            out.append((method, path, op["operationId"]))
    return out


def _api_spec(world: World) -> dict[str, tuple[str | None, str | None, dict[str, Any] | None]]:
    """operationId suffix -> (action the service checks, record kind in the path, a valid body)."""
    from tests.calls.builders import ALL_CLEAR, cad_record

    return {
        "intake_call": ("intake_call", None, cad_record("MP-26-000299")),
        "intake_eido": ("intake_call", None, None),  # body is the EIDO document: checked in tests/calls
        "get_call": ("view_calls", "call", None),
        "screen_call": ("screen_call", "call", {"answers": ALL_CLEAR}),
        "request_transfer": ("request_transfer", "call", None),
        "transfer_queue": ("view_queue", None, None),
        "get_transfer": ("view_calls", "transfer", None),
        "claim_transfer": ("claim_transfer", "transfer", None),
        "decline_transfer": ("decline_transfer", "transfer", {"reason": "busy"}),
        "cancel_transfer": ("cancel_transfer", "transfer", {"reason": "caller hung up"}),
        "complete_transfer": ("complete_transfer", "transfer", {"reason": "done"}),
        "acknowledge_alert": ("take_fallback", "transfer", None),
        "escalate_transfer": ("escalate_transfer", "transfer", {"responder": "ems", "reason": "risk"}),
        "take_fallback": ("take_fallback", "call", {"option": "mobile_crisis"}),
        "set_availability": ("set_availability", None, {"status": "available"}),
        "get_protocol": (None, None, None),  # every signed-in person and the CAD
    }


def expected_api(role: Role, action: str | None, kind: str | None, own: bool, op: str) -> str:
    if action is not None and not may(role, action):
        return "denied"
    if action is None and role is Role.CAD_INTEGRATION:
        return "allowed"
    if not own and role is Role.TELECOMMUNICATOR and kind == "transfer":
        return "denied"
    if not own and role is Role.SOCIAL_WORKER and op in {"complete_transfer", "escalate_transfer"}:
        # Only the social worker who claimed it; transfer status is team-visible, so a 409 for an
        # already-ended transfer (checked first, whoever asks) discloses nothing new.
        return "denied_or_conflict"
    return "allowed"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [*HUMANS, Role.CAD_INTEGRATION], ids=lambda r: r.value)
def test_api_x_roles_x_own_and_other(world: World, role: Role) -> None:
    from crisisdesk.accounts.services import issue_api_token

    actor = _actor(world, role)
    if role is Role.CAD_INTEGRATION:
        _, raw = issue_api_token(actor, "matrix")
        client = Client(headers={"Authorization": f"Bearer {raw}"})
    else:
        client = sign_in(Client(), actor)
    spec = _api_spec(world)
    wrong: list[str] = []
    operations = _api_operations()
    unknown = [op for _, _, op in operations if op.rsplit("_api_", 1)[-1] not in spec]
    assert not unknown, f"API operations missing from the walk: {unknown}"
    for method, path, op_id in operations:
        op = op_id.rsplit("_api_", 1)[-1]
        action, kind, body = spec[op]
        if op == "intake_eido":
            continue
        for own, side in ((True, world.a), (False, world.b)):
            records = side.records
            url = re.sub(r"\{(\w+)\}", lambda m, r=records: str(r[PARAM_KIND[m.group(1)]]), path)
            expect = expected_api(role, action, kind, own, op)

            def go(url: str = url, method: str = method, body: Any = body) -> tuple[int, bytes]:
                kwargs: dict[str, Any] = {"content_type": "application/json"} if method != "get" else {}
                if body is not None:
                    kwargs["data"] = body
                r = getattr(client, method)(url, **kwargs)
                return r.status_code, r.content

            status, content = _isolated(go)
            got = "denied" if status in (403, 404) else ("unauthenticated" if status == 401 else "allowed")
            if status >= 500:
                got = f"error {status}"
            if expect == "denied_or_conflict" and status in (403, 404, 409):
                got = expect
            if got != expect:
                wrong.append(
                    f"{method.upper()} {url} ({'own' if own else 'other'}): {status}, expected {expect}"
                )
            if got == "allowed" and role is Role.TELECOMMUNICATOR and CLINICAL_MARKER.encode() in content:
                wrong.append(f"{method.upper()} {url}: clinical content for a telecommunicator")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_a_telecommunicators_transfer_status_carries_no_clinical_field(world: World) -> None:
    """Field level (ASVS 8.2.3): the completing social worker's words stay with the program team."""
    from crisisdesk.calls import services as calls

    transfer_id = world.a.records["transfer"]
    tc = sign_in(Client(), world.a.tc)
    sw = sign_in(Client(), world.a.sw)
    from crisisdesk.calls.models import Transfer

    Transfer.objects.filter(pk=transfer_id).update(end_reason=f"{CLINICAL_MARKER} resolved by phone")
    seen_by_tc = tc.get(f"/api/v1/transfers/{transfer_id}").json()
    seen_by_sw = sw.get(f"/api/v1/transfers/{transfer_id}").json()
    assert seen_by_sw["end_reason"].startswith(CLINICAL_MARKER)
    assert seen_by_tc["end_reason"] == ""
    assert set(seen_by_tc) == set(seen_by_sw)  # one schema; the value is withheld, not the field
    call = tc.get(f"/api/v1/calls/{world.a.records['call']}").json()
    assert all(t["end_reason"] == "" for t in call["transfers"])
    # Another telecommunicator's call shows no transfer of theirs at all.
    other_call = tc.get(f"/api/v1/calls/{world.b.records['call']}").json()
    assert other_call["transfers"] == []
    del calls
