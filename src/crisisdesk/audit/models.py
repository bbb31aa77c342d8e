"""The audit trail: one row per read or write of protected data, written in the same transaction.

Rows are append-only and chained: each row's `row_hash` is a keyed HMAC over its own fields and the
previous row's hash (`crisisdesk.audit.chain`), so `crisisdesk audit verify` finds an edited, deleted
or inserted row. `AuditChainHead` is the one row that holds the chain's end; appending locks it, so
rows are chained in commit order on PostgreSQL as on SQLite.
"""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)  # position in the chain: 1, 2, 3 ... with no gaps
    at = models.DateTimeField(db_index=True)  # UTC, microseconds
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, default="ok")  # ok | refused | denied | failed
    details = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_addr = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"]),
            models.Index(fields=["actor", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The end of the chain (last seq and hash) and where it starts after a retention purge.

    `anchor_seq` / `anchor_hash`: the last row removed by an audited retention purge (0 / "" before any);
    verification starts there.
    """

    seq = models.BigIntegerField(default=0)
    row_hash = models.CharField(max_length=64, blank=True)
    anchor_seq = models.BigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, blank=True)
