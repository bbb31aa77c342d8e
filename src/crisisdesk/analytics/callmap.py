"""Call-type maps: how one 911 center's CAD call types relate to APCO types and to the program.

A call-type map is protocol data for analytics: for each call type of a CAD (its code as the CAD
writes it, and its description where known) the APCO 2012 common incident type and the
behavioural-health class. It is suggested by `crisisdesk callmap suggest`, reviewed by a person and
saved as YAML under `protocols/callmaps/`. The import stores the class of every call as a column, so
the analysis never re-classifies.

File format (YAML)::

    center: san_diego
    version: "2026-11-25.1"
    reviewed_by: "who reviewed it, and how"
    call_types:
      - {code: "5150", text: "MENTALLY ILL PERSON", apco: EDP, class: in_scope,
         confidence: 0.93, evidence: "...", status: reviewed, count: 597}

``count`` (optional) is the number of calls of that type in the vocabulary the map was made from;
other top-level keys (``status``, ``source``, ``method``) are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

CALLMAP_DIR = Path(__file__).resolve().parents[1] / "protocols" / "callmaps"


class BhClass(StrEnum):
    """Behavioural-health class of a call type, from the social worker program's point of view."""

    IN_SCOPE = "in_scope"  # the program's calls (mental health, substance use, welfare concern)
    CONDITIONAL = "conditional"  # sometimes the program's: screening decides (e.g. welfare check)
    NOT_IN_SCOPE = "not_in_scope"  # police / fire / EMS business as usual
    EMERGENCY_ONLY = "emergency_only"  # weapons, violence in progress: never the social worker
    UNKNOWN = "unknown"  # a call type the map does not know (counted, never guessed)


ELIGIBLE_CLASSES = frozenset({BhClass.IN_SCOPE, BhClass.CONDITIONAL})


_TOP_LEVEL = frozenset({"center", "version", "reviewed_by", "call_types"})


class CallMapError(ValueError):
    """A call-type map file that cannot be used; the message lists every problem."""


@dataclass(frozen=True)
class CallTypeEntry:
    code: str
    text: str
    apco: str
    bh_class: BhClass
    confidence: float = 1.0
    evidence: str = ""
    status: str = "reviewed"  # suggested | reviewed
    count: int = 0  # calls of this type in the vocabulary the map was made from (0: not known)


@dataclass(frozen=True)
class CallMap:
    center: str
    version: str
    entries: dict[str, CallTypeEntry]
    reviewed_by: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def key(code: str) -> str:
        """Codes match after trimming and upper-casing: CAD exports differ in case and padding."""
        return code.strip().upper()

    def classify(self, code: str | None) -> tuple[str, BhClass]:
        """(APCO type, class) of a call type; unknown codes are UNKNOWN with an empty APCO type."""
        entry = self.entries.get(self.key(code or ""))
        if entry is None:
            return "", BhClass.UNKNOWN
        return entry.apco, entry.bh_class


def parse_call_map(doc: Any, *, where: str = "call map") -> CallMap:
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise CallMapError(f"{where}: expected a mapping at the top level")
    rows = doc.get("call_types")
    if not isinstance(rows, list):
        raise CallMapError(f"{where}: call_types must be a list")
    entries: dict[str, CallTypeEntry] = {}
    for i, row in enumerate(rows):
        at = f"{where}: call_types[{i}]"
        if not isinstance(row, dict) or not str(row.get("code", "")).strip():
            problems.append(f"{at}: needs a code")
            continue
        try:
            bh_class = BhClass(str(row.get("class")))
        except ValueError:
            problems.append(f"{at}.class: {row.get('class')!r} must be one of {[c.value for c in BhClass]}")
            continue
        key = CallMap.key(str(row["code"]))
        if key in entries:
            problems.append(f"{at}: code {key!r} appears twice")
            continue
        entries[key] = CallTypeEntry(
            code=str(row["code"]).strip(),
            text=str(row.get("text") or ""),
            apco=str(row.get("apco") or ""),
            bh_class=bh_class,
            confidence=float(row.get("confidence", 1.0)),
            evidence=str(row.get("evidence") or ""),
            status=str(row.get("status") or "reviewed"),
            count=int(row.get("count") or 0),
        )
    if problems:
        raise CallMapError("; ".join(problems))
    return CallMap(
        center=str(doc.get("center") or ""),
        version=str(doc.get("version") or ""),
        entries=entries,
        reviewed_by=str(doc.get("reviewed_by") or ""),
        # Other top-level keys (status, source, method ...) are kept and written back unchanged.
        extra={k: v for k, v in doc.items() if k not in _TOP_LEVEL},
    )


def load_call_map(path: str | Path) -> CallMap:
    """A map by file path, or by center name from the shipped maps (`san_diego`)."""
    p = Path(path)
    if not p.suffix and not p.exists():
        p = CALLMAP_DIR / f"{p.name}.yaml"
    with open(p, encoding="utf-8") as fh:
        return parse_call_map(yaml.safe_load(fh), where=str(p))


def dump_call_map(call_map: CallMap) -> str:
    rows: list[dict[str, Any]] = []
    for e in sorted(call_map.entries.values(), key=lambda e: e.code):
        row: dict[str, Any] = {
            "code": e.code,
            "text": e.text,
            "apco": e.apco,
            "class": e.bh_class.value,
            "confidence": round(e.confidence, 3),
            "evidence": e.evidence,
            "status": e.status,
        }
        if e.count:
            row["count"] = e.count
        rows.append(row)
    doc: dict[str, Any] = {
        "center": call_map.center,
        "version": call_map.version,
        "reviewed_by": call_map.reviewed_by,
    }
    doc.update({k: v for k, v in call_map.extra.items() if k not in _TOP_LEVEL})
    doc["call_types"] = rows
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)


def to_protocol_call_types(call_map: CallMap, *, include_suggested: bool = False) -> list[dict[str, str]]:
    """The map as the `call_types` section of a protocol YAML (name, apco, scope, note).

    The name is the code as the CAD sends it. ``conditional`` becomes ``in_scope`` with a note that
    screening decides (the protocol's screening questions are what make it conditional); ``unknown``
    entries are left out, so the triage treats them as ``call_type_unknown``, as it does any name the
    protocol does not list. Suggested (unreviewed) entries are refused unless asked for: a protocol
    is policy, and a suggestion is not.
    """
    pending = sorted(e.code for e in call_map.entries.values() if e.status != "reviewed")
    if pending and not include_suggested:
        more = " ..." if len(pending) > 10 else ""
        raise CallMapError(f"{len(pending)} entries are not reviewed: {', '.join(pending[:10])}{more}")
    rows: list[dict[str, str]] = []
    for e in sorted(call_map.entries.values(), key=lambda e: (-e.count, e.code)):
        if e.bh_class is BhClass.UNKNOWN:
            continue
        if not e.apco:
            raise CallMapError(f"{e.code}: an APCO type is needed for class {e.bh_class.value}")
        notes = [e.text] if e.text and CallMap.key(e.text) != CallMap.key(e.code) else []
        scope = e.bh_class.value
        if e.bh_class is BhClass.CONDITIONAL:
            scope = BhClass.IN_SCOPE.value
            notes.append("Conditional: in scope only when the screening questions allow.")
        if e.status != "reviewed":
            notes.append("Suggested, not reviewed.")
        row = {"name": e.code, "apco": e.apco, "scope": scope}
        if notes:
            row["note"] = "; ".join(notes)
        rows.append(row)
    return rows
