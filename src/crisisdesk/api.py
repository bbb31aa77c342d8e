"""The JSON API (Django Ninja), mounted at /api/v1/. OpenAPI schema at /api/v1/openapi.json, docs at
/api/v1/docs, the integration guide in docs/api.md.

Two ways in, tried in this order:
- integrations (the CAD) send `Authorization: Bearer <token>`; tokens are issued with
  `crisisdesk create_api_token` and only their SHA-256 is stored;
- people use their logged-in browser session; a session request that changes anything needs the
  CSRF token (`X-CSRFToken` header), as every Django form does.

Errors are JSON everywhere: {"code", "detail", ...}. A request the framework cannot validate (bad
JSON, a missing or mistyped field) is a 422 with field-level reasons, never a 400 or a 500.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from crisisdesk.accounts.services import authenticate_token
from crisisdesk.calls.api import register_exception_handlers
from crisisdesk.calls.api import router as calls_router
from crisisdesk.domain.roles import HUMAN_ROLES


class TokenAuth(HttpBearer):
    """`Authorization: Bearer cdk_...` for integration accounts; the token's account is the actor."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return authenticate_token(token)


class PersonSessionAuth(SessionAuth):
    """The browser session of a person (not an integration account), with Django's CSRF check.

    Without a logged-in session this answers "not authenticated" (401) before any CSRF check, so a
    client without credentials learns that it needs them, not that its CSRF token is missing.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)  # raises 403 when the CSRF check fails

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and getattr(user, "role", "") in HUMAN_ROLES:
            return user
        return None


api = NinjaAPI(
    title="Crisis Desk API",
    version="1",
    description=(
        "CAD intake, screening, decisions and transfers of the 911 on-site social worker program. "
        "Integrations authenticate with a bearer token (`crisisdesk create_api_token`); people with "
        "their session. Errors are `{code, detail, ...}`; 422 carries field-level reasons. "
        "Guide: docs/api.md."
    ),
    urls_namespace="api-v1",
    auth=[TokenAuth(), PersonSessionAuth()],
)
api.add_router("/", calls_router)
register_exception_handlers(api)

# Framework-level failures, in the same JSON shape as the services' errors.
_HTTP_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def _field(loc: list[Any]) -> str:
    """["body", "payload", "answers", "weapon"] -> "answers.weapon"; ["path", "call_id"] -> "call_id"."""
    parts = list(loc)
    source = (
        parts.pop(0) if parts and parts[0] in {"body", "path", "query", "header", "cookie", "form"} else ""
    )
    if source == "body" and parts:
        parts.pop(0)  # the endpoint's parameter name, which means nothing to a client
    return ".".join(str(p) for p in parts) or "(body)"


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = [
        {
            "field": _field(list(err.get("loc", ()))),
            "reason": str(err.get("msg", "invalid")).removeprefix("Value error, "),
            "type": str(err.get("type", "value_error")),
        }
        for err in exc.errors
    ]
    return api.create_response(request, {"code": "invalid", "detail": detail}, status=422)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if (
        exc.status_code == 400
        and exc.__cause__ is not None
        and str(exc).startswith("Cannot parse request body")
    ):
        # The framework could not parse the JSON body (bad syntax, bad encoding, absurd nesting):
        # a validation failure like any other.
        detail = [{"field": "(body)", "reason": f"not valid JSON: {exc.__cause__}", "type": "json_invalid"}]
        return api.create_response(request, {"code": "invalid", "detail": detail}, status=422)
    code = _HTTP_CODES.get(exc.status_code, "error")
    if exc.status_code == 403 and exc.message.startswith("CSRF"):
        code = "csrf_failed"
    response = api.create_response(request, {"code": code, "detail": exc.message}, status=exc.status_code)
    if isinstance(exc, AuthenticationError):
        response["WWW-Authenticate"] = 'Bearer realm="crisisdesk"'
    return response


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"code": "not_found", "detail": "not found"}, status=404)
