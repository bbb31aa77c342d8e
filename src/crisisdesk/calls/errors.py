"""Expected failures of the operational services; the API and pages map them to status codes.

InvalidTransition (from the domain) -> 409; Conflict -> 409; NotFound -> 404; Forbidden -> 403;
NotAllowedByDecision -> 409 with the decision's fallback; NoActiveProtocol -> 503.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class NotAllowedByDecision(ServiceError):
    """A transfer was asked for a call whose latest decision is not `transfer`."""

    status = 409
    code = "decision_does_not_allow_transfer"


class NoActiveProtocol(ServiceError):
    status = 503
    code = "no_active_protocol"
