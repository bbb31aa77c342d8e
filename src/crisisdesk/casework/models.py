"""Tables of casework: people, cases, assessments, safety plans, consent, follow-ups, disclosures.

Every fact the evaluation needs is a typed, indexed column (case status and disposition, concerns,
risk level, follow-up status and attempt outcomes, linkage keys). Assessment answers are kept as
JSON together with the instrument's key and version, which is what makes them interpretable later.
Nothing here is deleted: links between people are undone by stamping them, not by removing rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from crisisdesk.domain.cases import CaseOrigin, CaseStatus, Concern, Disposition, NoteKind, Relation
from crisisdesk.domain.followups import AttemptOutcome, FollowUpStatus
from crisisdesk.domain.instruments import RiskLevel
from crisisdesk.domain.part2 import Outcome, Purpose

USER = settings.AUTH_USER_MODEL


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(m.value, m.value.replace("_", " ")) for m in enum]  # type: ignore[attr-defined]


class Person(models.Model):
    """Someone a case is about (or who called about them), as they were recorded in one case.

    The same human may have several Person rows (one per time they were recorded); confirmed
    `PersonLink`s join them. The `key_*` columns are normalised blocking keys used to find candidate
    matches; `phone_key` is the keyed hash analytics uses instead of the number.
    """

    given_name = models.CharField(max_length=120, blank=True)
    family_name = models.CharField(max_length=120, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    phone_raw = models.CharField(max_length=40, blank=True)
    phone_e164 = models.CharField(max_length=20, blank=True, db_index=True)
    phone_valid = models.BooleanField(default=False)
    phone_problem = models.CharField(max_length=32, blank=True)  # kept raw and flagged, never rejected
    phone_key = models.CharField(max_length=64, blank=True, db_index=True)
    address = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=64, blank=True)
    key_name = models.CharField(max_length=64, blank=True, db_index=True)
    key_dob = models.CharField(max_length=10, blank=True, db_index=True)
    key_street = models.CharField(max_length=128, blank=True, db_index=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    def display_name(self) -> str:
        name = f"{self.given_name} {self.family_name}".strip()
        return name or "(name not given)"


class PersonLink(models.Model):
    """A social worker's confirmation that two Person rows are the same human. Undone, not deleted."""

    person_a = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="links_a")
    person_b = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="links_b")
    score = models.FloatField()
    match_reasons = models.JSONField(default=list)
    match_version = models.CharField(max_length=32)
    confirmed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField()
    undone_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True, db_index=True)
    undo_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(person_a__lt=models.F("person_b")), name="link_pair_ordered"),
            models.UniqueConstraint(
                fields=["person_a", "person_b"], condition=Q(undone_at=None), name="one_live_link_per_pair"
            ),
        ]


class Case(models.Model):
    """The social worker's record of helping a person on one call (or one callback)."""

    call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    transfer = models.OneToOneField(
        "calls.Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="case"
    )
    origin = models.CharField(max_length=16, choices=_choices(CaseOrigin))
    status = models.CharField(max_length=16, choices=_choices(CaseStatus), db_index=True)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="cases")
    opened_at = models.DateTimeField(db_index=True)
    concern_mental_health = models.BooleanField(default=False)
    concern_substance_use = models.BooleanField(default=False)
    concern_other_crisis = models.BooleanField(default=False)
    language = models.CharField(max_length=64, blank=True)
    interpreter_used = models.BooleanField(default=False)
    escalation_offer_declined_at = models.DateTimeField(null=True, blank=True)
    disposition = models.CharField(max_length=32, choices=_choices(Disposition), blank=True, db_index=True)
    close_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"case {self.pk} ({self.status})"

    def concerns(self) -> frozenset[str]:
        flags = {
            Concern.MENTAL_HEALTH: self.concern_mental_health,
            Concern.SUBSTANCE_USE: self.concern_substance_use,
            Concern.OTHER_CRISIS: self.concern_other_crisis,
        }
        return frozenset(c.value for c, on in flags.items() if on)


class CaseParticipant(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="participants")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="participations")
    relation = models.CharField(max_length=24, choices=_choices(Relation), db_index=True)
    added_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "person"], name="person_once_per_case")]


class CaseNote(models.Model):
    """A timestamped note of crisis intervention, counseling or support. Notes are never edited."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField(max_length=24, choices=_choices(NoteKind), db_index=True)
    text = models.TextField()
    # About substance use (42 CFR Part 2): set by the social worker when writing it, never guessed
    # from the text. Tagged notes leave the program only under a disclosure consent (domain.part2).
    part2 = models.BooleanField(default=False, db_index=True)
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()


class Assessment(models.Model):
    """One completed instrument (C-SSRS screener, substance use and housing) with its scored result."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    instrument = models.CharField(max_length=32, db_index=True)
    instrument_version = models.CharField(max_length=48)
    answers = models.JSONField()
    risk_level = models.CharField(max_length=16, choices=_choices(RiskLevel), db_index=True)
    reasons = models.JSONField(default=list)
    required_actions = models.JSONField(default=list)
    flags = models.JSONField(default=list)
    assessed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()


class SafetyPlan(models.Model):
    """A Stanley-Brown safety plan. Each save is a new row; the newest is the plan."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="safety_plans")
    version = models.CharField(max_length=32)  # of the field list (domain.instruments)
    values = models.JSONField()
    complete = models.BooleanField()
    written_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()


class ContactConsent(models.Model):
    """A person's consent to be contacted after the call: who gave it, how, when, to which number."""

    class Method(models.TextChoices):
        VERBAL_ON_CALL = "verbal_on_call"
        WRITTEN = "written"
        TEXT_MESSAGE = "text_message"

    class Channel(models.TextChoices):
        PHONE = "phone"
        SMS = "sms"

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="consents")
    call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.PROTECT, related_name="contact_consents"
    )
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    given_by = models.CharField(max_length=120)  # the name or role of who consented
    relation = models.CharField(max_length=24, choices=_choices(Relation))
    method = models.CharField(max_length=24, choices=Method.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PHONE)
    contact_raw = models.CharField(max_length=40)
    contact_e164 = models.CharField(max_length=20, blank=True)
    contact_valid = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")


class FollowUpPolicyVersion(models.Model):
    """The follow-up policy as data; an administrator's change is a new row (history kept)."""

    version = models.CharField(max_length=32, unique=True)
    document = models.JSONField()
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    change_note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_policy"
            )
        ]


class FollowUp(models.Model):
    """A planned contact after a call. It exists only with the person's consent (the FK is required)."""

    class Kind(models.TextChoices):
        AFTER_CASE = "after_case"  # the social worker checks in after helping
        CALLBACK = "callback"  # "callback next shift" / "when available" from the telecommunicator
        REFERRAL_CHECK = "referral_check"  # did the person get connected to the service referred to?

    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups")
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="checks"
    )
    call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    consent = models.ForeignKey(ContactConsent, on_delete=models.PROTECT, related_name="follow_ups")
    policy = models.ForeignKey(FollowUpPolicyVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=_choices(FollowUpStatus), db_index=True)
    start_at = models.DateTimeField()  # the policy's deadlines count from here
    visible_from = models.DateTimeField(db_index=True)  # e.g. the start of the next shift
    first_due_by = models.DateTimeField(db_index=True)
    last_due_by = models.DateTimeField(db_index=True)
    assigned_to = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    contact_number = models.CharField(max_length=40)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")


class FollowUpAttempt(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone"
        SMS = "sms"
        IN_PERSON = "in_person"

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    outcome = models.CharField(max_length=24, choices=_choices(AttemptOutcome), db_index=True)
    notes = models.TextField(blank=True)
    attempted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    attempted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["follow_up", "number"], name="attempt_number_once")]


class DisclosureConsent(models.Model):
    """A person's consent to disclose case information to one recipient for one purpose (Part 2).

    The scope is explicit: the recipient (a directory organization, or a named recipient when the
    directory has none), the coded purpose, and the data classes (`covers_part2`: substance-use
    information; `covers_general`: the rest). It always ends: `expires_at` is required (default one
    year after it was given, domain.part2.default_expiry). Revoking stamps it; nothing is deleted.
    """

    class Method(models.TextChoices):
        WRITTEN = "written"  # signed on paper or electronically: the only kind that covers Part 2
        VERBAL = "verbal"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="disclosure_consents")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient_organization = models.ForeignKey(
        "directory.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient_name = models.CharField(max_length=255)  # the organization's name, or the named recipient
    purpose = models.CharField(max_length=24, choices=_choices(Purpose), db_index=True)
    purpose_text = models.CharField(max_length=255, blank=True)  # required for "other"
    covers_part2 = models.BooleanField(default=True)
    covers_general = models.BooleanField(default=True)
    given_by = models.CharField(max_length=120)  # the name or role of who consented
    relation = models.CharField(max_length=24, choices=_choices(Relation))
    method = models.CharField(max_length=16, choices=Method.choices)
    given_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoke_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("given_at")), name="disclosure_consent_ends_after_start"
            )
        ]


class Disclosure(models.Model):
    """The disclosure ledger: one row per artifact that left the program (HIPAA 164.528, 42 CFR 2.24).

    Written in the transaction that produced the artifact, Part 2 or not: which record, which items
    went and which Part 2 items were withheld (keys, never their content), to whom, for what, under
    which consent, whether the 2.32 notice went with it, the gate's reasons and rule version.
    """

    class Artifact(models.TextChoices):
        FHIR_BUNDLE = "fhir_bundle"  # the referral as FHIR, downloaded for the partner's system
        REFERRAL_PACKET = "referral_packet"  # the referral as text (fax, e-mail, read on the phone)
        REFERRAL_SENT = "referral_sent"  # the referral was sent to the agency

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="disclosures")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    artifact = models.CharField(max_length=24, choices=Artifact.choices, db_index=True)
    recipient_organization = models.ForeignKey(
        "directory.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient_name = models.CharField(max_length=255)
    purpose = models.CharField(max_length=24, choices=_choices(Purpose), db_index=True)
    outcome = models.CharField(max_length=16, choices=_choices(Outcome), db_index=True)
    items_included = models.JSONField(default=list)
    part2_included = models.JSONField(default=list)
    part2_withheld = models.JSONField(default=list)
    part2_withheld_count = models.PositiveIntegerField(default=0)
    consent = models.ForeignKey(
        DisclosureConsent, null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    notice_attached = models.BooleanField(default=False)
    reasons = models.JSONField(default=list)
    rule_version = models.CharField(max_length=48)
    disclosed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    disclosed_at = models.DateTimeField(db_index=True)
