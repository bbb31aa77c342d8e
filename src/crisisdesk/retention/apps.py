from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "crisisdesk.retention"
    default_auto_field = "django.db.models.BigAutoField"
