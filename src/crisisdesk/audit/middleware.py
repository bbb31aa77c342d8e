"""Binds the request id and client address that every audit row of the request carries, and writes
the request's audited reads before its response leaves (crisisdesk.audit.reads)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template.loader import render_to_string

from crisisdesk.audit import context, reads
from crisisdesk.audit.services import record_denied

log = logging.getLogger("crisisdesk.audit")
# Responses that show no record: nothing read for them is written (an unchanged poll, a redirect).
NOT_DISCLOSING = {204, 304}


class RequestContextMiddleware:
    """First in the stack, so that even a refused login or a CSRF failure is audited with both.

    The client address is REMOTE_ADDR: behind a reverse proxy, the proxy must set it (e.g. gunicorn
    `--forwarded-allow-ips`); a client-supplied X-Forwarded-For is never trusted here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = context.new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.bind(request_id, request.META.get("REMOTE_ADDR", "") or "")
        pending = reads.begin()
        try:
            try:
                response = self.get_response(request)
            except BaseException:
                reads.end(pending, disclosed=False)
                raise
            disclosed = response.status_code not in NOT_DISCLOSING and not 300 <= response.status_code < 400
            try:
                refused = response.status_code == 403 or (
                    response.status_code == 404 and getattr(request, "resolver_match", None) is not None
                )
                if refused and not reads.denial_recorded():
                    # The refusal a scoped query handed over from inside a rolled-back transaction,
                    # else one generic row (a role check, a service's Forbidden or NotFound, a CSRF
                    # failure): every denial is in the trail.
                    user = getattr(request, "user", None)
                    actor, action, otype, oid, details = reads.deferred_denial() or (
                        user if getattr(user, "is_authenticated", False) else None,
                        "access.denied" if response.status_code == 403 else "access.not_found",
                        "",
                        "",
                        {"method": request.method, "path": request.path[:200]},
                    )
                    record_denied(actor, action, object_type=otype, object_id=oid, details=details)
                reads.end(pending, disclosed=disclosed)
            except Exception:  # fail closed: the data does not leave without its audit rows
                log.exception("audit rows for reads could not be written (request %s)", request_id)
                response = HttpResponseServerError(render_to_string("500.html"))
        finally:
            context.unbind(token)
        response["X-Request-ID"] = request_id
        return response
