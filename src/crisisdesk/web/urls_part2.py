"""URLs of the 42 CFR Part 2 pieces of the case workspace (included by web/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from crisisdesk.web.views import disclosures

urlpatterns: list[URLPattern] = [
    path(
        "cases/<int:case_id>/disclosure-consents/",
        disclosures.case_disclosure_consent,
        name="case_disclosure_consent",
    ),
    path(
        "cases/<int:case_id>/disclosure-consents/<int:consent_id>/revoke/",
        disclosures.case_disclosure_consent_revoke,
        name="case_disclosure_consent_revoke",
    ),
]
