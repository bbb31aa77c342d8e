from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "crisisdesk.casework"
    default_auto_field = "django.db.models.BigAutoField"
