"""Signing in (password, then a TOTP code or first enrolment), signing out, the home page that sends
each role to its own page, and the supervisors' page of locked accounts.

The rules (lockout, throttle, the second factor, session records) are in accounts.services; these
views only carry the person from one step to the next. Nobody is logged in until the code is right:
Django's login() runs then, which also gives the session a new key.
"""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from crisisdesk.accounts import pending
from crisisdesk.accounts.models import User
from crisisdesk.accounts.services import (
    Outcome,
    SignInResult,
    check_password,
    end_login_session,
    enrol_device,
    has_confirmed_device,
    is_locked,
    locked_accounts,
    new_device_key,
    start_login_session,
    unlock_account,
    verify_code,
)
from crisisdesk.calls.errors import Forbidden, NotFound
from crisisdesk.domain.roles import Role
from crisisdesk.web.views.common import base_ctx, page_error, role_page, to_login

ROLE_HOME = {
    Role.TELECOMMUNICATOR: "console",
    Role.SOCIAL_WORKER: "queue",
    Role.SUPERVISOR: "floor",
    Role.EVALUATOR: "evaluation",
}
# One message for every refusal at the password step (unknown user name, wrong password, locked or
# disabled account), so the page never tells an attacker which accounts exist or are locked.
REFUSED_TEXT = (
    "Those details did not work. Check your user name and password and try again. After several "
    "failed tries an account is locked until a supervisor unlocks it."
)
WRONG_CODE_TEXT = "That code did not work. Enter the 6-digit code your authenticator app shows now."
THROTTLED_TEXT = (
    "Too many failed sign-ins have come from this computer. Wait 15 minutes, or ask a supervisor."
)
BACKEND = "django.contrib.auth.backends.ModelBackend"


def client_addr(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a client-supplied X-Forwarded-For would let an attacker pick the address the
    # throttle counts (behind a proxy, the proxy sets REMOTE_ADDR; see docs/security.md).
    return (request.META.get("REMOTE_ADDR") or "")[:64]


def safe_next(request: HttpRequest, target: str) -> str:
    ok = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and ok else ""


def _page(request: HttpRequest, template: str, status: int = 200, **ctx: Any) -> HttpResponse:
    return render(request, template, base_ctx(request, **ctx), status=status)


def login_view(request: HttpRequest) -> HttpResponse:
    target = safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.user.is_authenticated:
        return redirect(target or "home")
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method != "POST":
        return _page(request, "web/login.html", next=target)
    username = request.POST.get("username", "")[:150]
    result = check_password(username, request.POST.get("password", ""), client_addr=client_addr(request))
    if result.outcome is Outcome.THROTTLED:
        return _page(request, "web/login.html", 429, next=target, error=THROTTLED_TEXT, username=username)
    if result.outcome is not Outcome.OK or result.user is None:
        return _page(request, "web/login.html", next=target, error=REFUSED_TEXT, username=username)
    user = result.user
    # A new key before the second step: a session id planted before the password is worth nothing.
    request.session.cycle_key()
    enrol = not has_confirmed_device(user)
    pending.start(request.session, user.pk, now=timezone.now(), next_url=target, enrol=enrol)
    return redirect("login_enrol" if enrol else "login_verify")


def _pending_user(request: HttpRequest) -> tuple[pending.Pending | None, User | None]:
    step = pending.current(request.session, timezone.now())
    user = User.objects.filter(pk=step.user_id).first() if step else None
    return (step, user) if user is not None else (None, None)


def _finish(request: HttpRequest, result: SignInResult, target: str) -> HttpResponse:
    """Both factors passed: log in (a new session key), remember the device, start the record."""
    assert result.user is not None and result.device is not None
    pending.clear(request.session)
    auth.login(request, result.user, backend=BACKEND)
    otp_login(request, result.device)
    start_login_session(result.user, request.session.session_key or "", client_addr=client_addr(request))
    return redirect(target or "home")


def _after_refusal(request: HttpRequest, result: SignInResult, template: str, **ctx: Any) -> HttpResponse:
    if result.outcome is Outcome.THROTTLED:
        return _page(request, template, 429, error=THROTTLED_TEXT, **ctx)
    step, user = _pending_user(request)
    if user is None or not user.is_active or is_locked(user):
        # Locked (possibly by this very failure) or gone: back to the start, with the same words
        # as any refused password.
        pending.clear(request.session)
        return _page(request, "web/login.html", error=REFUSED_TEXT, next=step.next if step else "")
    return _page(request, template, error=WRONG_CODE_TEXT, **ctx)


def verify_view(request: HttpRequest) -> HttpResponse:
    """The second step for an account with an authenticator app already set up."""
    step, user = _pending_user(request)
    if step is None or user is None:
        return redirect("login")
    if step.enrol:
        return redirect("login_enrol")
    if request.method != "POST":
        return _page(request, "web/login_verify.html", account=user)
    result = verify_code(user.pk, request.POST.get("code", "")[:16], client_addr=client_addr(request))
    if result.outcome is Outcome.OK:
        return _finish(request, result, step.next)
    return _after_refusal(request, result, "web/login_verify.html", account=user)


def enrolment_ctx(user: User, key_hex: str) -> dict[str, Any]:
    """The otpauth:// URI as a QR code (inline SVG, no script or image request) and as text."""
    device = TOTPDevice(user=user, key=key_hex)
    uri = device.config_url
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return {"account": user, "qr_svg": mark_safe(svg), "otpauth_uri": uri, "secret": grouped}  # noqa: S308 - segno's own SVG


def enrol_view(request: HttpRequest) -> HttpResponse:
    """First sign-in of an account without an authenticator app: show the secret, confirm a code."""
    step, user = _pending_user(request)
    if step is None or user is None:
        return redirect("login")
    if not step.enrol or has_confirmed_device(user):
        return redirect("login_verify")
    key = request.session.get(pending.ENROL_KEY)
    if not isinstance(key, str):
        key = new_device_key()
        request.session[pending.ENROL_KEY] = key
    ctx = enrolment_ctx(user, key)
    if request.method != "POST":
        return _page(request, "web/login_enrol.html", **ctx)
    result = enrol_device(user.pk, key, request.POST.get("code", "")[:16], client_addr=client_addr(request))
    if result.outcome is Outcome.OK:
        messages.success(request, "Your authenticator app is set up. Use its code each time you sign in.")
        return _finish(request, result, step.next)
    return _after_refusal(request, result, "web/login_enrol.html", **ctx)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End the session record (audited) and the Django session."""
    if request.user.is_authenticated:
        end_login_session(request.user, request.session.session_key or "")
    auth.logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


def home(request: HttpRequest) -> HttpResponse:
    """Send each role to its page; administrators to the admin site."""
    if not request.user.is_authenticated:
        return to_login(request)
    role = getattr(request.user, "role", "")
    if role == Role.ADMINISTRATOR:
        return redirect("admin:index")
    name = ROLE_HOME.get(Role(role)) if role in Role._value2member_map_ else None
    if name is None:
        return page_error(
            request, 403, "No page for this account", "This account has no pages (it is for systems)."
        )
    return redirect(name)


@role_page("unlock_account")
def locked_accounts_view(request: HttpRequest) -> HttpResponse:
    """Accounts locked after failed sign-ins, for a supervisor or an administrator to unlock."""
    return _page(
        request, "web/locked_accounts.html", title="Locked accounts", locks=locked_accounts(request.user)
    )


@require_POST
@role_page("unlock_account")
def unlock_view(request: HttpRequest, user_id: int) -> HttpResponse:
    try:
        lock = unlock_account(request.user, user_id)
    except NotFound:
        return page_error(request, 404, "Not found", "There is no such account.")
    except Forbidden:
        return page_error(request, 403, "Not for your role", "This page is not part of your role.")
    if lock is not None:
        messages.success(request, f"{lock.user} is unlocked and can sign in again.")
    return redirect("locked_accounts")
