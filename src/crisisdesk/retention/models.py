"""The retention policy as data: versions, and one rule row per record type in each version.

A version is never edited: an administrator's change publishes a new version (history kept), and
every purge run's audit rows name the version that decided it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from crisisdesk.domain.retention import RECORD_TYPES

USER = settings.AUTH_USER_MODEL


class RetentionPolicyVersion(models.Model):
    version = models.CharField(max_length=32, unique=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    change_note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_retention_policy"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version}{' (active)' if self.is_active else ''}"


class RetentionRule(models.Model):
    """How long one record type is kept under one policy version, and from which instant."""

    policy = models.ForeignKey(RetentionPolicyVersion, on_delete=models.PROTECT, related_name="rules")
    record_type = models.CharField(max_length=32, choices=[(t.key, t.label) for t in RECORD_TYPES])
    days = models.PositiveIntegerField()
    counted_from = models.CharField(max_length=32)
    basis = models.TextField(blank=True)

    class Meta:
        ordering = ["policy", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "record_type"], name="one_rule_per_type_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.days} days from {self.counted_from}"
