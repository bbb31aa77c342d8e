"""Generic error responses: nothing about the failure reaches the browser (ASVS 16.5.1, CJIS SI-11).

Django serves templates/400.html, 403.html, 404.html and 500.html itself when DEBUG is off; the
CSRF failure page is this view (settings.CSRF_FAILURE_VIEW), since Django's own names the reason.
Details of a failure go only to the (redacted) application log.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 without the reason (Django's page says which check failed, e.g. the referer)."""
    return HttpResponse(loader.get_template("403_csrf.html").render(), status=403)
