"""Import and export of the directory in the HSDS 3.0 forms (the write path for bulk changes).

An import is one durable transaction: every accepted record is written (created, or updated by its
HSDS id), the search tags of every service it touched are rebuilt, and the ImportRun with one
ImportRejection per problem and the audit row are written with it. Nothing is deleted by an
import: a service that is withdrawn is re-imported with status "defunct" (referrals point at it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import models, transaction

from crisisdesk.audit.services import record
from crisisdesk.directory import hsds, hsds_forms
from crisisdesk.directory import models as m
from crisisdesk.directory.hsds_forms import FlatRecord, Parsed, Problem
from crisisdesk.directory.services.tags import rebuild_tags
from crisisdesk.directory.vocab import TAXONOMY_ID, TAXONOMY_NAME, parse_code

CHUNK = 900  # ids per query: under SQLite's old limit of 999 variables


@dataclass
class ImportReport:
    """What one import did: records written per table, and every rejected record with its reason."""

    run_id: int | None
    format: str
    source: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def rejected_records(self) -> int:
        return len({(p.table, p.record_id, p.where) for p in self.problems})

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "format": self.format,
            "source": self.source,
            "created": self.created,
            "updated": self.updated,
            "rejected_records": self.rejected_records,
            "rejections": [p.as_dict() for p in self.problems],
        }

    def text(self) -> str:
        lines = [
            f"import {self.run_id} ({self.format}) of {self.source}",
            "created: " + (", ".join(f"{t} {n}" for t, n in self.created.items()) or "nothing"),
            "updated: " + (", ".join(f"{t} {n}" for t, n in self.updated.items()) or "nothing"),
            f"rejected records: {self.rejected_records}",
        ]
        lines += [
            f"  REJECTED {p.table} {p.record_id or '(no id)'} at {p.where}: "
            + (f"{p.path} " if p.path else "")
            + p.reason
            for p in self.problems
        ]
        return "\n".join(lines)


def import_hsds_json(actor: Any, path: Path) -> ImportReport:
    """Import an HSDS 3.0 JSON file (a record, a list page, an array) or a folder of JSON files."""
    return import_parsed(actor, hsds_forms.read_json_path(path), fmt="json", source=str(path))


def import_hsds_datapackage(actor: Any, folder: Path) -> ImportReport:
    """Import an HSDS 3.0 tabular datapackage (a folder of CSV files, datapackage.json optional)."""
    return import_parsed(actor, hsds_forms.read_datapackage(folder), fmt="datapackage", source=str(folder))


def import_hsds_documents(
    actor: Any, docs: Iterable[tuple[str, dict[str, Any]]], *, source: str
) -> ImportReport:
    """Import JSON records already in memory as (table, document) pairs (the demo directory)."""
    parsed = Parsed()
    for i, (table, doc) in enumerate(docs):
        hsds_forms.flatten(doc, table, f"{source}[{i}]", parsed)
    return import_parsed(actor, parsed, fmt="json", source=source)


def import_parsed(actor: Any, parsed: Parsed, *, fmt: str, source: str) -> ImportReport:
    now = datetime.now(UTC)
    report = ImportReport(None, fmt, source)
    with transaction.atomic(durable=True):
        accepted, report.problems = hsds.check(parsed, _existing)
        touched = _write(accepted, now, report)
        rebuild_tags(touched)
        run = m.ImportRun.objects.create(
            started_at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            format=fmt,
            source=source[:500],
            counts={"created": report.created, "updated": report.updated},
            rejected_count=report.rejected_records,
        )
        m.ImportRejection.objects.bulk_create(
            [
                m.ImportRejection(
                    run=run,
                    record_type=p.table[:64],
                    record_id=p.record_id[:128],
                    location=p.where[:255],
                    path=p.path[:255],
                    reason=p.reason,
                )
                for p in report.problems
            ],
            batch_size=500,
        )
        report.run_id = run.pk
        record(
            actor,
            "directory.import",
            run,
            details={"format": fmt, **run.counts, "rejected_records": report.rejected_records},
        )
    return report


def _existing(table: str, ids: set[str]) -> set[str]:
    mapping = hsds.MAPPINGS.get(table)
    found: set[str] = set()
    for chunk in _chunks(sorted(ids)):
        if mapping is not None:
            qs = mapping.model.objects.filter(hsds_id__in=chunk)  # type: ignore[attr-defined]
        else:
            qs = m.OtherRecord.objects.filter(table=table, hsds_id__in=chunk)
        found.update(qs.values_list("hsds_id", flat=True))
    return found


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _pk_map(model: type[models.Model], ids: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(sorted(set(ids))):
        out.update(model.objects.filter(hsds_id__in=chunk).values_list("hsds_id", "pk"))  # type: ignore[attr-defined]
    return out


def _write(accepted: list[FlatRecord], now: datetime, report: ImportReport) -> set[int]:
    """Upsert every accepted record, table by table; returns the pks of services whose tags change."""
    touched_services: set[str] = set()
    touched_locations: set[str] = set()
    by_table: dict[str, list[FlatRecord]] = {}
    for rec in accepted:
        by_table.setdefault(rec.table, []).append(rec)
    for table in hsds.ORDER:
        batch = by_table.get(table, [])
        if not batch:
            continue
        if table not in hsds.MAPPINGS:
            _write_other(table, batch, now, report)
            continue
        _write_table(table, batch, now, report)
        for rec in batch:
            row = rec.row
            if table == "service":
                touched_services.add(rec.id)
            for column in ("service_id", "link_id"):
                if row.get(column):
                    touched_services.add(str(row[column]))
            if table in ("location", "language", "service_at_location") and row.get(
                "location_id" if table != "location" else "id"
            ):
                touched_locations.add(str(row.get("location_id") or row["id"]))
            if table == "language" and row.get("phone_id"):
                touched_services.update(
                    m.Phone.objects.filter(hsds_id=row["phone_id"], service__isnull=False).values_list(
                        "service__hsds_id", flat=True
                    )
                )
    pks = set(_pk_map(m.Service, touched_services).values())
    for chunk in _chunks(sorted(touched_locations)):
        pks.update(
            m.ServiceAtLocation.objects.filter(location__hsds_id__in=chunk).values_list(
                "service_id", flat=True
            )
        )
    return pks


def _write_table(table: str, batch: list[FlatRecord], now: datetime, report: ImportReport) -> None:
    mapping = hsds.MAPPINGS[table]
    model = mapping.model
    targets: dict[str, set[str]] = {}
    prepared = []
    for rec in batch:
        values, links, extra = hsds.row_values(table, rec.row)
        for fk, target_id in links.items():
            targets.setdefault(fk, set()).add(target_id)
        prepared.append((rec, values, links, extra))
    fk_table = dict(mapping.links.values())
    pk_maps = {fk: _pk_map(hsds.MAPPINGS[fk_table[fk]].model, ids) for fk, ids in targets.items()}
    service_pks = (
        _pk_map(m.Service, {r.row["link_id"] for r in batch if r.row.get("link_id")})
        if table == "attribute"
        else {}
    )
    existing = _pk_map(model, [r.id for r in batch])
    has_position = any(f.name == "position" for f in model._meta.fields)
    siblings: dict[tuple[str, ...], int] = {}
    new, old = [], []
    for rec, values, links, extra in prepared:
        obj = model(hsds_id=rec.id, extra=extra, updated_at=now, **values)
        for fk_field, _target in mapping.links.values():
            setattr(obj, f"{fk_field}_id", pk_maps.get(fk_field, {}).get(links.get(fk_field, "")))
        if has_position:
            parent = tuple(sorted(links.values())) or (str(rec.row.get("link_id", "")),)
            obj.position = siblings.get(parent, 0)  # type: ignore[attr-defined]
            siblings[parent] = obj.position + 1  # type: ignore[attr-defined]
        if table == "attribute":
            obj.service_id = service_pks.get(str(rec.row.get("link_id", "")))  # type: ignore[attr-defined]
        if table == "taxonomy_term":
            _map_term(obj, rec.row)
        if rec.id in existing:
            obj.pk = existing[rec.id]
            old.append(obj)
        else:
            new.append(obj)
    model.objects.bulk_create(new, batch_size=500)  # type: ignore[attr-defined]
    fields = ["extra", "updated_at", *(f for f, _ in mapping.fields.values())]
    fields += [f"{fk}_id" for fk, _ in mapping.links.values()]
    if has_position:
        fields.append("position")
    if table == "attribute":
        fields.append("service_id")
    if table == "taxonomy_term":
        ours = [o for o in old if o.tag_kind]  # type: ignore[attr-defined]
        model.objects.bulk_update(ours, ["tag_kind", "tag_value"], batch_size=500)  # type: ignore[attr-defined]
    if old:
        model.objects.bulk_update(old, fields, batch_size=500)  # type: ignore[attr-defined]
    if new:
        report.created[table] = report.created.get(table, 0) + len(new)
    if old:
        report.updated[table] = report.updated.get(table, 0) + len(old)


def _map_term(term: Any, row: dict[str, Any]) -> None:
    """Terms of the Crisis Desk taxonomy carry their search tag in their code (`need:food`)."""
    if row.get("taxonomy_id") == TAXONOMY_ID or row.get("taxonomy") == TAXONOMY_NAME:
        parsed = parse_code(str(row.get("code", "")))
        if parsed is not None:
            term.tag_kind, term.tag_value = parsed


def _write_other(table: str, batch: list[FlatRecord], now: datetime, report: ImportReport) -> None:
    existing = dict(
        m.OtherRecord.objects.filter(table=table, hsds_id__in=[r.id for r in batch]).values_list(
            "hsds_id", "pk"
        )
    )
    new = [
        m.OtherRecord(table=table, hsds_id=r.id, data=r.row, updated_at=now)
        for r in batch
        if r.id not in existing
    ]
    old = [
        m.OtherRecord(pk=existing[r.id], table=table, hsds_id=r.id, data=r.row, updated_at=now)
        for r in batch
        if r.id in existing
    ]
    m.OtherRecord.objects.bulk_create(new, batch_size=500)
    m.OtherRecord.objects.bulk_update(old, ["data", "updated_at"], batch_size=500)
    if new:
        report.created[table] = report.created.get(table, 0) + len(new)
    if old:
        report.updated[table] = report.updated.get(table, 0) + len(old)


# --- export -------------------------------------------------------------------------------------


def export_json(actor: Any, folder: Path) -> list[Path]:
    """Write the directory as HSDS 3.0 JSON list pages: services.json (service_full with
    organization, service_at_locations and locations nested), organizations.json (with their
    children), taxonomy_terms.json, and one <table>.json for records nested in none of those."""
    tables = hsds.flat_tables()
    index = hsds_forms.Index(tables)
    docs = {
        "services.json": [hsds_forms.nest("service", r, index) for r in tables.get("service", [])],
        "organizations.json": [
            hsds_forms.nest("organization", r, index) for r in tables.get("organization", [])
        ],
        "taxonomy_terms.json": [
            hsds_forms.nest("taxonomy_term", r, index) for r in tables.get("taxonomy_term", [])
        ],
    }
    covered = Parsed()
    for name, items in docs.items():
        for item in items:
            hsds_forms.flatten(item, hsds_forms.detect_table(item, name) or "", name, covered)
    seen = {(r.table, r.id) for r in covered.records}
    for table, rows in tables.items():
        left = [r for r in rows if (table, str(r["id"])) not in seen]
        if left:
            docs[f"{hsds_forms.TABLES[table].path.removesuffix('.csv')}.json"] = left
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, items in docs.items():
        target = folder / name
        target.write_text(
            json.dumps(dict(hsds_forms.iter_list_page(items)), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        written.append(target)
    _audit_export(actor, "json", folder, tables)
    return written


def export_datapackage(actor: Any, folder: Path) -> list[Path]:
    """Write the directory as an HSDS 3.0 tabular datapackage (one CSV per table + datapackage.json)."""
    tables = hsds.flat_tables()
    written = hsds_forms.write_datapackage(folder, tables)
    _audit_export(actor, "datapackage", folder, tables)
    return written


def _audit_export(actor: Any, fmt: str, folder: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    with transaction.atomic(durable=True):
        record(
            actor,
            "directory.export",
            object_type="directory",
            details={
                "format": fmt,
                "target": str(folder),
                "records": {t: len(r) for t, r in tables.items() if r},
            },
        )
