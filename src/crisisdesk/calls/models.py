"""Tables of the operational flow: call -> screening -> decision -> transfer -> claim / fallback.

Every fact the evaluation needs is a typed, indexed column (outcome, reason codes, transfer status
and its timestamps); raw CAD payloads are kept as JSON beside them for provenance only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from crisisdesk.domain.reasons import Outcome
from crisisdesk.domain.transfers import ACTIVE, TransferStatus

USER = settings.AUTH_USER_MODEL


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(m.value, m.value.replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class ProtocolVersion(models.Model):
    """One published version of a center's protocol. Rows are never edited: a change is a new row."""

    center = models.CharField(max_length=32)
    version = models.CharField(max_length=64)
    document = models.JSONField()
    source_text = models.TextField(blank=True)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT)
    is_active = models.BooleanField(default=True)
    change_note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "version"], name="protocol_version_unique"),
            models.UniqueConstraint(
                fields=["center"], condition=Q(is_active=True), name="one_active_protocol_per_center"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.center} {self.version}{' (active)' if self.is_active else ''}"


class Call(models.Model):
    """One 911 incident as the CAD (or a telecommunicator) reported it; unique per (source, incident id)."""

    class Origin(models.TextChoices):
        CAD = "cad"
        CONSOLE = "console"

    source = models.CharField(max_length=64)
    incident_id = models.CharField(max_length=128)  # EIDO incident URNs run long
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.CAD)
    call_type_raw = models.CharField(max_length=128)
    call_type = models.CharField(max_length=128, blank=True, db_index=True)  # the protocol's name, if known
    apco_code = models.CharField(max_length=16, blank=True)
    scope = models.CharField(max_length=16, blank=True, db_index=True)
    call_type_needs_review = models.BooleanField(default=False, db_index=True)
    priority = models.CharField(max_length=16, blank=True)
    received_at = models.DateTimeField(db_index=True)
    address = models.CharField(max_length=255, blank=True)
    neighbourhood = models.CharField(max_length=64, blank=True, db_index=True)  # for evaluation breakdowns
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    caller_phone = models.CharField(max_length=32, blank=True)
    # The caller's number as E.164 (blank when it does not parse) and its keyed hash: repeat 911
    # calls are counted by key, never by the raw number.
    caller_phone_e164 = models.CharField(max_length=20, blank=True)
    caller_key = models.CharField(max_length=64, blank=True, db_index=True)
    narrative = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    payload_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "incident_id"], name="call_source_incident_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.incident_id}"


class IntakeConflict(models.Model):
    """A repeat of a known (source, incident id) with a different payload: kept, never applied silently."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="conflicts")
    payload = models.JSONField()
    payload_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)


class RejectedRecord(models.Model):
    """An input that failed validation, kept verbatim with every reason."""

    channel = models.CharField(max_length=64)  # e.g. "POST /api/v1/calls"
    source = models.CharField(max_length=64, blank=True)
    incident_id = models.CharField(max_length=128, blank=True)
    body = models.TextField()
    errors = models.JSONField()
    received_at = models.DateTimeField(db_index=True)
    received_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")


class Screening(models.Model):
    """The telecommunicator's answers to the protocol's safety questions (None = not answered)."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="screenings")
    answers = models.JSONField()
    screened_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    screened_at = models.DateTimeField()


class Decision(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="decisions")
    screening = models.OneToOneField(Screening, on_delete=models.PROTECT, related_name="decision")
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=16, choices=_choices(Outcome), db_index=True)
    fallback_options = models.JSONField(default=list)
    social_worker_available = models.BooleanField()
    next_opening = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(db_index=True)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons.all()]


class DecisionReason(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="reasons")
    code = models.CharField(max_length=40, db_index=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["decision", "code"], name="decision_reason_unique")]


class Transfer(models.Model):
    """The handoff of a call to the social worker. Status changes only through calls.services."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="transfers")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="transfers")
    status = models.CharField(max_length=16, choices=_choices(TransferStatus), db_index=True)
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(db_index=True)
    deadline = models.DateTimeField(db_index=True)  # requested_at + the protocol's timeout
    claimed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    end_reason = models.CharField(max_length=255, blank=True)
    # After a timeout or decline the telecommunicator is alerted; these record that they saw it.
    alert_acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["call"],
                condition=Q(status__in=sorted(s.value for s in ACTIVE)),
                name="one_active_transfer_per_call",
            ),
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk} of {self.call} ({self.status})"


class Escalation(models.Model):
    """A call sent back to 911 for police / fire / EMS by the social worker, in one step.

    It comes from a claimed transfer or from a case (a callback case may have no transfer). The
    telecommunicators' consoles show it until one of them acknowledges it; the time to
    acknowledgement is `acknowledged_at - escalated_at`, and an escalation left unacknowledged past
    the protocol's limit alerts the supervisor.
    """

    class Responder(models.TextChoices):
        POLICE = "police"
        FIRE = "fire"
        EMS = "ems"

    transfer = models.ForeignKey(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    case = models.ForeignKey(
        "casework.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    responder = models.CharField(max_length=16, choices=Responder.choices)
    reason = models.TextField()
    escalated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    escalated_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True, db_index=True)
    acknowledged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )


class FallbackRoute(models.Model):
    """The fallback the telecommunicator took for a call the social worker could not take."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="fallbacks")
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    transfer = models.ForeignKey(Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    option = models.CharField(max_length=64, db_index=True)
    callback_number = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    taken_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField()


class SocialWorkerStatus(models.Model):
    """Available / busy / away, set on the queue page; live decisions read it."""

    class Status(models.TextChoices):
        AVAILABLE = "available"
        BUSY = "busy"
        AWAY = "away"

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="sw_status")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AWAY, db_index=True)
    changed_at = models.DateTimeField()
    # When the social worker's queue screen last checked in. "Available" counts only while the
    # screen is open: a closed laptop must not keep receiving transfers (calls.services.PRESENCE).
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
