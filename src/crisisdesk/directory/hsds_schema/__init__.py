"""The HSDS 3.0 tables as the specification defines them (the JSON files beside this module).

`TABLES` maps each table name (e.g. "service") to a TableSpec: its CSV file name in the tabular
datapackage, its scalar columns (the flat row), the nested arrays and objects of the JSON form and
the table each holds. `row_problems` validates one flat row against the table's schema (JSON Schema
2020-12 with format checks, so malformed uuids and emails are caught) and returns every problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SPEC_VERSION = "3.0"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "string" | "number"
    format: str = ""
    datapackage_type: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    path: str  # file name in the tabular datapackage
    order: int
    columns: tuple[Column, ...]
    arrays: dict[str, str]  # JSON property -> child table
    objects: dict[str, str]  # JSON property -> referenced table (one object)
    required: tuple[str, ...]
    schema: dict[str, Any]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _load() -> dict[str, TableSpec]:
    out: dict[str, TableSpec] = {}
    folder = resources.files(__package__)
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        doc = json.loads(entry.read_text(encoding="utf-8"))
        columns, arrays, objects = [], {}, {}
        for prop, spec in doc["properties"].items():
            if spec.get("type") == "array":
                arrays[prop] = spec["items"]["$ref"].removesuffix(".json")
            elif "$ref" in spec:
                objects[prop] = spec["$ref"].removesuffix(".json")
            else:
                columns.append(
                    Column(
                        prop,
                        spec.get("type", "string"),
                        spec.get("format", ""),
                        spec.get("datapackage_type", ""),
                    )
                )
        flat = {k: v for k, v in doc.items() if k != "properties"}
        flat["properties"] = {c.name: doc["properties"][c.name] for c in columns}
        table = entry.name.removesuffix(".json")
        out[table] = TableSpec(
            name=table,
            path=doc["path"],
            order=int(doc.get("datapackage_metadata", {}).get("order", 99)),
            columns=tuple(columns),
            arrays=arrays,
            objects=objects,
            required=tuple(r for r in doc.get("required", []) if r in flat["properties"]),
            schema=flat,
        )
    return dict(sorted(out.items(), key=lambda kv: kv[1].order))


TABLES: dict[str, TableSpec] = _load()
BY_PATH: dict[str, str] = {spec.path: name for name, spec in TABLES.items()}


@cache
def _validator(table: str) -> Draft202012Validator:
    schema = dict(TABLES[table].schema)
    schema["required"] = list(TABLES[table].required)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def row_problems(table: str, row: dict[str, Any]) -> list[tuple[str, str]]:
    """Every way the flat row breaks the table's HSDS schema, as (field path, reason) pairs."""
    problems = []
    for error in sorted(_validator(table).iter_errors(row), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path, reason = missing, "is required"
        elif error.validator == "format":
            reason = f"is not a valid {error.validator_value}"
        elif error.validator == "enum":
            reason = f"must be one of {', '.join(map(str, error.validator_value))}"
        elif error.validator == "type":
            reason = f"must be of type {error.validator_value}"
        else:
            reason = error.message[:200]
        problems.append((path, reason))
    return problems
