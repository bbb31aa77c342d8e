"""Test helpers for the directory: the official HSDS example with its known defects corrected,
wiping the directory between the two halves of a round trip, and small listings."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

from crisisdesk.directory import models as m
from crisisdesk.directory.hsds_forms import Parsed

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "hsds-3.0"
JSON_EXAMPLES = (
    "service_full.json",
    "organization_full.json",
    "service_at_location_full.json",
    "location.json",
    "taxonomy_term.json",
)
ORG = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
SAL = "e94c9f38-1e8f-4564-91d4-d53501ab1765"
TAXONOMY = "5c4d79d7-cc55-470e-9f1f-8cad074e4892"


def _fix_coordinates(node: Any) -> Any:
    """The official example gives latitude 100 / longitude 101 (out of range); use a real point."""
    if isinstance(node, dict):
        out = {k: _fix_coordinates(v) for k, v in node.items()}
        if out.get("latitude") == 100:
            out["latitude"], out["longitude"] = 52.2053, 0.1218
        return out
    if isinstance(node, list):
        return [_fix_coordinates(v) for v in node]
    return node


def corrected_json(folder: Path) -> Path:
    """The official JSON examples with the coordinates corrected (nothing else changed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in JSON_EXAMPLES:
        doc = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
        (folder / name).write_text(json.dumps(_fix_coordinates(doc)), encoding="utf-8")
    return folder


def corrected_datapackage(folder: Path) -> Path:
    """The official CSV datapackage with its dangling ids pointed at the records it does contain."""
    shutil.copytree(EXAMPLES / "csv", folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    fixes = {
        "locations.csv": {"latitude": "52.2053", "longitude": "0.1218", "organization_id": ORG},
        "contacts.csv": {"organization_id": ORG, "service_at_location_id": SAL},
        "taxonomy_terms.csv": {"taxonomy_id": TAXONOMY},
    }
    for name, values in fixes.items():
        rows = list(csv.DictReader((folder / name).open(encoding="utf-8")))
        for row in rows:
            row.update(values)
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def wipe_directory() -> None:
    """Delete every directory row (tests only: the product never deletes services)."""
    for model in (
        m.ImportRejection,
        m.ImportRun,
        m.ServiceTag,
        m.Attribute,
        m.Schedule,
        m.Language,
        m.Phone,
        m.Contact,
        m.Address,
        m.ServiceAtLocation,
        m.Service,
        m.Location,
        m.Organization,
        m.TaxonomyTerm,
        m.Taxonomy,
        m.OtherRecord,
    ):
        model.objects.all().delete()  # type: ignore[attr-defined]


def unaccounted(parsed: Parsed, problems: list[Any]) -> list[str]:
    """Records of `parsed` that are neither in the directory nor reported: must be empty."""
    from crisisdesk.directory import hsds

    # A record nested in several places (same id) is one record: reported once, at its first place.
    reported = {(p.table, p.record_id) if p.record_id else (p.table, p.where) for p in problems}
    missing = []
    for rec in parsed.records:
        mapping = hsds.MAPPINGS.get(rec.table)
        if mapping is not None:
            stored = mapping.model.objects.filter(hsds_id=rec.id).exists()  # type: ignore[attr-defined]
        else:
            stored = m.OtherRecord.objects.filter(table=rec.table, hsds_id=rec.id).exists()
        key = (rec.table, rec.id) if rec.id else (rec.table, rec.where)
        if not stored and key not in reported:
            missing.append(f"{rec.table} {rec.id} at {rec.where}")
    return missing
