"""Who is asking, from where, in which request: set once per request, read by every audit row.

A context variable rather than a thread-local so that it is also right under ASGI; commands and
jobs run without one and their rows carry an empty request id and address.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_addr: str = ""


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("crisisdesk_request_context", default=_EMPTY)  # noqa: B039 - frozen
# A caller's own request id is kept when it is short and plain (a CAD or proxy correlating its logs);
# anything else is replaced, so a header cannot inject text into the audit trail.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def current() -> RequestContext:
    return _current.get()


def new_request_id(offered: str | None = None) -> str:
    return offered if offered and _SAFE_ID.match(offered) else uuid.uuid4().hex


def bind(request_id: str, client_addr: str) -> object:
    """Set the context; returns the token `unbind` takes to restore the previous one."""
    return _current.set(RequestContext(request_id=request_id, client_addr=client_addr[:64]))


def unbind(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
