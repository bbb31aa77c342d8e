"""Server-side sessions: started when the second factor is verified, checked on every request, ended
by logout, by the idle or absolute limit, or by disabling the account.

The limits live in accounts.policy (settings.CRISISDESK_SIGN_IN). Idle time is measured from the
last request the person made; background polls (accounts.policy.is_background) are checked but never
move it. Last activity is written at most once per `activity_resolution`, so a session can end up to
that much before its idle limit, never after it.
"""

from __future__ import annotations

from datetime import datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crisisdesk.accounts import policy
from crisisdesk.accounts.models import LoginSession, User
from crisisdesk.audit.services import record, record_denied
from crisisdesk.calls.errors import Forbidden, NotFound
from crisisdesk.domain.roles import may

EndReason = LoginSession.EndReason


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _drop_django_session(session_key: str) -> None:
    """Delete the Django session itself, so its cookie is worthless even before the next check."""
    if session_key:
        import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).delete()


def start_login_session(
    user: User, session_key: str, *, client_addr: str = "", now: datetime | None = None
) -> LoginSession:
    """The record of a session that has passed both factors; audited as the successful login."""
    now = _now(now)
    with transaction.atomic(durable=True):
        session = LoginSession.objects.create(
            user=user, session_key=session_key, created_at=now, last_activity_at=now, client_addr=client_addr
        )
        record(user, "login.success", session, details={"user_id": user.pk, "second_factor": "totp"})
    return session


def expiry_reason(session: LoginSession, role: str, now: datetime) -> str:
    """ "absolute", "idle" or "" (still alive). A session is over exactly at its limit."""
    rules = policy.current()
    if now - session.created_at >= rules.absolute:
        return EndReason.ABSOLUTE
    if now - session.last_activity_at >= rules.idle_for(role):
        return EndReason.IDLE
    return ""


def live_session(
    user: User, session_key: str, *, background: bool, now: datetime | None = None
) -> tuple[LoginSession | None, str]:
    """The live session record behind this request and "", or None and why there is none: "missing"
    (never started here, or already ended), "idle" or "absolute" (expired just now).

    An expired session is ended and audited ("session.expired" with the reason) before it comes
    back. A request the person made (`background` False) counts as activity.
    """
    now = _now(now)
    session = None
    if session_key:
        session = LoginSession.objects.filter(
            session_key=session_key, user=user, ended_at__isnull=True
        ).first()
    if session is None:
        return None, "missing"
    reason = expiry_reason(session, user.role, now)
    if reason:
        _end(session, reason, now, action="session.expired", actor=None)
        return None, reason
    if not background and now - session.last_activity_at >= policy.current().activity_resolution:
        with transaction.atomic(durable=True):
            LoginSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(last_activity_at=now)
        session.last_activity_at = now
    return session, ""


def _end(session: LoginSession, reason: str, now: datetime, *, action: str, actor: Any) -> bool:
    """End one session (once: a concurrent end of the same session writes nothing more)."""
    with transaction.atomic(durable=True):
        ended = LoginSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=now, end_reason=reason
        )
        if ended:
            details = {"user_id": session.user_id, "reason": reason}
            if reason == EndReason.IDLE:
                details["idle_seconds"] = int((now - session.last_activity_at).total_seconds())
            record(actor, action, session, details=details)
            _drop_django_session(session.session_key)
    return bool(ended)


def end_login_session(user: User, session_key: str, *, now: datetime | None = None) -> LoginSession | None:
    """Logout: the session record ends (and the Django session with it). Audited as "logout"."""
    now = _now(now)
    session = LoginSession.objects.filter(session_key=session_key, user=user, ended_at__isnull=True).first()
    if session is None:
        return None
    _end(session, EndReason.LOGOUT, now, action="logout", actor=user)
    return session


def disable_account(actor: Any, user_id: int, reason: str, *, now: datetime | None = None) -> int:
    """Disable an account (is_active False) and end every session it has, at once (CJIS AC-2(13),
    ASVS 7.4.2): the next request of any of them is logged out. Returns how many sessions ended.

    `actor` is an administrator, or None for a system action (the command line). Anyone else gets
    Forbidden after the denial is audited. Idempotent: disabling a disabled account ends whatever
    sessions are left and is audited again.
    """
    now = _now(now)
    reason = (reason or "").strip()
    if actor is not None and not may(getattr(actor, "role", ""), "disable_account"):
        record_denied(actor, "account.disable", object_type="user", object_id=str(user_id))
        raise Forbidden("only an administrator may disable an account")
    if not reason:
        raise ValueError("disabling an account needs a reason")
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound("no such account")
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        sessions = list(LoginSession.objects.filter(user=user, ended_at__isnull=True))
        LoginSession.objects.filter(pk__in=[s.pk for s in sessions]).update(
            ended_at=now, end_reason=EndReason.DISABLED
        )
        for session in sessions:
            _drop_django_session(session.session_key)
        record(
            actor, "account.disable", user, details={"reason": reason[:500], "sessions_ended": len(sessions)}
        )
    return len(sessions)
