from django.db import migrations
from django.utils import timezone

# The first retention policy, from retention/default_policy.yaml (proposals to agree with the City
# and County records officers; docs/retention.md). Later changes are new versions published in the
# admin; editing the file does not change an installed database.


def install(apps, schema_editor):
    from crisisdesk.retention.policy_file import load_policy_file

    Version = apps.get_model("retention", "RetentionPolicyVersion")
    Rule = apps.get_model("retention", "RetentionRule")
    if Version.objects.exists():
        return
    policy = load_policy_file()
    row = Version.objects.create(
        version=policy.version,
        is_active=True,
        created_at=timezone.now(),
        change_note="First policy installed with the retention tables (proposals: docs/retention.md).",
    )
    Rule.objects.bulk_create(
        Rule(policy=row, record_type=r.record_type, days=r.days, counted_from=r.counted_from, basis=r.basis)
        for r in policy.rules.values()
    )


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
