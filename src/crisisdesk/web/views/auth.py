"""Logging in, and the home page that sends each role to its own page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from crisisdesk.domain.roles import Role
from crisisdesk.web.views.common import base_ctx, page_error, to_login

ROLE_HOME = {
    Role.TELECOMMUNICATOR: "console",
    Role.SOCIAL_WORKER: "queue",
    Role.SUPERVISOR: "floor",
    Role.EVALUATOR: "evaluation",
}


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(base_ctx(self.request))
        return ctx


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
