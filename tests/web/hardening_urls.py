"""Test-only URLs for tests/web/test_hardening.py: views that fail on purpose, beside the real ones."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

# What a careless exception might carry: a phone number and an e-mail address (the log filter must
# mask them) and words a person typed (which must never reach the browser).
BOOM = "database said no for Zebulon Quixmarker, (612) 555-0177, zq@example.org"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(BOOM)


def refuse(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("Zebulon Quixmarker is not on your team")


urlpatterns = [
    path("test-only/boom/", boom),
    path("test-only/refuse/", refuse),
    path("", include("crisisdesk.urls")),
]
