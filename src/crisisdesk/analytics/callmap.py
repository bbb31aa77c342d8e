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
         confidence: 0.93, evidence: "...", status: reviewed}
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
        )
    if problems:
        raise CallMapError("; ".join(problems))
    return CallMap(
        center=str(doc.get("center") or ""),
        version=str(doc.get("version") or ""),
        entries=entries,
        reviewed_by=str(doc.get("reviewed_by") or ""),
    )


def load_call_map(path: str | Path) -> CallMap:
    """A map by file path, or by center name from the shipped maps (`san_diego`)."""
    p = Path(path)
    if not p.suffix and not p.exists():
        p = CALLMAP_DIR / f"{p.name}.yaml"
    with open(p, encoding="utf-8") as fh:
        return parse_call_map(yaml.safe_load(fh), where=str(p))


def dump_call_map(call_map: CallMap) -> str:
    rows = [
        {
            "code": e.code,
            "text": e.text,
            "apco": e.apco,
            "class": e.bh_class.value,
            "confidence": round(e.confidence, 3),
            "evidence": e.evidence,
            "status": e.status,
        }
        for e in sorted(call_map.entries.values(), key=lambda e: e.code)
    ]
    doc = {
        "center": call_map.center,
        "version": call_map.version,
        "reviewed_by": call_map.reviewed_by,
        "call_types": rows,
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
