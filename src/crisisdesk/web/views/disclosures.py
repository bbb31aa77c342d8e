"""42 CFR Part 2 on the case workspace: disclosure consents and the accounting of disclosures.

The section `web/_case_part2.html` lists the case's disclosure consents (recipient, purpose, data
classes, who gave it and how, until when; revoked ones struck) with a small form to record one and a
button to revoke, and the disclosure ledger of the case (every artifact that left the program: to
whom, for what, what Part 2 items went or were withheld, under which consent, with the notice or
not). The POST views go through `case_actions.case_post`, so failures show in this section with
the status of DESIGN.md §3.10. Supervisors see the section read-only.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from crisisdesk.casework import queries as cq
from crisisdesk.casework import services as cs
from crisisdesk.domain.cases import Relation
from crisisdesk.domain.part2 import DEFAULT_RULES, REASON_TEXT, Purpose, is_part2_section
from crisisdesk.web.forms import coded_choices
from crisisdesk.web.views import case_words as w
from crisisdesk.web.views.common import name_of, role_page

SECTION = "part2"
DISPLAY_ZONE = ZoneInfo("America/Chicago")  # a typed expiry date ends at 23:59 there
PURPOSE_TEXT: dict[str, str] = {
    Purpose.TREATMENT: "Treatment",
    Purpose.CARE_COORDINATION: "Care coordination / referral",
    Purpose.PAYMENT: "Payment",
    Purpose.OPERATIONS: "Health-care operations",
    Purpose.OTHER: "Other (say what)",
}
METHOD_TEXT = {"written": "In writing (signed, on paper or electronically)", "verbal": "Verbally"}
ARTIFACT_TEXT = {
    "fhir_bundle": "FHIR referral downloaded",
    "referral_packet": "Referral packet printed",
    "referral_sent": "Referral sent",
}
RELATIONS = coded_choices([r.value for r in Relation], w.RELATION_TEXT)


class DisclosureConsentForm(forms.Form):
    """Who may receive what, for what, until when; who agreed and how."""

    recipient_organization_id = forms.TypedChoiceField(
        label="Recipient (directory)", coerce=int, required=False, empty_value=None
    )
    recipient_name = forms.CharField(
        label="Or a named recipient not in the directory", max_length=255, required=False
    )
    purpose = forms.ChoiceField(
        label="Purpose", choices=coded_choices([p.value for p in Purpose], PURPOSE_TEXT)
    )
    purpose_text = forms.CharField(label="Purpose, in words (for other)", max_length=255, required=False)
    covers_part2 = forms.BooleanField(
        label="Covers substance-use information (42 CFR Part 2)", required=False, initial=True
    )
    covers_general = forms.BooleanField(label="Covers the rest of the case", required=False, initial=True)
    given_by = forms.CharField(label="Disclosure consent given by (name or role)", max_length=120)
    relation = forms.ChoiceField(label="Relation to the case", choices=RELATIONS)
    method = forms.ChoiceField(label="How they agreed", choices=list(METHOD_TEXT.items()))
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: one year from today (Minnesota Health Records Act)",
    )
    person_id = forms.TypedChoiceField(label="Person", coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        organizations: list[tuple[int, str]],
        people: list[tuple[str, str]],
        *args: Any,
        **kwargs: Any,
    ):
        kwargs.setdefault("auto_id", "dc-%s")
        super().__init__(*args, **kwargs)
        self.fields["recipient_organization_id"].choices = [  # type: ignore[attr-defined]
            ("", "Not in the directory"),
            *((str(pk), name) for pk, name in organizations),
        ]
        self.fields["person_id"].choices = [("", "Not one of the people above"), *people]  # type: ignore[attr-defined]


class RevokeForm(forms.Form):
    reason = forms.CharField(label="Why (as the person said it)", max_length=4000)


def _people(case: Any) -> list[tuple[str, str]]:
    return [(str(p.person_id), p.person.display_name()) for p in case.participants.all()]


def consent_form(request: HttpRequest, case: Any, data: Any = None) -> DisclosureConsentForm:
    initial = {
        "relation": Relation.PERSON_IN_CRISIS.value,
        "method": "written",
        "purpose": "care_coordination",
    }
    return DisclosureConsentForm(
        cq.disclosure_recipients(request.user), _people(case), data, initial=None if data else initial
    )


def part2_panel(
    request: HttpRequest, case: Any, *, can_work: bool, live: bool, bound: dict[str, Any]
) -> dict[str, Any]:
    """Everything `_case_part2.html` shows, and the Part 2 facts the other sections mark."""
    from crisisdesk.web.views.casework import clock

    now = clock()
    consents = [
        {
            "obj": c,
            "purpose": PURPOSE_TEXT.get(Purpose(c.purpose), c.purpose)
            + (f": {c.purpose_text}" if c.purpose_text else ""),
            "method": METHOD_TEXT.get(c.method, c.method),
            "relation": w.words(w.RELATION_TEXT, c.relation),
            "classes": [t for t, on in (("Part 2", c.covers_part2), ("general", c.covers_general)) if on],
            "state": "revoked" if c.revoked_at else ("expired" if c.expires_at <= now else "in force"),
            "can_revoke": can_work and c.revoked_at is None and c.expires_at > now,
        }
        for c in cq.disclosure_consents_for_case(request.user, case.pk)
    ]
    ledger = [
        {
            "obj": d,
            "artifact": ARTIFACT_TEXT.get(d.artifact, d.artifact),
            "purpose": PURPOSE_TEXT.get(Purpose(d.purpose), d.purpose),
            "by": name_of(d.disclosed_by),
            "included": len(d.part2_included),
            "reasons": [REASON_TEXT.get(r, r) for r in d.reasons if r not in ("part2_withheld",)],
        }
        for d in cq.disclosures_for_case(request.user, case.pk)
    ]
    return {
        "consents": consents,
        "ledger": ledger,
        "form": bound.get("disclosure_consent")
        or (consent_form(request, case) if can_work and live else None),
        "editable": can_work and live,
        "can_work": can_work,
        "concerns": DEFAULT_RULES.part2_concerns,
        "context_section": is_part2_section("substance_housing"),
    }


@require_POST
@role_page("work_case")
def case_disclosure_consent(request: HttpRequest, case_id: int) -> HttpResponse:
    """Record the person's consent to disclose (recipient, purpose, data classes, expiry)."""
    from crisisdesk.web.views.case_actions import case_post
    from crisisdesk.web.views.casework import clock

    case = cq.get_case(request.user, case_id)
    form = consent_form(request, case, request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        expires = data.pop("expires_on")
        expires_at = datetime.combine(expires, time(23, 59), tzinfo=DISPLAY_ZONE) if expires else None
        cs.record_disclosure_consent(request.user, case.pk, expires_at=expires_at, now=clock(), **data)

    return case_post(request, case_id, "disclosure_consent", form, act)


@require_POST
@role_page("work_case")
def case_disclosure_consent_revoke(request: HttpRequest, case_id: int, consent_id: int) -> HttpResponse:
    """Revoke a disclosure consent of this case, with the reason."""
    from crisisdesk.calls.errors import NotFound
    from crisisdesk.web.views.case_actions import case_post

    form = RevokeForm(request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        if consent_id not in {c.pk for c in cq.disclosure_consents_for_case(request.user, case.pk)}:
            raise NotFound("no such consent in this case")
        cs.revoke_disclosure_consent(request.user, consent_id, data["reason"])

    return case_post(request, case_id, "disclosure_revoked", form, act, form_key="disclosure_revoke")
