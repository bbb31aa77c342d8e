from django.db import migrations
from django.utils import timezone

# The program's default (issue 3): first attempt within 24 h of the call, up to 3 attempts, the last
# within 72 h. An administrator changes it by publishing a new version.
DEFAULT = {"version": "followup-default/1", "first_within_hours": 24, "max_attempts": 3, "last_within_hours": 72}


def install(apps, schema_editor):
    Policy = apps.get_model("casework", "FollowUpPolicyVersion")
    if not Policy.objects.exists():
        Policy.objects.create(
            version=DEFAULT["version"],
            document=DEFAULT,
            is_active=True,
            created_at=timezone.now(),
            change_note="Default policy installed with the casework tables.",
        )


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
