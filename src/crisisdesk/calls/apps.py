from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "crisisdesk.calls"
    default_auto_field = "django.db.models.BigAutoField"
