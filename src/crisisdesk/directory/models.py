"""Tables of the service directory, aligned with Open Referral HSDS 3.0.

Each HSDS record is one row keyed by its HSDS `id` (`hsds_id`, unique), so a re-import updates by
id. Fields that search, display or the evaluation need are typed (and indexed where filtered);
every other HSDS field of the record is kept verbatim in `extra` so that export is lossless
(`extra` never holds a fact search depends on). Nested arrays that are modelled as tables
(phones, schedules, languages, contacts, addresses, attributes, service_at_locations) are removed
from `extra`; `position` keeps their order for export.

Search reads `ServiceTag` (kind, value) rows derived on every write from HSDS attributes whose
taxonomy term maps to a tag, from language rows, and from the sample-data flag; see vocab.py.
Services are never deleted (referrals point at them): a withdrawn service gets status "defunct".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crisisdesk.directory.vocab import TagKind

USER = settings.AUTH_USER_MODEL


class HsdsRecord(models.Model):
    """Common columns: the HSDS id, the unmodelled HSDS fields, and when the row was last written."""

    hsds_id = models.CharField(max_length=64, unique=True)
    extra = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return str(getattr(self, "name", "") or self.hsds_id)


class Taxonomy(HsdsRecord):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    uri = models.CharField(max_length=500, blank=True)
    version = models.CharField(max_length=64, blank=True)


class TaxonomyTerm(HsdsRecord):
    """An HSDS taxonomy term; `tag_kind`/`tag_value` say which search tag it gives a service (if any)."""

    code = models.CharField(max_length=255, blank=True, db_index=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    parent_hsds_id = models.CharField(max_length=64, blank=True)
    taxonomy = models.CharField(max_length=255, blank=True)
    taxonomy_ref = models.ForeignKey(Taxonomy, null=True, blank=True, on_delete=models.SET_NULL)
    language = models.CharField(max_length=32, blank=True)
    term_uri = models.CharField(max_length=500, blank=True)
    tag_kind = models.CharField(max_length=16, blank=True, choices=[(k.value, k.value) for k in TagKind])
    tag_value = models.CharField(max_length=128, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tag_kind", "tag_value"])]


class Organization(HsdsRecord):
    name = models.CharField(max_length=255, db_index=True)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    email = models.CharField(max_length=255, blank=True)
    website = models.CharField(max_length=500, blank=True)
    is_sample = models.BooleanField(default=False)


class Service(HsdsRecord):
    """A program in the directory. `last_verified_at` is when someone last confirmed the listing.

    `last_verified_at` comes from HSDS `assured_date` on import (midnight America/Chicago of that
    date) and from "verified today" stamps; export writes it back as `assured_date`.
    """

    class Status(models.TextChoices):
        ACTIVE = "active"
        INACTIVE = "inactive"
        DEFUNCT = "defunct"
        TEMPORARILY_CLOSED = "temporarily closed"

    # HSDS does not require organization_id on a service, so neither do we.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(max_length=255, db_index=True)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    email = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, db_index=True)
    interpretation_services = models.TextField(blank=True)
    application_process = models.TextField(blank=True)
    fees_description = models.TextField(blank=True)
    eligibility_description = models.TextField(blank=True)
    minimum_age = models.FloatField(null=True, blank=True, db_index=True)
    maximum_age = models.FloatField(null=True, blank=True, db_index=True)
    alert = models.TextField(blank=True)
    assurer_email = models.CharField(max_length=255, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_verified_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_sample = models.BooleanField(default=False, db_index=True)


class Location(HsdsRecord):
    class LocationType(models.TextChoices):
        PHYSICAL = "physical"
        POSTAL = "postal"
        VIRTUAL = "virtual"

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="locations"
    )
    location_type = models.CharField(max_length=16, choices=LocationType.choices)
    name = models.CharField(max_length=255, blank=True)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    transportation = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True, db_index=True)
    longitude = models.FloatField(null=True, blank=True, db_index=True)


class Address(HsdsRecord):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="addresses")
    position = models.PositiveIntegerField(default=0)
    attention = models.CharField(max_length=255, blank=True)
    address_1 = models.CharField(max_length=255)
    address_2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=128, db_index=True)
    region = models.CharField(max_length=128, blank=True)
    state_province = models.CharField(max_length=64)
    postal_code = models.CharField(max_length=32)
    country = models.CharField(max_length=8)
    address_type = models.CharField(max_length=16)

    class Meta:
        ordering = ["position", "id"]

    def one_line(self) -> str:
        street = ", ".join(p for p in (self.address_1, self.address_2) if p)
        return f"{street}, {self.city}, {self.state_province} {self.postal_code}".strip(", ")


class ServiceAtLocation(HsdsRecord):
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="service_at_locations")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="service_at_locations")
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]


class Contact(HsdsRecord):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["position", "id"]


class Phone(HsdsRecord):
    """A phone number of one owner (organization, service, location, service at location or contact)."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    position = models.PositiveIntegerField(default=0)
    number = models.CharField(max_length=64)
    extension = models.FloatField(null=True, blank=True)
    type = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]


class Language(HsdsRecord):
    """A language served; `code` is lower-cased (ISO 639-1 where the source gives one)."""

    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    phone = models.ForeignKey(
        Phone, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=128, blank=True)
    code = models.CharField(max_length=16, blank=True, db_index=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]


class Schedule(HsdsRecord):
    """HSDS schedule (RFC 5545-style recurrence). Semantics: crisisdesk.domain.schedules.

    A row with valid_from and valid_to but no opens_at/closes_at/byday is a closure for those dates.
    """

    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    position = models.PositiveIntegerField(default=0)
    freq = models.CharField(max_length=16, blank=True)
    interval = models.PositiveIntegerField(null=True, blank=True)
    byday = models.CharField(max_length=64, blank=True)
    bymonthday = models.CharField(max_length=128, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    dtstart = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    description = models.TextField(blank=True)
    attending_type = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]


class Attribute(HsdsRecord):
    """An HSDS attribute: links a taxonomy term to one entity (`link_entity`, `link_id`)."""

    link_id = models.CharField(max_length=64, db_index=True)
    link_entity = models.CharField(max_length=64, blank=True)
    link_type = models.CharField(max_length=128, blank=True)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="attributes"
    )
    taxonomy_term = models.ForeignKey(
        TaxonomyTerm, null=True, blank=True, on_delete=models.PROTECT, related_name="attributes"
    )
    value = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class ServiceTag(models.Model):
    """A search facet of a service: (kind, value), e.g. ("need", "food"), ("language", "so").

    Derived, never edited directly: rebuilt by directory.services whenever the service is written.
    `source` says where the tag came from (the attribute's term code, or "language").
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="tags")
    kind = models.CharField(max_length=16, choices=[(k.value, k.value) for k in TagKind])
    value = models.CharField(max_length=128)
    source = models.CharField(max_length=128, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "kind", "value"], name="service_tag_unique")
        ]
        indexes = [models.Index(fields=["kind", "value", "service"])]


class OtherRecord(models.Model):
    """A record of an HSDS table Crisis Desk does not model (funding, program, cost_option,
    service_area, required_document, accessibility, organization_identifier, metadata,
    meta_table_description), kept as its flat HSDS row so that export is lossless."""

    table = models.CharField(max_length=64)
    hsds_id = models.CharField(max_length=64)
    data = models.JSONField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table", "hsds_id"], name="other_record_unique")]


class ImportRun(models.Model):
    """One import of an HSDS file or datapackage; `counts` = accepted records per type."""

    started_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=16)
    source = models.CharField(max_length=500)
    counts = models.JSONField(default=dict)
    rejected_count = models.PositiveIntegerField(default=0)


class ImportRejection(models.Model):
    """A record an import refused, with one reason (a record with three problems has three rows)."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejections")
    record_type = models.CharField(max_length=64)
    record_id = models.CharField(max_length=128, blank=True)
    location = models.CharField(max_length=255, blank=True)  # file and row / array index
    path = models.CharField(max_length=255, blank=True)  # JSON path of the offending field
    reason = models.TextField()
