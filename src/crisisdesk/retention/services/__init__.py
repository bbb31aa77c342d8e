"""The write path of retention: publishing policy versions and the audited purge."""

from crisisdesk.retention.services.policy import (
    NoPolicy,
    active_policy,
    policy_from_row,
    publish_retention_policy,
    require_manager,
)
from crisisdesk.retention.services.purge import (
    MAX_PER_RUN,
    AuditDue,
    PurgeReport,
    TypeReport,
    audit_events_due,
    purge_expired,
    register_audit_purge,
)

__all__ = [
    "MAX_PER_RUN",
    "AuditDue",
    "NoPolicy",
    "PurgeReport",
    "TypeReport",
    "active_policy",
    "audit_events_due",
    "policy_from_row",
    "publish_retention_policy",
    "purge_expired",
    "register_audit_purge",
    "require_manager",
]
