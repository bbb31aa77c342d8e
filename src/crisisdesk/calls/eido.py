"""NENA EIDO intake: an incident sent as a NENA Emergency Incident Data Object (NENA-STA-021.1, the
JSON form published at github.com/NENA911/EIDO-JSON, schema version 1.0) becomes a `CadCall` and is
taken in by the same write path as the CAD's own JSON (`services.intake_call`).

`eido_to_cad` is a pure mapping (no database, no network); `intake_eido` is the use case behind
`POST /api/v1/eido`. Every value comes from the document; nothing is invented or guessed, and a
value the document does not carry stays empty.

Mapping (EIDO path -> CadCall field):

- `$id` -> `incident_id`, the whole URN (e.g. `urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us`).
  The document's own `$id` is the Incident Tracking Identifier; an incident component's `$id` names
  that component, so it is not used. Required; at most 128 characters (the column's length).
- `issuingElementIdentification` -> `source` as `"eido:" + value` (e.g. `eido:idx.state.pa.us`): the
  functional element (CAD, IDX) that created this EIDO. It is stable across the updates one element
  sends, unlike `updatedByAgencyReference`, which changes with the last agency that touched the
  incident. Required. The same incident sent by two different elements is two calls.
- Call type, first present of: `incidentComponent.incidentTypeInternalText` (the local agency's own
  type text, which is what a center's protocol names), `incidentComponent.incidentTypeCommonRegistryText`
  (the common registry type). An EIDO without an incident component is a call not yet typed
  (e.g. the sample "call transfer" EIDO): then `callComponent[0].localCallType`, else
  `callComponent[0].standardPrimaryCallType` (the LogEvent primary call type, e.g. "emergency").
  Such a value is kept raw like any CAD call type; when the protocol does not know it, the call is
  taken in with `call_type_needs_review` for a person to type. `incidentTypeInternalCode` is not
  used: a local code is not a name the protocol matches, and guessing its vocabulary is not safe.
- `received_at`, first of: `callComponent[0].callStartTimestamp` (when the call was received;
  required on a call component, so its absence is an error, not a fallback); with no call
  component, `incidentComponent.lastUpdateTimeStamp`, then the document's `lastUpdateTimeStamp`.
  Those two are the nearest instants an incident-only EIDO carries and are later than the real
  receipt. Every timestamp must be an ISO 8601 string with a UTC offset.
- `priority`, first of: `incidentComponent.incidentPriorityInternalText`,
  `incidentComponent.incidentCommonPriorityNumber` (as text), `callComponent[0].priorityIdentifier`
  (STA-023: highest ... lowest). At most 16 characters.
- `location`: one location component, found through the incident's and then the call's
  `locationReference` (each `$ref` must name a `locationComponent`). Of the referenced components
  whose PIDF-LO (`locationByValue`) yields an address or coordinates, the first with
  `locationTypeDescriptionRegistryText` "Incident" wins, else the first "Caller", else the first
  referenced (e.g. the sample's "RoutingLocation", which may be where the network placed the
  device: confirm it with the caller). Address and coordinates come from that one component:
  - `address`: the first `civicAddress` (RFC 5139) joined as `[NAM, ]HNO HNS PRD PRM RD STS POD POM
    (A6 when RD is absent)[, LOC][, Bldg BLD][, Floor FLR][, Unit UNIT][, Room ROOM][, LMK], A3 (or
    PCN), A1 PC, country`, leaving out absent elements; the sample gives "42 W Cellular Street,
    Wilmington, DE, US".
  - `latitude`, `longitude`: the `gml:pos` of the first point-like shape (RFC 5491: `gml:Point`,
    `gs:Circle`, `gs:Ellipse`, `gs:ArcBand`, `gs:Sphere`, `gs:Ellipsoid`; the centre for the shapes
    with an uncertainty), only in `urn:ogc:def:crs:EPSG::4326` or `::4979` (latitude first). A
    polygon or prism gives no coordinates (a centroid would be made up); another reference system
    is an error.
  `locationByReferenceUrl` is not dereferenced: intake makes no outbound requests (latency, and a
  URL chosen by the sender must not make the server fetch it). XML with a DTD is refused.
- `caller.phone`: the first `tel:` URI (without `tel:` and without parameters after `;`) in the
  `callBackInformationUri` of the callback component named by `callComponent[0].callBackReference`
  (or, without one, by the `callBackReference` of the first person referenced by the call or the
  incident whose `personIncidentRoleRegistryText` includes "Caller"), else its
  `updatedCbn.updatedCbnIdentifierUri` when that is a `tel:` URI. A `sip:` URI is not turned into
  a phone number. Kept raw, at most 32 characters.
- `narrative`: the `notesActionComments` (HTML5, reduced to text) of the notes referenced by the
  incident's and then the call's `notesReference`, in that order, one per line; longer than 4000
  characters it is cut and ends with "…". Notes about agents, agencies or locations and the RFC
  7852 comments inside additional data are not call narrative and are not used.

Choices where the document offers several:
- `incidentComponent` is one object in the 1.0 schema; an array (as some senders write it) is
  accepted too, and error paths follow the shape that was sent (`incidentComponent.x` or
  `incidentComponent[0].x`). Of several incident components the one whose `$id` equals the
  document's `$id` is used, else the first: a call component carries no reference to an incident.
- Of several call components the first is used (its start time, location, callback and notes).
- An EIDO needs a call component or an incident component; `eidoVersion` must be "1.0".

Errors: every problem is reported with its EIDO path (`$id`, `callComponent[0].callStartTimestamp`,
`callComponent[0].locationReference[0].$ref`, `locationComponent[0].locationByValue`) in the
`calls.schemas.field_errors` shape `{"field", "reason", "type"}`. A value that maps but fails the
CadCall rules (too long, out of range) is reported at the EIDO path it came from. Only what the
mapping reads is checked; the rest of the document is not validated against the schema.

Repeats: the stored payload is the mapped CadCall, so an EIDO sent again with changes only in parts
that are not mapped (agents, `lastUpdateTimeStamp`) is an identical repeat. An EIDO update that
changes a mapped value (same `$id`, newer `lastUpdateTimeStamp`) is, for now, kept as an intake
conflict for a person to review, never applied silently. A rejected EIDO is kept verbatim as a
RejectedRecord, identified by the document's `issuingElementIdentification` and `$id` when present.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET  # only used by _pidf_lo, which refuses DTDs first
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from pydantic import ValidationError

from crisisdesk.calls import services
from crisisdesk.calls.errors import Forbidden
from crisisdesk.calls.schemas import CadCall, field_errors, storable_text
from crisisdesk.domain.roles import may

CHANNEL = "POST /api/v1/eido"
NARRATIVE_MAX = 4000
EIDO_VERSION = "1.0"

_CIVIC_NS = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
_GML_NS = "http://www.opengis.net/gml"
_SHAPES_NS = "http://www.opengis.net/pidflo/1.0"
_POINT_SHAPES = {
    f"{{{_GML_NS}}}Point",
    *(f"{{{_SHAPES_NS}}}{name}" for name in ("Circle", "Ellipse", "ArcBand", "Sphere", "Ellipsoid")),
}
_AREA_SHAPES = {f"{{{_GML_NS}}}Polygon", f"{{{_SHAPES_NS}}}Prism"}
_SHAPES = _POINT_SHAPES | _AREA_SHAPES
_CRS = {"urn:ogc:def:crs:EPSG::4326", "urn:ogc:def:crs:EPSG::4979"}  # both: latitude, longitude[, h]
_STREET = ("HNO", "HNS", "PRD", "PRM", "RD", "STS", "POD", "POM")
_LOCATION_RANK = {"incident": 0, "caller": 1}

Located = tuple[str, dict[str, Any]]  # a component and its EIDO path, e.g. "locationComponent[1]"


class EidoError(ValueError):
    """The document cannot be mapped; `errors` are field-level, with EIDO paths."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("; ".join(f"{e['field']}: {e['reason']}" for e in errors))
        self.errors = errors


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Reader:
    """Reads one EIDO document, collecting every problem with its path instead of stopping at one."""

    def __init__(self, doc: dict[str, Any]):
        self.doc = doc
        self.errors: list[dict[str, Any]] = []
        self._ids: dict[str, dict[str, Located]] = {}

    def error(self, field: str, reason: str, type: str = "value_error") -> None:
        self.errors.append({"field": field, "reason": reason, "type": type})

    def text(self, obj: dict[str, Any], key: str, path: str, required: bool = False) -> str:
        """obj[key] as stripped text; "" when absent (an error when required) or not a string."""
        value = obj.get(key)
        if value is None:
            if required:
                self.error(_at(path, key), "required", "missing")
            return ""
        if not isinstance(value, str):
            self.error(_at(path, key), "must be a string", "string_type")
            return ""
        if required and not value.strip():
            self.error(_at(path, key), "must not be empty", "string_too_short")
        return value.strip()

    def array(self, obj: dict[str, Any], key: str, path: str) -> list[Any]:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(_at(path, key), "must be an array", "list_type")
            return []
        return value

    def components(self, name: str) -> list[Located]:
        """The document's `name` components (an array of objects), each with its path."""
        out = []
        for i, item in enumerate(self.array(self.doc, name, "")):
            if isinstance(item, dict):
                out.append((_at(name, i), item))
            else:
                self.error(_at(name, i), "must be an object", "dict_type")
        return out

    def resolve(self, ref: Any, path: str, kind: str) -> Located | None:
        """The `kind` component a `{"$ref": id}` at `path` names; a dangling reference is an error."""
        if not isinstance(ref, dict) or not isinstance(ref.get("$ref"), str):
            self.error(path, 'must be a reference {"$ref": "<$id>"}', "dict_type")
            return None
        if kind not in self._ids:
            self._ids[kind] = {}
            for cpath, comp in self.components(kind):
                if isinstance(comp.get("$id"), str):
                    self._ids[kind].setdefault(comp["$id"], (cpath, comp))
        target = self._ids[kind].get(ref["$ref"])
        if target is None:
            self.error(_at(path, "$ref"), f"names no {kind} in this document", "reference_missing")
        return target

    def references(self, owner: Located | None, key: str, kind: str) -> list[Located]:
        if owner is None:
            return []
        path, comp = owner
        found = (
            self.resolve(ref, _at(_at(path, key), i), kind)
            for i, ref in enumerate(self.array(comp, key, path))
        )
        return [c for c in found if c is not None]

    def timestamp(self, obj: dict[str, Any], key: str, path: str) -> datetime | None:
        where = _at(path, key)
        value = obj.get(key)
        if not isinstance(value, str):
            self.error(
                where,
                "required" if value is None else "must be an ISO 8601 string",
                "missing" if value is None else "string_type",
            )
            return None
        try:
            instant = datetime.fromisoformat(value.strip())
        except ValueError:
            self.error(
                where, "must be an ISO 8601 date-time, e.g. 2021-04-30T14:40:00-04:00", "datetime_parsing"
            )
            return None
        if instant.tzinfo is None or instant.utcoffset() is None:
            self.error(where, "must carry a UTC offset, e.g. 2021-04-30T14:40:00-04:00", "timezone_aware")
            return None
        return instant


# --- the mapping ------------------------------------------------------------------------------


def eido_to_cad(doc: Any) -> CadCall:
    """Map one EIDO document (parsed JSON) to the CAD intake record, as the module docstring says.

    Raises `EidoError` with every problem found, each at its EIDO path.
    """
    if not isinstance(doc, dict):
        raise EidoError([{"field": "(body)", "reason": "an EIDO is a JSON object", "type": "dict_type"}])
    r = _Reader(doc)
    origin: dict[str, str] = {}  # CadCall field -> the EIDO path its value came from

    incident_id = r.text(doc, "$id", "", required=True)
    origin["incident_id"] = "$id"
    issuer = r.text(doc, "issuingElementIdentification", "", required=True)
    origin["source"] = "issuingElementIdentification"
    version = r.text(doc, "eidoVersion", "", required=True)
    if version and version != EIDO_VERSION:
        r.error("eidoVersion", f"unsupported version {version!r}; this adapter reads {EIDO_VERSION}")

    incident = _incident(r, incident_id)
    calls = r.components("callComponent")
    call = calls[0] if calls else None
    shape_reported = any(e["field"].startswith(("callComponent", "incidentComponent")) for e in r.errors)
    if incident is None and call is None and not shape_reported:
        r.error("callComponent", "an EIDO needs a callComponent or an incidentComponent", "missing")

    call_type = _call_type(r, incident, call, origin)
    received_at = _received_at(r, incident, call, origin)
    priority = _priority(r, incident, call, origin)
    location = _location(r, incident, call, origin)
    phone = _phone(r, incident, call, origin)
    narrative = _narrative(r, incident, call, origin)
    if r.errors:
        raise EidoError(r.errors)

    data: dict[str, Any] = {
        "source": f"eido:{issuer}",
        "incident_id": incident_id,
        "call_type": call_type,
        "received_at": received_at,
        "priority": priority,
        "location": location,
        "caller": {"phone": phone} if phone else None,
        "narrative": narrative,
    }
    try:
        return CadCall.model_validate(data)
    except ValidationError as exc:
        raise EidoError([_from_eido(e, origin) for e in field_errors(exc)]) from None


def _from_eido(error: dict[str, Any], origin: dict[str, str]) -> dict[str, Any]:
    """A CadCall error ("location.address") restated at the EIDO path the value came from."""
    parts = error["field"].split(".")
    while parts:
        path = origin.get(".".join(parts))
        if path:
            return {**error, "field": path}
        parts.pop()
    return error


def _incident(r: _Reader, incident_id: str) -> Located | None:
    value = r.doc.get("incidentComponent")
    if value is None:
        return None
    if isinstance(value, dict):
        return ("incidentComponent", value)
    if not isinstance(value, list):
        r.error("incidentComponent", "must be an object (or an array of objects)", "dict_type")
        return None
    incidents = r.components("incidentComponent")
    for path, comp in incidents:
        if incident_id and comp.get("$id") == incident_id:
            return (path, comp)
    return incidents[0] if incidents else None


def _call_type(r: _Reader, incident: Located | None, call: Located | None, origin: dict[str, str]) -> str:
    if incident is not None:
        keys, (path, comp) = ("incidentTypeInternalText", "incidentTypeCommonRegistryText"), incident
    elif call is not None:
        keys, (path, comp) = ("localCallType", "standardPrimaryCallType"), call
    else:
        return ""
    for key in keys:
        value = r.text(comp, key, path)
        if value:
            origin["call_type"] = _at(path, key)
            return value
    r.error(_at(path, keys[-1]), "required: the document gives no type for the incident", "missing")
    return ""


def _received_at(
    r: _Reader, incident: Located | None, call: Located | None, origin: dict[str, str]
) -> datetime | None:
    if call is not None:
        path, comp = call
        origin["received_at"] = _at(path, "callStartTimestamp")
        return r.timestamp(comp, "callStartTimestamp", path)
    if incident is None:
        return None
    path, comp = incident if "lastUpdateTimeStamp" in incident[1] else ("", r.doc)
    origin["received_at"] = _at(path, "lastUpdateTimeStamp")
    return r.timestamp(comp, "lastUpdateTimeStamp", path)


def _priority(r: _Reader, incident: Located | None, call: Located | None, origin: dict[str, str]) -> str:
    if incident is not None:
        path, comp = incident
        text = r.text(comp, "incidentPriorityInternalText", path)
        if text:
            origin["priority"] = _at(path, "incidentPriorityInternalText")
            return text
        number = comp.get("incidentCommonPriorityNumber")
        if number is not None:
            if isinstance(number, bool) or not isinstance(number, int):
                r.error(_at(path, "incidentCommonPriorityNumber"), "must be an integer", "int_type")
                return ""
            origin["priority"] = _at(path, "incidentCommonPriorityNumber")
            return str(number)
    if call is not None:
        path, comp = call
        origin["priority"] = _at(path, "priorityIdentifier")
        return r.text(comp, "priorityIdentifier", path)
    return ""


def _location(
    r: _Reader, incident: Located | None, call: Located | None, origin: dict[str, str]
) -> dict[str, Any] | None:
    seen: set[str] = set()
    usable: list[tuple[int, int, str, dict[str, Any]]] = []
    referenced = r.references(incident, "locationReference", "locationComponent")
    referenced += r.references(call, "locationReference", "locationComponent")
    for order, (path, comp) in enumerate(referenced):
        if path in seen:
            continue
        seen.add(path)
        pidf = r.text(comp, "locationByValue", path)
        if not pidf:
            continue  # by reference only: not dereferenced (see the module docstring)
        found = _pidf_lo(r, pidf, _at(path, "locationByValue"))
        if found:
            kind = r.text(comp, "locationTypeDescriptionRegistryText", path).casefold()
            usable.append((_LOCATION_RANK.get(kind, 2), order, _at(path, "locationByValue"), found))
    if not usable:
        return None
    _, _, where, location = min(usable, key=lambda u: (u[0], u[1]))
    origin["location"] = where
    return location


def _pidf_lo(r: _Reader, text: str, where: str) -> dict[str, Any] | None:
    """The civic address and point of a PIDF-LO document, or None when it has neither."""
    head = text.upper()
    if "<!DOCTYPE" in head or "<!ENTITY" in head:
        r.error(where, "a PIDF-LO with a DTD or entity declarations is refused", "value_error")
        return None
    try:
        root = ET.fromstring(text)  # noqa: S314 - no DTD (checked above), so no entity expansion
    except (ET.ParseError, ValueError) as exc:
        r.error(where, f"not well-formed PIDF-LO XML: {exc}", "xml_invalid")
        return None
    location: dict[str, Any] = {}
    civic = next(root.iter(f"{{{_CIVIC_NS}}}civicAddress"), None)
    if civic is not None:
        address = _civic_address(civic)
        if address:
            location["address"] = address
    shape = next((el for el in root.iter() if el.tag in _SHAPES), None)
    if shape is not None and shape.tag in _POINT_SHAPES:
        srs = (shape.get("srsName") or "").strip()
        pos = shape.find(f"{{{_GML_NS}}}pos")
        if srs not in _CRS:
            r.error(
                where,
                f"{shape.tag.rsplit('}', 1)[-1]} in reference system {srs or '(none)'!r}; "
                "only urn:ogc:def:crs:EPSG::4326 or ::4979 (RFC 5491) are read",
                "value_error",
            )
        elif pos is None or not (pos.text or "").strip():
            r.error(where, f"{shape.tag.rsplit('}', 1)[-1]} without a gml:pos", "value_error")
        else:
            try:
                numbers = [float(v) for v in (pos.text or "").split()]
            except ValueError:
                numbers = []
            if len(numbers) not in (2, 3) or not all(math.isfinite(n) for n in numbers):
                r.error(
                    where,
                    f"gml:pos {(pos.text or '')[:60]!r} is not 'latitude longitude [altitude]'",
                    "value_error",
                )
            else:
                location["latitude"], location["longitude"] = numbers[0], numbers[1]
    return location or None


def _civic_address(civic: ET.Element) -> str:
    values: dict[str, str] = {}
    for child in civic:
        name = child.tag.rsplit("}", 1)[-1]
        text = " ".join((child.text or "").split())
        if text and name not in values:
            values[name] = text
    street_parts = [values.get(k, "") for k in _STREET]
    if "RD" not in values:
        street_parts[_STREET.index("RD")] = values.get("A6", "")
    labelled = [
        f"{label} {values[k]}"
        for k, label in (("BLD", "Bldg"), ("FLR", "Floor"), ("UNIT", "Unit"), ("ROOM", "Room"))
        if k in values
    ]
    region = " ".join(v for v in (values.get("A1", ""), values.get("PC", "")) if v)
    parts = [
        values.get("NAM", ""),
        " ".join(p for p in street_parts if p),
        values.get("LOC", ""),
        *labelled,
        values.get("LMK", ""),
        values.get("A3") or values.get("PCN", ""),
        region,
        values.get("country", ""),
    ]
    return ", ".join(p for p in parts if p)


def _phone(r: _Reader, incident: Located | None, call: Located | None, origin: dict[str, str]) -> str:
    callback: Located | None = None
    if call is not None and call[1].get("callBackReference") is not None:
        callback = r.resolve(
            call[1]["callBackReference"], _at(call[0], "callBackReference"), "callbackComponent"
        )
    else:
        people = r.references(call, "personReference", "personComponent")
        people += r.references(incident, "personReference", "personComponent")
        for path, person in people:
            roles = [x for x in r.array(person, "personIncidentRoleRegistryText", path) if isinstance(x, str)]
            if (
                any(x.strip().casefold() == "caller" for x in roles)
                and person.get("callBackReference") is not None
            ):
                callback = r.resolve(
                    person["callBackReference"], _at(path, "callBackReference"), "callbackComponent"
                )
                break
    if callback is None:
        return ""
    path, comp = callback
    candidates = [
        (_at(_at(path, "callBackInformationUri"), i), uri)
        for i, uri in enumerate(r.array(comp, "callBackInformationUri", path))
        if isinstance(uri, str)
    ]
    updated = comp.get("updatedCbn")
    if isinstance(updated, dict) and isinstance(updated.get("updatedCbnIdentifierUri"), str):
        candidates.append(
            (_at(_at(path, "updatedCbn"), "updatedCbnIdentifierUri"), updated["updatedCbnIdentifierUri"])
        )
    for where, uri in candidates:
        uri = uri.strip()
        if uri[:4].casefold() == "tel:":
            number = uri[4:].split(";", 1)[0].strip()
            if number:
                origin["caller"] = where
                return number
    return ""


def _narrative(r: _Reader, incident: Located | None, call: Located | None, origin: dict[str, str]) -> str:
    notes = r.references(incident, "notesReference", "notesComponent")
    notes += r.references(call, "notesReference", "notesComponent")
    texts: list[str] = []
    seen: set[str] = set()
    for path, comp in notes:
        if path in seen:
            continue
        seen.add(path)
        text = _html_text(r.text(comp, "notesActionComments", path))
        try:
            storable_text(text)  # checked per note so that an error names the note it is in
        except ValueError as exc:
            r.error(_at(path, "notesActionComments"), str(exc))
            continue
        if text:
            texts.append(text)
            origin.setdefault("narrative", _at(path, "notesActionComments"))
    narrative = "\n".join(texts)
    if len(narrative) > NARRATIVE_MAX:
        narrative = narrative[: NARRATIVE_MAX - 1] + "…"
    return narrative


class _HtmlText(HTMLParser):
    """The text of an HTML5 fragment: block elements end lines, scripts and styles are dropped."""

    BREAKS = frozenset(
        {"br", "p", "div", "li", "tr", "ul", "ol", "table", "blockquote", "pre", "hr"}
        | {f"h{i}" for i in range(1, 7)}
    )
    HIDDEN = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _html_text(html: str) -> str:
    if not html:
        return ""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


# --- the use case -----------------------------------------------------------------------------


def intake_eido(actor: Any, body: bytes | str) -> services.IntakeResult:
    """Take in an incident given as EIDO JSON text, like `services.intake_json` does for CAD JSON.

    Identical EIDO again: an idempotent repeat. A changed EIDO with the same `$id`: an intake
    conflict kept for review (see the module docstring). Unparsable or unmappable: kept as a
    RejectedRecord and `services.Invalid` (422) raised with the EIDO paths.
    """
    if not may(getattr(actor, "role", ""), "intake_call"):
        raise Forbidden(f"a {getattr(actor, 'role', '') or 'anonymous'} may not intake call")
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        errors = [{"field": "(body)", "reason": f"not valid JSON: {exc}", "type": "json_invalid"}]
        raise services.Invalid(errors, services.reject_record(actor, CHANNEL, text, errors).pk) from None
    try:
        cad = eido_to_cad(doc)
    except EidoError as exc:
        ids = doc if isinstance(doc, dict) else {}
        issuer, incident = ids.get("issuingElementIdentification"), ids.get("$id")
        rejected = services.reject_record(
            actor,
            CHANNEL,
            text,
            exc.errors,
            source=f"eido:{issuer}" if isinstance(issuer, str) and issuer else "",
            incident_id=incident if isinstance(incident, str) else "",
        )
        raise services.Invalid(exc.errors, rejected.pk) from None
    return services.intake_call(actor, cad)
