"""The two HSDS 3.0 interchange forms and one flat form between them.

Both forms are read into *flat records*: one (table, row) per HSDS record, the row holding the
record's own fields plus the id of the record it belongs to (`service_id`, `link_id`, ...), which
is exactly the tabular (CSV datapackage) form. Nested JSON is flattened by the rules below;
export nests flat rows back. Nothing is dropped: a field the specification does not define stays
in the row (and travels as an extra column or JSON field), and a document that cannot be read at
all is reported as a Problem.

Flattening a JSON record of table P with id p:
- array property of child table C: each item is a C record; when it lacks the link to its parent
  the link is filled in: `attribute.link_id = p, link_entity = P`, `metadata.resource_id = p,
  resource_type = P`, otherwise `C.<P>_id = p` when C has that column;
- object property (service.organization, service.program, service_at_location.location,
  attribute.taxonomy_term, taxonomy_term.taxonomy_detail): one record of that table, and the
  parent's reference column (`organization_id`, ..., `taxonomy_id`) is filled in when absent.
The examples also nest `services` in an organization and `service` in a service_at_location;
both are read the same way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crisisdesk.directory.hsds_schema import BY_PATH, SPEC_VERSION, TABLES

# Nestings used by the official examples beyond the schema's own properties.
EXTRA_ARRAYS = {"organization": {"services": "service"}}
EXTRA_OBJECTS = {"service_at_location": {"service": "service"}}
# The reference column an object property fills in on its parent.
OBJECT_COLUMN = {"taxonomy_detail": "taxonomy_id"}
LIST_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}


@dataclass
class Problem:
    """One reason one record was rejected (or a file could not be read: table "file")."""

    table: str
    record_id: str
    where: str  # file and position: "services.json contents[2].phones[0]", "phones.csv row 3"
    path: str  # the field, "" for the whole record
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "record_type": self.table,
            "id": self.record_id,
            "where": self.where,
            "path": self.path,
            "reason": self.reason,
        }


@dataclass
class FlatRecord:
    table: str
    row: dict[str, Any]
    where: str
    file: str = ""  # the file (or document) it came from: a later file updates an earlier one

    @property
    def id(self) -> str:
        return str(self.row.get("id") or "")


@dataclass
class Parsed:
    records: list[FlatRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# --- JSON -------------------------------------------------------------------------------------


def _link(child: str, parent: str, parent_id: Any) -> dict[str, Any]:
    if child == "attribute":
        return {"link_id": parent_id, "link_entity": parent}
    if child == "metadata":
        return {"resource_id": parent_id, "resource_type": parent}
    column = f"{parent}_id"
    return {column: parent_id} if TABLES[child].column(column) else {}


def flatten(doc: Any, table: str, where: str, out: Parsed, file: str = "") -> None:
    """Append the flat records of one JSON record of `table` (and everything nested in it) to `out`."""
    if not isinstance(doc, dict):
        out.problems.append(Problem(table, "", where, "", "is not a JSON object"))
        return
    spec = TABLES[table]
    arrays = {**spec.arrays, **EXTRA_ARRAYS.get(table, {})}
    objects = {**spec.objects, **EXTRA_OBJECTS.get(table, {})}
    row: dict[str, Any] = {}
    nested: list[tuple[str, str, Any, str]] = []  # (child table, property, value, kind)
    for key, value in doc.items():
        if key in arrays and value is not None:
            nested.append((arrays[key], key, value, "array"))
        elif key in objects and value is not None:
            nested.append((objects[key], key, value, "object"))
        else:
            row[key] = value
    record_id = row.get("id")
    for child, key, value, kind in nested:
        if kind == "object":
            if not isinstance(value, dict):
                out.problems.append(Problem(table, str(record_id or ""), where, key, "must be an object"))
                continue
            column = OBJECT_COLUMN.get(key, f"{key}_id")
            if value.get("id") is not None and row.get(column) in (None, ""):
                row[column] = value["id"]
            if value.get("id") is None:
                out.problems.append(Problem(child, "", f"{where}.{key}", "id", "is required"))
                continue
            flatten(value, child, f"{where}.{key}", out, file)
            continue
        if not isinstance(value, list):
            out.problems.append(Problem(table, str(record_id or ""), where, key, "must be an array"))
            continue
        for i, item in enumerate(value):
            if isinstance(item, dict) and record_id is not None:
                for col, linked in _link(child, table, record_id).items():
                    if item.get(col) in (None, ""):
                        item = {**item, col: linked}
            flatten(item, child, f"{where}.{key}[{i}]", out, file)
    out.records.append(FlatRecord(table, row, where, file))


def detect_table(doc: dict[str, Any], hint: str = "") -> str | None:
    """Which HSDS table a bare JSON object is (the file name, e.g. `services.json`, wins)."""
    stem = Path(hint).stem.lower()
    for name in sorted(TABLES, key=len, reverse=True):  # "service_at_location_full" before "service"
        if stem in (name, TABLES[name].path.removesuffix(".csv")) or stem.startswith(name + "_"):
            return name
    if "status" in doc or "service_at_locations" in doc:
        return "service"
    if "location_type" in doc:
        return "location"
    if "service" in doc and "location" in doc or "location_id" in doc and "service_id" in doc:
        return "service_at_location"
    if "term_uri" in doc or "taxonomy_detail" in doc or "code" in doc:
        return "taxonomy_term"
    if {"name", "description"} <= doc.keys() and (
        "website" in doc or "services" in doc or "locations" in doc
    ):
        return "organization"
    return None


def read_json(text: str, name: str, out: Parsed) -> None:
    """One JSON file: a record, a list page (`contents`), an array, or our export's bundle."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        out.problems.append(Problem("file", "", name, "", f"is not JSON: {exc.msg} at line {exc.lineno}"))
        return
    items: list[tuple[Any, str]]
    if isinstance(doc, dict) and "contents" in doc and doc.keys() <= LIST_KEYS:
        items = [(x, f"{name} contents[{i}]") for i, x in enumerate(doc.get("contents") or [])]
    elif isinstance(doc, list):
        items = [(x, f"{name} [{i}]") for i, x in enumerate(doc)]
    else:
        items = [(doc, name)]
    for item, where in items:
        table = detect_table(item, name) if isinstance(item, dict) else None
        if table is None:
            out.problems.append(
                Problem("unknown", _id(item), where, "", "cannot tell which HSDS record this is")
            )
            continue
        flatten(item, table, where, out, name)


def read_json_path(path: Path) -> Parsed:
    out = Parsed()
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for file in files:
        if file.name in ("base.json", "datapackage.json"):
            continue
        read_json(file.read_text(encoding="utf-8"), file.name, out)
    return out


def _id(item: Any) -> str:
    return str(item.get("id") or "") if isinstance(item, dict) else ""


# --- tabular (CSV datapackage) ------------------------------------------------------------------


def _convert(table: str, column: str, raw: str) -> Any:
    spec = TABLES[table].column(column)
    if spec is not None and spec.type == "number":
        number = float(raw)  # ValueError is reported by the caller
        return int(number) if number.is_integer() else number
    return raw


def read_csv(text: str, table: str, name: str, out: Parsed) -> None:
    reader = csv.DictReader(io.StringIO(text))
    for line, raw in enumerate(reader, start=2):
        where = f"{name} row {line}"
        row: dict[str, Any] = {}
        bad = False
        for column, value in raw.items():
            if column is None or value in (None, ""):
                continue
            try:
                row[column] = _convert(table, column, value)
            except ValueError:
                out.problems.append(
                    Problem(table, raw.get("id") or "", where, column, f"'{value}' is not a number")
                )
                bad = True
        if not bad:
            out.records.append(FlatRecord(table, row, where, name))


def read_datapackage(folder: Path) -> Parsed:
    """Every CSV of the package: the resources datapackage.json lists, else the HSDS file names."""
    out = Parsed()
    paths: list[tuple[str, Path]] = []
    descriptor = folder / "datapackage.json"
    listed: list[dict[str, Any]] = []
    if descriptor.exists():
        try:
            listed = json.loads(descriptor.read_text(encoding="utf-8")).get("resources") or []
        except (json.JSONDecodeError, AttributeError):
            listed = []  # a placeholder descriptor: fall back to the file names the spec defines
    for resource in listed:
        rel = str(resource.get("path") or "")
        table = resource.get("name") if resource.get("name") in TABLES else BY_PATH.get(Path(rel).name)
        if table is None:
            out.problems.append(Problem("file", "", rel or "?", "", "is not an HSDS 3.0 table"))
            continue
        paths.append((str(table), folder / rel))
    if not listed:
        paths = [(BY_PATH.get(f.name, "file"), f) for f in sorted(folder.glob("*.csv"))]
    for table, file in sorted(paths, key=lambda tf: TABLES[tf[0]].order if tf[0] in TABLES else 99):
        if table == "file":
            out.problems.append(Problem("file", "", file.name, "", "is not an HSDS 3.0 table; not read"))
        elif not file.exists():
            out.problems.append(
                Problem("file", "", file.name, "", "is listed in datapackage.json but missing")
            )
        else:
            read_csv(file.read_text(encoding="utf-8-sig"), table, file.name, out)
    return out


def write_datapackage(folder: Path, tables: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """One CSV per HSDS table (spec columns first, then any extra ones) and a datapackage.json."""
    folder.mkdir(parents=True, exist_ok=True)
    written, resources = [], []
    for name, spec in TABLES.items():
        rows = tables.get(name, [])
        columns = list(spec.column_names)
        columns += sorted({k for r in rows for k in r} - set(columns))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
        target = folder / spec.path
        target.write_text(buffer.getvalue(), encoding="utf-8")
        written.append(target)
        fields = []
        for column in columns:
            col = spec.column(column)
            kind = col.datapackage_type or (col.type if col else "string") if col else "string"
            fields.append(
                {"name": column, "type": kind, **({"format": col.format} if col and col.format else {})}
            )
        resources.append(
            {
                "name": name,
                "path": spec.path,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "schema": {"fields": fields, "primaryKey": "id"},
            }
        )
    descriptor = {
        "name": "hsds",
        "profile": "tabular-data-package",
        "hsds_version": SPEC_VERSION,
        "resources": resources,
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    return [*written, folder / "datapackage.json"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- nesting for the JSON export ----------------------------------------------------------------


class Index:
    """Flat rows by table and by the id of the record they belong to, for nesting."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]]):
        self.by_id = {t: {str(r["id"]): r for r in rows} for t, rows in tables.items()}
        self.children: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for table, rows in tables.items():
            for row in rows:
                for column in self._link_columns(table):
                    if row.get(column):
                        self.children.setdefault((table, column, str(row[column])), []).append(row)

    @staticmethod
    def _link_columns(table: str) -> Iterable[str]:
        if table == "attribute":
            return ("link_id",)
        if table == "metadata":
            return ("resource_id",)
        return [c for c in TABLES[table].column_names if c.endswith("_id") and c != "id"]

    def children_of(self, child: str, parent: str, parent_id: str) -> list[dict[str, Any]]:
        if child == "attribute":
            return self.children.get((child, "link_id", parent_id), [])
        if child == "metadata":
            return self.children.get((child, "resource_id", parent_id), [])
        return self.children.get((child, f"{parent}_id", parent_id), [])


def nest(table: str, row: dict[str, Any], index: Index, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The JSON form of one flat row: its children nested under the spec's array properties."""
    doc = dict(row)
    spec = TABLES[table]
    for prop, child in spec.arrays.items():
        if prop in skip:
            continue
        kids = index.children_of(child, table, str(row["id"]))
        if kids:
            doc[prop] = [nest(child, k, index) for k in kids]
    for prop, target in spec.objects.items():
        if prop in skip:
            continue
        ref = row.get(OBJECT_COLUMN.get(prop, f"{prop}_id"))
        found = index.by_id.get(target, {}).get(str(ref)) if ref else None
        if found is not None:
            # The referenced organization / program is given by its own fields only; its children
            # are exported under it in organizations.json, not repeated in every service.
            deep = target in ("location", "taxonomy_term", "taxonomy")
            doc[prop] = nest(target, found, index) if deep else dict(found)
    return doc


def iter_list_page(items: list[dict[str, Any]]) -> Iterator[tuple[str, Any]]:
    """The HSDS API list envelope around `items` (one page holding everything)."""
    yield from {
        "total_items": len(items),
        "total_pages": 1,
        "page_number": 1,
        "size": len(items),
        "first_page": True,
        "last_page": True,
        "empty": not items,
        "contents": items,
    }.items()
