"""The Django admin, behind the same sign-in as every page: password and TOTP code on our login page.

django-otp's OTPAdminSite refuses anyone whose session has not verified a second factor; its own
login form is replaced by ours (one sign-in path, with lockout, throttle and the session record), and
its logout by ours (which ends the session record).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class CrisisDeskAdminSite(OTPAdminSite):
    site_header = "Crisis Desk administration"
    site_title = "Crisis Desk administration"

    def __init__(self, name: str = "admin"):
        super().__init__(name)  # keep the "admin" URL namespace (OTPAdminSite defaults to "otpadmin")

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        target = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': target})}")

    def logout(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        from crisisdesk.web.views.auth import logout_view

        return logout_view(request)
