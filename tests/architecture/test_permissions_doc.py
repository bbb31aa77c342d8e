"""docs/permissions.md is the permission matrix rendered from the code; they must not drift."""

from __future__ import annotations

from pathlib import Path

from crisisdesk.domain.permissions import (
    MATRIX,
    Access,
    Category,
    decide,
    render_markdown,
    withheld_transfer_fields,
)
from crisisdesk.domain.roles import Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def test_the_doc_is_the_rendered_matrix() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/permissions.md differs from the code: run `crisisdesk permissions_doc > docs/permissions.md`"
    )


def test_every_role_has_a_row_and_the_issue_rules_hold() -> None:
    assert set(MATRIX) == set(Role)
    # A telecommunicator sees the status of their own transfers but no clinical content.
    assert decide(Role.TELECOMMUNICATOR, Category.TRANSFER_STATUS, own=True).allowed
    assert decide(Role.TELECOMMUNICATOR, Category.TRANSFER_STATUS, own=False).reasons == ("not_own_record",)
    for clinical in (Category.CASE_CLINICAL, Category.PART2, Category.CASE_IDENTITY):
        assert not decide(Role.TELECOMMUNICATOR, clinical, own=True).allowed
    # An evaluator sees only de-identified aggregates.
    assert [c for c in Category if decide(Role.EVALUATOR, c, own=True).allowed] == [Category.AGGREGATES]
    # An administrator manages users and configuration and reads no case content.
    assert [c for c in Category if decide(Role.ADMINISTRATOR, c, own=True).allowed] == [Category.USERS_CONFIG]
    # A supervisor reads casework but does not write it; a social worker writes only their own.
    assert decide(Role.SUPERVISOR, Category.CASE_CLINICAL).allowed
    assert decide(Role.SUPERVISOR, Category.CASE_CLINICAL, write=True).reasons == ("read_only",)
    assert not decide(Role.SOCIAL_WORKER, Category.CASE_CLINICAL, write=True, own=False).allowed
    assert MATRIX[Role.CAD_INTEGRATION][Category.CALL_TRIAGE].access is Access.CREATE


def test_the_transfer_status_field_rule() -> None:
    assert withheld_transfer_fields(Role.TELECOMMUNICATOR, "completed") == ("end_reason",)
    assert withheld_transfer_fields(Role.TELECOMMUNICATOR, "cancelled") == ()  # their own words
    assert withheld_transfer_fields(Role.SOCIAL_WORKER, "completed") == ()
    assert withheld_transfer_fields("nobody", "declined") == ("end_reason",)
