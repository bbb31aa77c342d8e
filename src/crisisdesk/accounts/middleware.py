"""Every request of a logged-in person is checked against the server-side session record.

A Django session counts as logged in only when all of these hold; otherwise the session is logged
out on the spot and the request goes on as an anonymous one (pages: to the login page, htmx polls:
an HX-Redirect; the API: 401):
- the account is a person's (integration accounts use bearer tokens, never sessions);
- the second factor was verified in this session (django-otp's `is_verified`);
- its LoginSession record is live: not ended (logout, disabled account) and within the idle and
  absolute limits of accounts.policy. Background polls are checked but do not count as activity.

Between the password and the code nobody is logged in; pages then send the person to the code step.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from crisisdesk.accounts import pending, policy
from crisisdesk.accounts.services import is_person, live_session

ENDED_TEXT = {
    "idle": "You were signed out after {span} without activity. Sign in again to go on.",
    "absolute": "You were signed out: a session lasts at most {hours} hours. Sign in again to go on.",
}


@cache
def sign_in_paths() -> frozenset[str]:
    """Pages that work without a session (and must not bounce to themselves)."""
    return frozenset(reverse(name) for name in ("login", "login_verify", "login_enrol", "logout"))


def second_step_url(enrol: bool) -> str:
    return reverse("login_enrol" if enrol else "login_verify")


def redirect_whole_window(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect; for an htmx request (a poll or a swap) one that moves the whole window."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse("")
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class SignInMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith("/static/"):
            return self.get_response(request)
        if request.user.is_authenticated:
            refused = self.check(request)
            if refused is not None:
                return refused
        elif not policy.is_api(path) and path not in sign_in_paths():
            step = pending.current(request.session, timezone.now())
            if step is not None:
                return redirect_whole_window(request, second_step_url(step.enrol))
        return self.get_response(request)

    def check(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        path = request.path_info
        why = ""
        if not is_person(user):
            why = "not_a_person"
        elif not user.is_verified():  # type: ignore[union-attr]
            why = "second_factor"
        else:
            _, why = live_session(
                user,  # type: ignore[arg-type]
                request.session.session_key or "",
                background=policy.is_background(request.method or "GET", path),
            )
        if not why:
            return None
        role = getattr(user, "role", "")
        auth.logout(request)  # flushes the session: its cookie is worthless from here on
        if why in ENDED_TEXT:
            rules = policy.current()
            idle = int(rules.idle_for(role).total_seconds())
            span = f"{idle // 60} minutes" if idle >= 120 else f"{idle} seconds"
            text = ENDED_TEXT[why].format(span=span, hours=int(rules.absolute.total_seconds() // 3600))
            messages.info(request, text)
        if policy.is_api(path) or path in sign_in_paths():
            return None  # goes on as anonymous: the API answers 401, sign-in pages show themselves
        from crisisdesk.web.views.common import page_error, to_login  # the pages' own answers

        if why == "not_a_person":
            return page_error(
                request, 403, "No page for this account", "This account is for systems: it uses a token."
            )
        return to_login(request)
