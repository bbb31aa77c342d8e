"""The audit trail's hash chain: written in order, verified, and every kind of tampering found."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from crisisdesk.audit.models import AuditChainHead, AuditEvent
from crisisdesk.audit.services import purge_audit_before, record, record_read, verify_chain

pytestmark = pytest.mark.django_db(transaction=False)


def _rows(n: int, actor: Any = None) -> None:
    for i in range(n):
        with transaction.atomic():
            record(
                actor, "test.write", object_type="thing", object_id=str(i), details={"i": i, "z": [1, "é"]}
            )


def _as_dba(sql: str, params: list[Any]) -> None:
    """Change the table the way a database administrator could, past the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # superuser: triggers off
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_rows_are_chained_in_order(supervisor: Any) -> None:
    _rows(5, supervisor)
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", "prev_hash", "row_hash"))
    assert [s for s, _, _ in seqs] == [1, 2, 3, 4, 5]
    assert all(seqs[i][1] == seqs[i - 1][2] for i in range(1, 5))
    head = AuditChainHead.objects.get()
    assert (head.seq, head.row_hash) == (5, seqs[-1][2])
    result = verify_chain()
    assert result.ok and result.rows == 5


def test_a_read_row_per_record_with_actor_and_role(supervisor: Any, social_worker: Any) -> None:
    rows = record_read(supervisor, [social_worker, supervisor])
    assert [(r.action, r.object_type, r.actor_role) for r in rows] == [
        ("user.read", "user", "supervisor"),
        ("user.read", "user", "supervisor"),
    ]
    assert verify_chain().ok


def test_an_edited_row_is_found() -> None:
    _rows(6)
    _as_dba("UPDATE audit_auditevent SET object_id = %s WHERE seq = %s", ["999", 3])
    result = verify_chain()
    assert not result.ok
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "edited")]


def test_edited_details_are_found() -> None:
    _rows(3)
    _as_dba("UPDATE audit_auditevent SET details = %s WHERE seq = %s", ['{"i": 7}', 2])
    assert [(p.seq, p.kind) for p in verify_chain().problems] == [(2, "edited")]


def test_a_deleted_row_is_found() -> None:
    _rows(6)
    _as_dba("DELETE FROM audit_auditevent WHERE seq = %s", [4])
    kinds = {(p.seq, p.kind) for p in verify_chain().problems}
    assert (5, "missing") in kinds and (5, "broken_link") in kinds


def test_deleted_last_rows_are_found() -> None:
    _rows(6)
    _as_dba("DELETE FROM audit_auditevent WHERE seq >= %s", [5])
    assert [(p.seq, p.kind) for p in verify_chain().problems] == [(6, "missing_tail")]


def test_an_inserted_row_is_found() -> None:
    _rows(4)
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    # A forged row at the end, chained to the real last row but hashed without the key.
    _as_dba(
        "INSERT INTO audit_auditevent (seq, at, actor_role, action, object_type, object_id, "
        "outcome, details, request_id, client_addr, prev_hash, row_hash) "
        "VALUES (%s, %s, '', 'case.read', 'case', '1', 'ok', '{}', '', '', %s, %s)",
        [5, timezone.now(), last.row_hash, "f" * 64],
    )
    kinds = {(p.seq, p.kind) for p in verify_chain().problems}
    assert kinds == {(5, "beyond_head"), (5, "edited")}


def test_a_row_renumbered_into_a_gap_is_found() -> None:
    _rows(5)
    _as_dba("DELETE FROM audit_auditevent WHERE seq = %s", [3])
    _as_dba("UPDATE audit_auditevent SET seq = 3 WHERE seq = %s", [4])
    kinds = {(p.seq, p.kind) for p in verify_chain().problems}
    assert (3, "broken_link") in kinds and (3, "edited") in kinds


def test_the_application_cannot_update_or_delete_audit_rows_unnoticed() -> None:
    """PostgreSQL (production) refuses the change outright; embedded SQLite cannot refuse its owner,
    so there the chain is what finds it."""
    _rows(2)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(seq=1).update(object_id="x")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(seq=2).delete()
        assert AuditEvent.objects.count() == 2 and verify_chain().ok
    else:
        AuditEvent.objects.filter(seq=1).update(object_id="x")
        assert [(p.seq, p.kind) for p in verify_chain().problems] == [(1, "edited")]


def test_verify_command_reports_the_row_and_fails(capsys: Any) -> None:
    _rows(3)
    call_command("audit", "verify")
    assert "chain intact" in capsys.readouterr().out
    _as_dba("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["case.update", 2])
    with pytest.raises(CommandError, match="broken"):
        call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "BREAK at 2 (edited)" in out
    # Verifying is itself audited (CJIS AU-2): the failed check is the newest row.
    assert AuditEvent.objects.order_by("-seq").first().action == "audit.verify"  # type: ignore[union-attr]


def test_retention_purge_keeps_the_chain_verifiable(administrator: Any) -> None:
    _rows(5)
    old = timezone.now() - timedelta(days=4000)
    _as_dba("UPDATE audit_auditevent SET at = %s WHERE seq <= %s", [old, 3])
    # Changing `at` broke rows 1-3; the purge removes exactly them and anchors the chain at row 3.
    removed = purge_audit_before(administrator, timezone.now() - timedelta(days=2190))
    assert removed == 3
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [4, 5, 6]
    result = verify_chain()
    assert result.ok, result.problems
    purge = AuditEvent.objects.get(seq=6)
    assert purge.action == "audit.purge" and purge.details["through_seq"] == 3


def test_the_retention_purge_removes_old_audit_rows_through_the_chain(administrator: Any) -> None:
    from crisisdesk.retention.services import purge_expired

    _rows(4)
    _as_dba("UPDATE audit_auditevent SET at = %s WHERE seq <= %s", [timezone.now() - timedelta(days=2200), 2])
    purge_expired(administrator)
    assert not AuditEvent.objects.filter(seq__lte=2).exists()
    assert AuditEvent.objects.filter(action="audit.purge", details__through_seq=2).exists()
    assert verify_chain().ok
