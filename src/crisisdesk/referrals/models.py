"""Tables of referrals: the person's consent to be referred, the referral, and its history.

A referral exists only with a recorded consent to be referred to that service (`Referral.consent` is
a required foreign key; the service refuses a consent that is withdrawn, of another case, or for
another service). Each referral keeps the service and organization names as they were when it was
made, so that the history reads right after the directory changes. Every state change, agency
report and warm handoff is a `ReferralEvent` row; nothing is edited or deleted. Facts the evaluation
counts (status, need, mode, the instants of each step) are typed, indexed columns.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crisisdesk.casework.models import Case, ContactConsent, Person
from crisisdesk.domain.cases import Relation
from crisisdesk.domain.referrals import (
    Channel,
    ReferralMode,
    ReferralNeed,
    ReferralStatus,
    WarmHandoffOutcome,
)

USER = settings.AUTH_USER_MODEL


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(m.value, m.value.replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class ReferralConsent(models.Model):
    """The person's consent to be referred to one service, and to share with it what the referral needs.

    Who gave it (the person, or a relative on their behalf), how, when and who recorded it.
    `agency_may_contact` says whether the agency may contact the person directly (if not, the export
    carries no phone number and flags the request "contacting subject prohibited"). The person also
    agrees to be contacted about the referral (the follow-up check): that consent is a casework
    `ContactConsent` row, recorded in the same step, which the check's follow-up points to.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referral_consents")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("directory.Service", on_delete=models.PROTECT, related_name="+")
    given_by = models.CharField(max_length=120)
    relation = models.CharField(max_length=24, choices=_choices(Relation))
    method = models.CharField(max_length=24, choices=ContactConsent.Method.choices)
    agency_may_contact = models.BooleanField(default=True)
    contact_consent = models.ForeignKey(
        ContactConsent, on_delete=models.PROTECT, related_name="referral_consents"
    )
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")


class Referral(models.Model):
    """A case's referral of a person to a service in the directory (lifecycle: domain.referrals)."""

    class Priority(models.TextChoices):
        ROUTINE = "routine"
        URGENT = "urgent"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    service = models.ForeignKey("directory.Service", on_delete=models.PROTECT, related_name="referrals")
    service_at_location = models.ForeignKey(
        "directory.ServiceAtLocation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent = models.ForeignKey(ReferralConsent, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=16, choices=_choices(ReferralStatus), db_index=True)
    mode = models.CharField(max_length=16, choices=_choices(ReferralMode), db_index=True)
    need = models.CharField(max_length=32, choices=_choices(ReferralNeed), db_index=True)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.ROUTINE)
    # Written for the agency (it is exported): what the person needs from the service. Case notes never are.
    request_text = models.TextField(blank=True)
    # The social worker's tick: the text above mentions substance use (42 CFR Part 2, domain.part2).
    request_text_part2 = models.BooleanField(default=False)
    # Case items (domain.part2 keys: "note:12", "concern:substance_use") the social worker chose to
    # share with the agency; the disclosure gate still withholds the Part 2 ones without consent.
    shared_items = models.JSONField(default=list, blank=True)
    service_name = models.CharField(max_length=255)  # as it was when the referral was made
    organization_name = models.CharField(max_length=255)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    responded_at = models.DateTimeField(null=True, blank=True)  # the agency accepted or rejected it
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)  # reached a terminal status
    status_reason = models.TextField(blank=True)  # why rejected / failed / cancelled
    check_rule_version = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["created_by", "status"])]

    def __str__(self) -> str:
        return f"referral {self.pk} to {self.service_name} ({self.status})"


class ReferralEvent(models.Model):
    """One line of a referral's history: a state change, what the agency said, or a warm handoff.

    `occurred_at` is when it happened (the agency's call at 10:05); `recorded_at` is when the social
    worker wrote it down. `said` / `said_by` hold the agency's words and who said them (manual mode).
    """

    class Kind(models.TextChoices):
        CREATED = "created"
        SENT = "sent"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        STARTED = "started"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"
        WARM_HANDOFF = "warm_handoff"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    status_before = models.CharField(max_length=16, blank=True)
    status_after = models.CharField(max_length=16, blank=True)
    channel = models.CharField(max_length=16, choices=_choices(Channel), blank=True)
    said = models.TextField(blank=True)
    said_by = models.CharField(max_length=120, blank=True)
    reason = models.TextField(blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    # Warm handoff (a three-way call: the social worker, the person, the agency).
    handoff_outcome = models.CharField(max_length=24, choices=_choices(WarmHandoffOutcome), blank=True)
    person_on_call = models.BooleanField(null=True, blank=True)
    other_participants = models.CharField(max_length=255, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
