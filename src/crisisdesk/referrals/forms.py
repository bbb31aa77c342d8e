"""Forms of the referral pages. They only parse and check input; `referrals.services` decides and writes.

Times are typed in America/Chicago (the display zone) and arrive aware: Django refuses a wall-clock
time that does not exist (the spring-forward gap) or is ambiguous (the fall-back hour) with a field
error, so a DST day cannot silently shift a report by an hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from crisisdesk.domain.cases import Relation
from crisisdesk.domain.referrals import (
    Channel,
    ReferralAction,
    ReferralMode,
    ReferralNeed,
    WarmHandoffOutcome,
)

NEED_TEXT: dict[str, str] = {
    ReferralNeed.HOUSING_INSTABILITY: "Housing (instability, rent, eviction)",
    ReferralNeed.HOMELESSNESS: "Homelessness (shelter)",
    ReferralNeed.FOOD_INSECURITY: "Food",
    ReferralNeed.TRANSPORTATION_INSECURITY: "Transportation",
    ReferralNeed.FINANCIAL_INSECURITY: "Money and benefits",
    ReferralNeed.UTILITY_INSECURITY: "Utilities (heat, power, water)",
    ReferralNeed.INTIMATE_PARTNER_VIOLENCE: "Intimate partner violence",
    ReferralNeed.ELDER_ABUSE: "Elder abuse",
    ReferralNeed.SOCIAL_CONNECTION: "Social connection, peer support",
    ReferralNeed.STRESS: "Stress",
    ReferralNeed.HEALTH_INSURANCE: "Health insurance",
    ReferralNeed.EMPLOYMENT: "Employment",
    ReferralNeed.MENTAL_HEALTH: "Mental health care",
    ReferralNeed.SUBSTANCE_USE: "Substance use treatment",
    ReferralNeed.OTHER: "Other",
}
MODE_TEXT: dict[str, str] = {
    ReferralMode.MANUAL: "Manual: I phone, fax or e-mail the agency and record what it says",
    ReferralMode.ELECTRONIC: "Electronic: the agency's system takes the FHIR referral",
}
CHANNEL_TEXT: dict[str, str] = {
    Channel.PHONE: "Phone",
    Channel.EMAIL: "E-mail",
    Channel.FAX: "Fax",
    Channel.IN_PERSON: "In person",
    Channel.PARTNER_SYSTEM: "The agency's system",
}
ACTION_TEXT: dict[str, str] = {
    ReferralAction.ACCEPT: "Accepted",
    ReferralAction.REJECT: "Rejected",
    ReferralAction.START: "Service started",
    ReferralAction.COMPLETE: "Completed: the person got the service",
    ReferralAction.FAIL: "Did not work out",
}
HANDOFF_TEXT: dict[str, str] = {
    WarmHandoffOutcome.CONNECTED: "Connected: the person and the agency spoke",
    WarmHandoffOutcome.AGENCY_UNAVAILABLE: "Nobody at the agency could take the call",
    WarmHandoffOutcome.PERSON_DECLINED: "The person did not want to go on",
    WarmHandoffOutcome.DROPPED: "The call dropped",
}
RELATION_TEXT: dict[str, str] = {
    Relation.PERSON_IN_CRISIS: "The person in crisis",
    Relation.CALLER: "The caller",
    Relation.FAMILY_MEMBER: "A family member",
    Relation.OTHER: "Someone else",
}
METHOD_TEXT = {
    "verbal_on_call": "Verbally, on the call",
    "written": "In writing",
    "text_message": "By text message",
}
PRIORITY_TEXT = {"routine": "Routine", "urgent": "Urgent"}


def _choices(text: dict[str, str], blank: str | None = None) -> list[tuple[str, str]]:
    return ([("", blank)] if blank is not None else []) + [(str(k), v) for k, v in text.items()]


def _when(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="America/Chicago",
    )


class ReferralConsentForm(forms.Form):
    """Who agreed to the referral, how, and the number on which they agree to be contacted about it."""

    given_by = forms.CharField(label="Consent given by (name or role)", max_length=120)
    relation = forms.ChoiceField(label="Relation to the case", choices=_choices(RELATION_TEXT))
    method = forms.ChoiceField(label="How they agreed", choices=_choices(METHOD_TEXT))
    contact = forms.CharField(label="Number to contact about the referral", max_length=40)
    agency_may_contact = forms.BooleanField(
        label="The agency may contact the person on this number", required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "rc-%s")
        super().__init__(*args, **kwargs)


class ReferForm(forms.Form):
    """The referral itself: for whom, what for, how it travels, and what the agency should know."""

    person_id = forms.TypedChoiceField(label="For", coerce=int, required=False, empty_value=None)
    need = forms.ChoiceField(label="Need", choices=_choices(NEED_TEXT))
    mode = forms.ChoiceField(
        label="How the referral travels",
        choices=_choices(MODE_TEXT),
        widget=forms.RadioSelect,
        initial="manual",
    )
    priority = forms.ChoiceField(label="Priority", choices=_choices(PRIORITY_TEXT), initial="routine")
    request_text = forms.CharField(
        label="For the agency: what the person needs from it (sent to the agency; no case notes)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    request_text_part2 = forms.BooleanField(
        label="The text for the agency mentions substance use (42 CFR Part 2)", required=False
    )
    shared_items = forms.MultipleChoiceField(
        label="Also share with the agency (Part 2 items go only with a disclosure consent)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        people: Sequence[tuple[str, str]],
        *args: Any,
        shareable: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ):
        kwargs.setdefault("auto_id", "refer-%s")
        super().__init__(*args, **kwargs)
        self.fields["person_id"].choices = [("", "Nobody named in the case"), *people]  # type: ignore[attr-defined]
        self.fields["shared_items"].choices = list(shareable)  # type: ignore[attr-defined]


class ReportForm(forms.Form):
    """What the agency (or the person) reported: the outcome, their words, who, when, how it came."""

    action = forms.ChoiceField(label="What happened", widget=forms.RadioSelect)
    said = forms.CharField(
        label="What they said", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    said_by = forms.CharField(label="Who said it", max_length=120, required=False)
    channel = forms.ChoiceField(
        label="How it reached you", required=False, choices=_choices(CHANNEL_TEXT, "Choose...")
    )
    occurred_at = _when("When they said it")
    reason = forms.CharField(label="Reason (rejected / did not work out)", max_length=4000, required=False)

    def __init__(self, actions: Sequence[str], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(a, ACTION_TEXT.get(a, a)) for a in actions]  # type: ignore[attr-defined]


class CancelForm(forms.Form):
    reason = forms.CharField(label="Why the referral is withdrawn", max_length=4000)


class WarmHandoffForm(forms.Form):
    """A three-way call: the social worker, the person and the agency."""

    outcome = forms.ChoiceField(label="How it went", choices=_choices(HANDOFF_TEXT), widget=forms.RadioSelect)
    agency_contact = forms.CharField(label="Who at the agency", max_length=120, required=False)
    person_on_call = forms.BooleanField(label="The person was on the call", required=False, initial=True)
    other_participants = forms.CharField(label="Anyone else on the call", max_length=255, required=False)
    notes = forms.CharField(
        label="Notes", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    duration_minutes = forms.IntegerField(label="Minutes", min_value=0, max_value=600, required=False)
    occurred_at = _when("When (empty: now)")
