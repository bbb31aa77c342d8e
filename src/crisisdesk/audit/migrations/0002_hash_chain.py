"""Hash-chain the audit trail: seq, prev_hash and row_hash on every row, the chain head, and (on
PostgreSQL) a trigger that refuses UPDATE and DELETE of audit rows outside an audited purge."""

from django.conf import settings
from django.db import migrations, models

PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION crisisdesk_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('crisisdesk.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditevent;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION crisisdesk_audit_append_only();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS crisisdesk_audit_append_only();
"""


def chain_existing(apps, schema_editor):
    from crisisdesk.audit import chain

    AuditEvent = apps.get_model("audit", "AuditEvent")
    Head = apps.get_model("audit", "AuditChainHead")
    seq, prev = 0, chain.GENESIS
    for row in AuditEvent.objects.order_by("at", "pk").iterator():
        seq += 1
        row.seq, row.prev_hash = seq, prev
        fields = {name: getattr(row, name) for name in chain.FIELDS if name != "row_hash"}
        row.row_hash = chain.row_digest(settings.AUDIT_KEY, fields, prev)
        prev = row.row_hash
        row.save(update_fields=["seq", "prev_hash", "row_hash"])
    Head.objects.update_or_create(pk=1, defaults={"seq": seq, "row_hash": prev if seq else ""})


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_APPEND_ONLY)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(default=0)),
                ("row_hash", models.CharField(blank=True, max_length=64)),
                ("anchor_seq", models.BigIntegerField(default=0)),
                ("anchor_hash", models.CharField(blank=True, max_length=64)),
            ],
        ),
        migrations.AddField(model_name="auditevent", name="seq", field=models.BigIntegerField(null=True)),
        migrations.AddField(
            model_name="auditevent", name="prev_hash", field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent", name="row_hash", field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AlterField(model_name="auditevent", name="seq", field=models.BigIntegerField(unique=True)),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor", "at"], name="audit_audit_actor_i_6c9c9e_idx"),
        ),
        migrations.RunPython(append_only, drop_append_only),
    ]
