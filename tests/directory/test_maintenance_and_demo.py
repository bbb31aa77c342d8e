"""Maintenance (verified stamps, edits), the demo directory, and the import/export commands."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.errors import Forbidden, NotFound
from crisisdesk.calls.services import InvalidInput
from crisisdesk.directory import hsds, services
from crisisdesk.directory import models as m
from crisisdesk.directory.services.seed import seed_demo_directory
from crisisdesk.directory.vocab import Need
from tests.directory.helpers import EXAMPLES, wipe_directory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


@pytest.fixture
def demo(db: Any) -> dict[str, m.Service]:
    report = seed_demo_directory(today=date(2026, 11, 25))
    assert report.problems == []
    return {s.hsds_id: s for s in m.Service.objects.all()}


def by_name(fragment: str) -> m.Service:
    return m.Service.objects.get(name__contains=fragment)


def test_demo_directory_facts_and_sample_marking(demo: dict[str, m.Service]) -> None:
    services_ = list(m.Service.objects.all())
    assert len(services_) == 17
    real = {s.name for s in services_ if not s.is_sample}
    assert real == {"988 Suicide & Crisis Lifeline", "911 (police, fire, EMS)"}
    for s in services_:
        if s.is_sample:
            assert s.description.startswith("SAMPLE DATA:"), s.name
            assert s.tags.filter(kind="data", value="sample").exists()
            assert all("555-01" in p.number for p in s.phones.all()), s.name
    lifeline = by_name("988")
    assert [(p.number, p.type) for p in lifeline.phones.all()] == [("988", "voice"), ("988", "text")]
    assert lifeline.tags.filter(kind="hours", value="open_24_7").exists()
    # The county mobile crisis number could not be confirmed: it is a sample listing.
    assert by_name("mobile crisis").is_sample
    covered = set(m.ServiceTag.objects.filter(kind="need").values_list("value", flat=True))
    assert covered == {n.value for n in Need}
    assert m.Organization.objects.get(name="Example Recovery Services").is_sample
    assert not m.Organization.objects.get(name="988 Suicide & Crisis Lifeline").is_sample


def test_reseeding_updates_by_id(demo: dict[str, m.Service]) -> None:
    counts = {t: len(r) for t, r in hsds.flat_tables().items()}
    report = seed_demo_directory(today=date(2026, 12, 1))
    assert report.created == {} and report.updated["service"] == 17
    assert {t: len(r) for t, r in hsds.flat_tables().items()} == counts


def test_stamp_verified(demo: dict[str, m.Service], administrator: Any, social_worker: Any) -> None:
    stale = by_name("Outpatient Substance")
    with pytest.raises(Forbidden):
        services.stamp_verified(social_worker, [stale.pk])
    with pytest.raises(NotFound):
        services.stamp_verified(administrator, [stale.pk, 999_999])
    assert services.stamp_verified(administrator, [stale.pk], now=NOW) == 1
    stale.refresh_from_db()
    assert stale.last_verified_at == NOW and stale.last_verified_by == administrator
    event = AuditEvent.objects.get(action="directory.verify")
    assert (event.object_type, event.object_id, event.actor) == ("service", str(stale.pk), administrator)
    # The stamp is exported as the HSDS assured_date (local date).
    row = next(r for r in hsds.flat_tables()["service"] if r["id"] == stale.hsds_id)
    assert row["assured_date"] == "2026-11-25"


def test_edit_service_fields_needs_and_access(demo: dict[str, m.Service], administrator: Any) -> None:
    clinic = by_name("Northside")
    services.edit_service(
        administrator,
        clinic.pk,
        {
            "name": "Northside Walk-in Counseling",
            "minimum_age": 16,
            "needs": ["mental_health_care", "family_support"],
            "access": ["walk_in", "appointment"],
        },
        now=NOW,
    )
    clinic.refresh_from_db()
    assert clinic.name == "Northside Walk-in Counseling" and clinic.minimum_age == 16
    assert set(clinic.tags.filter(kind="need").values_list("value", flat=True)) == {
        "mental_health_care",
        "family_support",
    }
    assert set(clinic.tags.filter(kind="access").values_list("value", flat=True)) == {
        "walk_in",
        "appointment",
    }
    event = AuditEvent.objects.get(action="directory.edit")
    assert event.details["before"]["name"] == "Northside Walk-in Counseling (sample)"
    assert event.details["needs"] == {"added": ["family_support"], "removed": ["crisis_services"]}
    # The change travels in an export as HSDS attributes of the Crisis Desk taxonomy.
    attributes = [a for a in hsds.flat_tables()["attribute"] if a["link_id"] == clinic.hsds_id]
    codes = {
        t["code"]
        for t in hsds.flat_tables()["taxonomy_term"]
        if t["id"] in {a["taxonomy_term_id"] for a in attributes}
    }
    assert {"need:family_support", "access:appointment"} <= codes and "need:crisis_services" not in codes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "open"}, "status"),
        ({"name": " "}, "name"),
        ({"minimum_age": 30, "maximum_age": 20}, "maximum_age"),
        ({"needs": ["pets"]}, "needs"),
    ],
)
def test_edit_rejects_bad_input(
    demo: dict[str, m.Service], administrator: Any, changes: dict[str, Any], field: str
) -> None:
    clinic = by_name("Northside")
    with pytest.raises(InvalidInput) as err:
        services.edit_service(administrator, clinic.pk, changes)
    assert err.value.details["errors"][0]["field"] == field
    clinic.refresh_from_db()
    assert clinic.name == "Northside Walk-in Counseling (sample)"


def test_commands_import_export_and_exit_status(tmp_path: Path) -> None:
    call_command("seed_directory")
    call_command("directory_export", str(tmp_path / "json"), "--format", "json")
    call_command("directory_export", str(tmp_path / "csv"), "--format", "datapackage")
    before = hsds.flat_tables()
    wipe_directory()
    call_command("directory_import", str(tmp_path / "csv"))  # a folder of CSV files: datapackage
    assert hsds.flat_tables() == before
    wipe_directory()
    call_command("directory_import", str(tmp_path / "json"), "--format", "json")
    assert hsds.flat_tables() == before
    with pytest.raises(SystemExit) as exit_status:
        call_command(
            "directory_import", str(EXAMPLES / "location.json"), "--report", str(tmp_path / "r.json")
        )
    assert exit_status.value.code == 2  # nothing accepted: the location has latitude 100
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["rejections"][0] == {
        "record_type": "location",
        "id": "3a19ff88-4620-4d17-9830-ac1d859eb5d5",
        "where": "location.json",
        "path": "latitude",
        "reason": "must be between -90 and 90",
    }
