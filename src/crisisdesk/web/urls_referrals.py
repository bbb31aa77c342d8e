"""URLs of the referrals pages (included by web/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from crisisdesk.web.views import referrals

urlpatterns: list[URLPattern] = [
    path("referrals/", referrals.referral_tracker, name="referral_tracker"),
    path("referrals/new/", referrals.referral_new, name="referral_new"),
    path("referrals/<int:referral_id>/report/", referrals.referral_report, name="referral_report"),
    path("referrals/<int:referral_id>/send/", referrals.referral_send, name="referral_send"),
    path("referrals/<int:referral_id>/cancel/", referrals.referral_cancel, name="referral_cancel"),
    path(
        "referrals/<int:referral_id>/warm-handoff/",
        referrals.referral_warm_handoff,
        name="referral_warm_handoff",
    ),
    path("referrals/<int:referral_id>/fhir.json", referrals.referral_fhir, name="referral_fhir"),
    path("referrals/<int:referral_id>/packet.txt", referrals.referral_packet, name="referral_packet"),
]
