"""What may leave the system in an export: the column allow-list, identifier patterns, date
coarsening and CSV cell neutralisation (docs/deidentification.md).

- `check_columns`: every column of an export must be on the policy's allow-list
  (disclosure_policy.yaml) at the export's level (`row` or `aggregate`); anything else is refused
  with the Safe Harbor identifier kind it would be. A neighbourhood (a geographic subdivision smaller
  than a state) is allowed only as a dimension of suppressed counts, never on a row.
- `scan_cells`: string cells are scanned for telephone numbers, e-mail addresses, IP addresses and
  URLs (free text is not exported at all, so this catches a name or label that carries one).
- `coarsen`: the date grain of exports (CRISISDESK_EXPORT_DATE_GRAIN). Safe Harbor allows only the
  year; quarter, month and week need Expert Determination or a limited data set with a data use
  agreement (reliability-security.md §1.2).
- `neutralise` / `write_csv`: the one CSV writer; a cell that a spreadsheet would run as a formula
  (starting with = + - @, tab or carriage return) is prefixed with a single quote.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

import yaml

POLICY_PATH = Path(__file__).with_name("disclosure_policy.yaml")
GRAINS = ("year", "quarter", "month", "week")
SAFE_HARBOR_GRAINS = frozenset({"year"})
Level = Literal["row", "aggregate"]


class ExportRefused(ValueError):
    """An export would carry an identifier; `problems` says which column or cell and why."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("export refused: " + "; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class ColumnRule:
    levels: frozenset[str]
    identifier: int | None
    coarsened: bool = False


@dataclass(frozen=True)
class Policy:
    version: str
    small_cell_max: int
    identifiers: Mapping[int, str]
    columns: Mapping[str, ColumnRule]


def parse_policy(doc: Mapping[str, Any]) -> Policy:
    """Validate a policy document: 18 identifier kinds, known levels, identifier kinds that exist."""
    identifiers = {int(k): str(v) for k, v in doc["identifiers"].items()}
    if sorted(identifiers) != list(range(1, 19)):
        raise ValueError("the policy must list the 18 Safe Harbor identifier kinds")
    columns = {}
    for name, rule in doc["columns"].items():
        levels = frozenset(rule.get("levels", []))
        if not levels <= {"row", "aggregate"}:
            raise ValueError(f"column {name}: unknown level in {sorted(levels)}")
        kind = rule.get("identifier")
        if kind is not None and kind not in identifiers:
            raise ValueError(f"column {name}: no identifier kind {kind}")
        if kind is not None and levels and not (rule.get("coarsened") or levels == {"aggregate"}):
            raise ValueError(f"column {name}: an identifier may only be exported coarsened or aggregated")
        columns[str(name)] = ColumnRule(levels, kind, bool(rule.get("coarsened")))
    small = int(doc["small_cell_max"])
    if small < 10:
        raise ValueError("small_cell_max below 10 is weaker than the CMS policy")
    return Policy(str(doc["version"]), small, identifiers, columns)


@cache
def policy() -> Policy:
    return parse_policy(yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8")))


def check_columns(columns: Iterable[str], level: Level, pol: Policy | None = None) -> None:
    """Raise ExportRefused unless every column is allowed at this level."""
    pol = pol or policy()
    problems = []
    for name in columns:
        rule = pol.columns.get(name)
        if rule is None:
            problems.append(f"column {name!r} is not on the export allow-list")
        elif level not in rule.levels:
            where = "a row-level" if level == "row" else "an aggregate"
            kind = ""
            if rule.identifier is not None:
                kind = f" (Safe Harbor identifier {rule.identifier}: {pol.identifiers[rule.identifier]})"
            problems.append(f"column {name!r} may not appear in {where} export{kind}")
    if problems:
        raise ExportRefused(problems)


# RE2-compatible patterns (DESIGN.md: the same regexes work in DuckDB and Spark).
PATTERNS: dict[str, re.Pattern[str]] = {
    "telephone number": re.compile(r"(?:\+?1[\s.\-]?)?\(?\b\d{3}\)?[\s.\-]?\d{3}[\s.\-]?\d{4}\b"),
    "e-mail address": re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),
    "IP address": re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{0,4}\b"),
    "URL": re.compile(r"(?i)\b(?:https?://|ftp://|www\.)\S+"),
}


def scan_cells(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None) -> list[str]:
    """Where a string cell looks like a telephone number, e-mail address, IP address or URL."""
    hits = []
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if not isinstance(value, str):
                continue
            for kind, pattern in PATTERNS.items():
                if pattern.search(value):
                    col = header[j] if header else str(j)
                    hits.append(f"row {i}, column {col!r}: looks like a {kind}")
    return hits


def coarsen(at: datetime, grain: str, tz: ZoneInfo) -> str:
    """The label of the period of the local date of `at`: 2026, 2026-Q4, 2026-11 or 2026-W45."""
    if at.tzinfo is None:
        raise ValueError("a naive datetime cannot be coarsened: its local date is unknown")
    local = at.astimezone(tz)
    if grain == "year":
        return f"{local.year:04d}"
    if grain == "quarter":
        return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"
    if grain == "month":
        return f"{local.year:04d}-{local.month:02d}"
    if grain == "week":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    raise ValueError(f"unknown date grain {grain!r}; one of {', '.join(GRAINS)}")


def periods(start: datetime, end: datetime, grain: str, tz: ZoneInfo) -> list[str]:
    """Every period label that [start, end) touches, in order (empty periods included)."""
    labels: list[str] = []
    day = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    while day <= last:
        label = coarsen(datetime(day.year, day.month, day.day, 12, tzinfo=tz), grain, tz)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    return labels


def is_safe_harbor_grain(grain: str) -> bool:
    return grain in SAFE_HARBOR_GRAINS


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """A cell as text a spreadsheet shows but never evaluates (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """The one CSV writer for exports: every cell, header included, goes through `neutralise`."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    n = 0
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
        n += 1
    return n
