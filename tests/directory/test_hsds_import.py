"""HSDS 3.0 import and export on the official example dataset and on malformed files.

Done-when of the directory: the example round-trips (import -> export -> import gives the same
records, in both forms and across them) and a malformed file yields a per-record rejection report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crisisdesk.audit.models import AuditEvent
from crisisdesk.directory import hsds, hsds_forms, services
from crisisdesk.directory import models as m
from crisisdesk.directory.builders import Listing, hsds_id, service_doc
from tests.directory.helpers import (
    EXAMPLES,
    corrected_datapackage,
    corrected_json,
    unaccounted,
    wipe_directory,
)

pytestmark = pytest.mark.django_db
LOCATION = "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
SERVICE = "ac148810-d857-441c-9679-408f346de14b"


def rejected(report: services.ImportReport) -> set[tuple[str, str, str]]:
    return {(p.table, p.path, p.reason) for p in report.problems}


def test_official_json_example_as_published_reports_its_bad_coordinates() -> None:
    """The official example has latitude 100: the location and what hangs on it are rejected."""
    parsed = hsds_forms.read_json_path(EXAMPLES / "service_full.json")
    report = services.import_hsds_json(None, EXAMPLES / "service_full.json")
    assert ("location", "latitude", "must be between -90 and 90") in rejected(report)
    assert ("service_at_location", "location_id", f"location {LOCATION} was rejected") in rejected(report)
    assert m.Service.objects.filter(hsds_id=SERVICE).exists()
    assert not m.Location.objects.exists()
    assert unaccounted(parsed, report.problems) == []
    run = m.ImportRun.objects.get(pk=report.run_id)
    assert run.rejected_count == report.rejected_records > 0
    assert run.rejections.count() == len(report.problems)


def test_official_datapackage_as_published_reports_dangling_ids() -> None:
    report = services.import_hsds_datapackage(None, EXAMPLES / "csv")
    reasons = rejected(report)
    assert (
        "contact",
        "organization_id",
        "no organization ae67a707-5893-4225-b0b1-320ab9cb596b in this import or the directory",
    ) in reasons
    assert (
        "taxonomy_term",
        "taxonomy_id",
        "no taxonomy 07ff6aee-a219-438c-b694-d2fcb6c5373b in this import or the directory",
    ) in reasons
    # The placeholder datapackage.json ("../../datapackage.json") is not fatal: the CSV names are read.
    assert m.Service.objects.get(hsds_id=SERVICE).name == "Community Counselling"


def test_json_example_round_trips(tmp_path: Path) -> None:
    source = corrected_json(tmp_path / "in")
    parsed = hsds_forms.read_json_path(source)
    first = services.import_hsds_json(None, source)
    assert first.problems == []
    before = hsds.flat_tables()
    assert {t: len(rows) for t, rows in before.items() if rows} == {
        "taxonomy": 1,
        "taxonomy_term": 1,
        "organization": 1,
        "service": 1,
        "location": 1,
        "address": 1,
        "service_at_location": 1,
        "contact": 1,
        "phone": 1,
        "language": 1,
        "schedule": 1,
        "attribute": 1,
        "program": 1,
        "funding": 1,
        "service_area": 1,
        "required_document": 1,
        "cost_option": 1,
        "organization_identifier": 1,
        "accessibility": 1,
        "metadata": 1,
    }
    # Lossless: every field of every record comes back exactly as written (the example files
    # repeat records, e.g. a schedule with "10:00" in one file and "10:00:00" in the next: the
    # later file updates the earlier one, as it would when imported one after the other).
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in parsed.records:
        expected.setdefault((rec.table, rec.id), {}).update(rec.row)
    exported = {(t, r["id"]): r for t, rows in before.items() for r in rows}
    assert exported.keys() == expected.keys()
    for key, row in expected.items():
        assert {k: exported[key].get(k) for k in row} == row, key

    services.export_json(None, tmp_path / "out")
    wipe_directory()
    again = services.import_hsds_json(None, tmp_path / "out")
    assert again.problems == []
    assert hsds.flat_tables() == before


def test_datapackage_example_round_trips_and_converts_to_json(tmp_path: Path) -> None:
    first = services.import_hsds_datapackage(None, corrected_datapackage(tmp_path / "in"))
    assert first.problems == []
    before = hsds.flat_tables()
    assert before["schedule"][0]["byday"] == "TH,FR" and before["schedule"][0]["timezone"] == 3

    services.export_datapackage(None, tmp_path / "csv")
    wipe_directory()
    assert services.import_hsds_datapackage(None, tmp_path / "csv").problems == []
    assert hsds.flat_tables() == before

    # Across forms: datapackage -> JSON -> datapackage gives the same records.
    services.export_json(None, tmp_path / "json")
    wipe_directory()
    assert services.import_hsds_json(None, tmp_path / "json").problems == []
    assert hsds.flat_tables() == before
    descriptor = json.loads((tmp_path / "csv" / "datapackage.json").read_text())
    assert {r["path"] for r in descriptor["resources"]} >= {"services.csv", "schedules.csv", "taxonomies.csv"}


def test_reimport_updates_by_id(tmp_path: Path) -> None:
    source = corrected_json(tmp_path / "in")
    services.import_hsds_json(None, source)
    service = m.Service.objects.get(hsds_id=SERVICE)
    doc = json.loads((source / "service_full.json").read_text())
    doc["name"] = "Community Counselling (renamed)"
    # The example nests the same schedule in three places; a publisher changes all of them.
    text = json.dumps(doc).replace('"opens_at": "10:00:00"', '"opens_at": "09:30"')
    (tmp_path / "one.json").write_text(text)
    report = services.import_hsds_json(None, tmp_path / "one.json")
    assert report.problems == [] and report.created == {}
    assert report.updated["service"] == 1
    service.refresh_from_db()
    assert service.name == "Community Counselling (renamed)"
    assert m.Service.objects.count() == 1
    assert str(m.Schedule.objects.get().opens_at) == "09:30:00"
    assert AuditEvent.objects.filter(action="directory.import").count() == 2


def _uuid(n: int) -> str:
    return hsds_id(f"malformed:{n}")


def test_malformed_json_yields_a_rejection_per_record(tmp_path: Path) -> None:
    good = service_doc(
        Listing(key="good", name="Good Service", organization="Good Org", description="ok", needs=["food"])
    )
    twin = {"id": _uuid(9), "name": "Twin", "status": "active"}
    docs: list[dict[str, Any]] = [
        good,
        {"id": _uuid(1), "status": "active"},  # no name
        {"id": _uuid(2), "name": "Bad status", "status": "open"},
        {"id": "not-a-uuid", "name": "Bad id", "status": "active", "email": "nobody"},
        {
            "id": _uuid(3),
            "name": "Bad hours",
            "status": "active",
            "schedules": [{"id": _uuid(4), "opens_at": "25:00", "closes_at": "26:00"}],
            "phones": [{"id": _uuid(5)}],
        },
        twin,
        {**twin, "name": "Twin with another name"},
        {"id": _uuid(6), "name": "Too young", "status": "active", "minimum_age": 30, "maximum_age": 20},
        "not an object",
    ]
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"contents": docs, "total_items": len(docs)}))
    parsed = hsds_forms.read_json_path(path)
    report = services.import_hsds_json(None, path)
    found = {(p.table, p.record_id, p.path, p.reason) for p in report.problems}
    assert found == {
        ("service", _uuid(1), "name", "is required"),
        ("service", _uuid(2), "status", "must be one of active, inactive, defunct, temporarily closed"),
        ("service", "not-a-uuid", "id", "is not a valid uuid"),
        ("service", "not-a-uuid", "email", "is not a valid email"),
        ("schedule", _uuid(4), "opens_at", "'25:00' is not a time of day (HH:MM or HH:MM:SS)"),
        ("schedule", _uuid(4), "closes_at", "'26:00' is not a time of day (HH:MM or HH:MM:SS)"),
        ("phone", _uuid(5), "number", "is required"),
        (
            "service",
            _uuid(9),
            "name",
            "the same id appears at services.json contents[5] with a different name",
        ),
        ("service", _uuid(6), "maximum_age", "is below minimum_age"),
        ("unknown", "", "", "cannot tell which HSDS record this is"),
    }
    # Each problem says where the record is in the file.
    assert {p.where for p in report.problems if p.record_id == _uuid(4)} == {
        "services.json contents[4].schedules[0]"
    }
    assert set(m.Service.objects.values_list("name", flat=True)) == {"Good Service", "Bad hours", "Twin"}
    assert unaccounted(parsed, report.problems) == []
    stored = m.ImportRejection.objects.filter(run_id=report.run_id)
    assert stored.count() == len(report.problems)
    assert report.as_dict()["rejections"][0].keys() == {"record_type", "id", "where", "path", "reason"}


def test_malformed_datapackage_rows_and_unreadable_files(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    org = _uuid(10)
    (folder / "organizations.csv").write_text(f"id,name,description\n{org},Org,An org\n")
    (folder / "services.csv").write_text(
        "id,organization_id,name,status,minimum_age\n"
        f"{_uuid(11)},{org},Fine,active,12\n"
        f"{_uuid(12)},{org},Bad age,active,twelve\n"
        f"{_uuid(13)},{_uuid(99)},Orphan,active,\n"
    )
    (folder / "phones.csv").write_text(
        f"id,service_id,number\n{_uuid(14)},{_uuid(11)},612-555-0100\n{_uuid(15)},{_uuid(13)},612-555-0101\n"
    )
    (folder / "schedules.csv").write_text(
        f"id,service_id,byday,opens_at,closes_at\n{_uuid(16)},{_uuid(11)},XX,09:00,17:00\n"
    )
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    report = services.import_hsds_datapackage(None, folder)
    found = {(p.table, p.record_id, p.where, p.path, p.reason) for p in report.problems}
    assert found == {
        ("service", _uuid(12), "services.csv row 3", "minimum_age", "'twelve' is not a number"),
        (
            "service",
            _uuid(13),
            "services.csv row 4",
            "organization_id",
            f"no organization {_uuid(99)} in this import or the directory",
        ),
        ("phone", _uuid(15), "phones.csv row 3", "service_id", f"service {_uuid(13)} was rejected"),
        (
            "schedule",
            _uuid(16),
            "schedules.csv row 2",
            "byday",
            "'XX' is not a day (MO, TU, WE, TH, FR, SA, SU, or 1MO, -1FR)",
        ),
        ("file", "", "notes.csv", "", "is not an HSDS 3.0 table; not read"),
    }
    assert list(m.Phone.objects.values_list("hsds_id", flat=True)) == [_uuid(14)]


def test_a_file_that_is_not_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"id": ')
    report = services.import_hsds_json(None, path)
    assert [(p.table, p.where) for p in report.problems] == [("file", "broken.json")]
    assert report.problems[0].reason.startswith("is not JSON")
