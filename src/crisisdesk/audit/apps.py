from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "crisisdesk.audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The retention purge removes the oldest audit rows through the chain-aware purge, which
        # anchors the chain so that the rest still verifies (decision 0005).
        from crisisdesk.audit.services import purge_audit_before
        from crisisdesk.retention.services.purge import register_audit_purge

        register_audit_purge(purge_audit_before)
