from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "crisisdesk.referrals"
    default_auto_field = "django.db.models.BigAutoField"
