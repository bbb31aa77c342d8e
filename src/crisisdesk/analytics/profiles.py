"""Column-mapping profiles: how one CAD's export maps onto the canonical call table (schema.py).

A profile is YAML data, not code: a new CAD is a new file. Shipped profiles live in
`analytics/profiles/` (`generic`, `san_diego`, `milwaukee`, `toronto`); `load_profile` takes one of
those names or a path, and raises `ProfileError` listing every problem at once.

Format (every key is documented in docs/analytics.md, section "Import")::

    profile: san_diego
    description: free text
    center: {id: san_diego, name: San Diego Police Department, timezone: America/Los_Angeles}
    file: {format: csv, delimiter: ",", quote: '"', escape: '"'}   # format: csv | parquet | auto
    columns:
      incident_id: incident_num            # a column, a list of columns (joined with '-'), or
                                           # {derive: content} when the CAD has no id (see below)
      received:                            # a full timestamp ...
        column: date_time                  # or columns: [date, time] (joined with one space)
        formats: ["%Y-%m-%d %H:%M:%S"]     # tried in order; or [native] for Parquet timestamps
        zone: America/Los_Angeles          # the zone the CAD wrote wall-clock times in (default: center)
      received_parts:                      # ... or only parts of it (no date, e.g. Toronto)
        {year: event_year, month: event_month, day_of_week: event_dow, hour: event_hour,
         day_of_week_numbers: monday1}     # numbering when days are numbers: monday1|monday0|sunday1|sunday0
      call_type: call_type
      call_type_text: null                 # or a column; or filled by a lookup
      priority: priority
      disposition: disposition
      disposition_text: null
      area: beat
      neighborhood: null
      address: [address_number_primary, address_road_primary]   # joined with a space; keyed hash
      caller: null                         # a column or list; keyed hash
      caller_kind: phone                   # phone | text (normalisation, keys.py)
    lookups:                               # small code -> description files beside the data file
      call_type_text: {file: pd_cfs_calltypes_datasd.csv, key: call_type, value: description}
    optional_columns: [priority]           # columns a file may lack (read as empty)
    call_map: san_diego                    # default call-type map (name or path); --call-map overrides
    notes: ["caveats shown with every analysis of this center"]

Time formats use strptime-like directives, compiled to a regular expression both engines read the
same way: %Y (4 digits), %m %d %H %I %M %S (1-2 digits), %f (1-6 digits of a second), %p (AM/PM),
%b (English month name or abbreviation), %z (Z, +HH:MM, +HHMM), %% (a percent sign). Other
characters match themselves. A value must match a whole format; the first matching format wins.

`incident_id: {derive: content}` is for exports without an incident id: the id is an md5 of the row's
mapped fields plus the occurrence number of identical rows, so re-importing the same file (even
renamed) stores nothing twice, while identical rows within a file remain separate calls.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
TEXT_FIELDS = (
    "call_type",
    "call_type_text",
    "priority",
    "disposition",
    "disposition_text",
    "area",
    "neighborhood",
)
LOOKUP_TARGETS = {"call_type_text": "call_type", "disposition_text": "disposition", "neighborhood": "area"}
COLUMN_KEYS = {"incident_id", "received", "received_parts", "address", "caller", "caller_kind", *TEXT_FIELDS}
TOP_KEYS = {
    "profile",
    "description",
    "center",
    "file",
    "columns",
    "optional_columns",
    "lookups",
    "call_map",
    "notes",
}
DOW_NUMBERINGS = {"monday1": (1, 0), "monday0": (0, 0), "sunday1": (1, 6), "sunday0": (0, 6)}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
MONTH_NAME_RE = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
DAY_NAME_RE = "mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"

# directive -> (regex of its group, component it fills)
_DIRECTIVES = {
    "Y": ("[0-9]{4}", "year"),
    "m": ("[0-9]{1,2}", "month"),
    "d": ("[0-9]{1,2}", "day"),
    "H": ("[0-9]{1,2}", "hour"),
    "I": ("[0-9]{1,2}", "hour12"),
    "M": ("[0-9]{1,2}", "minute"),
    "S": ("[0-9]{1,2}", "second"),
    "f": ("[0-9]{1,6}", "fraction"),
    "p": ("[AaPp][Mm]", "ampm"),
    "b": (f"(?i:{MONTH_NAME_RE})", "month_name"),
    "z": ("Z|z|[+-][0-9]{2}:?[0-9]{2}", "offset"),
}


_SPECIAL = set(".^$*+?()[]{}|\\")


class ProfileError(ValueError):
    """A profile that cannot be used; the message lists every problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class TimeFormat:
    """One strptime-like format compiled to an anchored regex whose groups are named components."""

    text: str
    regex: str
    groups: tuple[str, ...]  # component of each capture group, in order

    @property
    def native(self) -> bool:
        return self.text == "native"


NATIVE = TimeFormat("native", "", ())


def compile_format(text: str) -> TimeFormat:
    if text == "native":
        return NATIVE
    out = ["^"]
    groups: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            if i + 1 >= len(text):
                raise ValueError(f"format {text!r} ends with a lone %")
            code = text[i + 1]
            if code == "%":
                out.append("%")
            elif code in _DIRECTIVES:
                pattern, component = _DIRECTIVES[code]
                if component in groups:
                    raise ValueError(f"format {text!r} uses %{code} twice")
                out.append(f"({pattern})")
                groups.append(component)
            else:
                raise ValueError(f"format {text!r}: %{code} is not supported (see docs/analytics.md)")
            i += 2
            continue
        out.append("\\" + ch if ch in _SPECIAL else ch)
        i += 1
    out.append("\\z")
    have = set(groups)
    if "year" not in have or not ({"month", "month_name"} & have) or "day" not in have:
        raise ValueError(f"format {text!r} needs a year (%Y), a month (%m or %b) and a day (%d)")
    if "hour12" in have and "ampm" not in have:
        raise ValueError(f"format {text!r}: %I needs %p")
    return TimeFormat(text, "".join(out), tuple(groups))


@dataclass(frozen=True)
class Received:
    columns: tuple[str, ...]
    formats: tuple[TimeFormat, ...]
    zone: str

    @property
    def native(self) -> bool:
        return any(f.native for f in self.formats)


@dataclass(frozen=True)
class ReceivedParts:
    year: str
    month: str
    day_of_week: str
    hour: str
    day_of_week_numbers: str = "monday1"


@dataclass(frozen=True)
class Lookup:
    target: str  # call_type_text | disposition_text | neighborhood
    file: str
    key: str
    value: str

    @property
    def source_field(self) -> str:
        return LOOKUP_TARGETS[self.target]


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'


@dataclass(frozen=True)
class Profile:
    name: str
    center: str
    timezone: str
    incident_id: tuple[str, ...]  # empty = derived from content
    received: Received | None
    received_parts: ReceivedParts | None
    fields: dict[str, tuple[str, ...]]  # canonical text field -> source columns
    address: tuple[str, ...] = ()
    caller: tuple[str, ...] = ()
    caller_kind: str = "phone"
    lookups: tuple[Lookup, ...] = ()
    call_map: str | None = None
    optional_columns: frozenset[str] = frozenset()  # may be absent from a file: read as empty
    file_format: str = "auto"
    csv: CsvOptions = field(default_factory=CsvOptions)
    center_name: str = ""
    description: str = ""
    notes: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def derived_id(self) -> bool:
        return not self.incident_id

    @property
    def hour_only(self) -> bool:
        return self.received is None

    @property
    def needs_linkage_key(self) -> bool:
        """Address or caller columns that every file must have: their keys need the linkage key."""
        return any(c not in self.optional_columns for c in (*self.address, *self.caller))

    def source_columns(self) -> tuple[str, ...]:
        """Every source column the profile reads, each once, in a stable order."""
        cols: list[str] = list(self.incident_id)
        if self.received:
            cols += self.received.columns
        if self.received_parts:
            p = self.received_parts
            cols += [p.year, p.month, p.day_of_week, p.hour]
        for name in TEXT_FIELDS:
            cols += self.fields.get(name, ())
        cols += self.address
        cols += self.caller
        return tuple(dict.fromkeys(cols))

    def with_center(self, center: str | None = None, timezone: str | None = None) -> Profile:
        """The same mapping for another center (the generic profile is used this way)."""
        problems: list[str] = []
        tz = timezone or self.timezone
        _check_zone(tz, "timezone", problems)
        if center is not None and not _ID_RE.match(center):
            problems.append(f"center {center!r}: use letters, digits, '_' or '-'")
        if problems:
            raise ProfileError(problems)
        received = self.received
        if received is not None and timezone and received.zone == self.timezone:
            received = dataclasses.replace(received, zone=tz)
        return dataclasses.replace(self, center=center or self.center, timezone=tz, received=received)


_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _check_zone(zone: str, where: str, problems: list[str]) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{where}: {zone!r} is not an IANA time zone (e.g. America/Chicago)")


def _columns(value: Any, where: str, problems: list[str], *, allow_none: bool = True) -> tuple[str, ...]:
    if value is None:
        if not allow_none:
            problems.append(f"{where}: required")
        return ()
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    problems.append(f"{where}: a column name or a list of column names, not {value!r}")
    return ()


def _mapping(value: Any, where: str, problems: list[str], keys: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a mapping")
        return {}
    for k in value:
        if k not in keys:
            problems.append(f"{where}: unknown key {k!r} (known: {', '.join(sorted(keys))})")
    return value


def parse_profile(doc: Any, *, where: str = "profile", path: Path | None = None) -> Profile:
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise ProfileError([f"{where}: expected a mapping at the top level"])
    _mapping(doc, "top level", problems, TOP_KEYS)
    name = str(doc.get("profile") or (path.stem if path else ""))
    center = _mapping(doc.get("center"), "center", problems, {"id", "name", "timezone"})
    center_id = str(center.get("id") or "")
    if not _ID_RE.match(center_id):
        problems.append("center.id: required; letters, digits, '_' or '-'")
    timezone = str(center.get("timezone") or "")
    _check_zone(timezone, "center.timezone", problems)

    file_doc = _mapping(doc.get("file"), "file", problems, {"format", "delimiter", "quote", "escape"})
    file_format = str(file_doc.get("format") or "auto")
    if file_format not in {"auto", "csv", "parquet"}:
        problems.append(f"file.format: {file_format!r} must be csv, parquet or auto")
    csv = CsvOptions(
        delimiter=str(file_doc.get("delimiter", ",")),
        quote=str(file_doc.get("quote", '"')),
        escape=str(file_doc.get("escape", '"')),
    )
    for k in ("delimiter", "quote", "escape"):
        if len(getattr(csv, k)) != 1:
            problems.append(f"file.{k}: one character")

    cols = _mapping(doc.get("columns"), "columns", problems, COLUMN_KEYS)
    if not cols:
        problems.append("columns: required")
    raw_id = cols.get("incident_id")
    incident_id: tuple[str, ...] = ()
    if isinstance(raw_id, dict):
        if raw_id != {"derive": "content"}:
            problems.append("columns.incident_id: a column, a list of columns, or {derive: content}")
    else:
        incident_id = _columns(raw_id, "columns.incident_id", problems, allow_none=False)

    received = _parse_received(cols.get("received"), timezone, problems)
    parts = _parse_parts(cols.get("received_parts"), problems)
    if (received is None) == (parts is None):
        problems.append("columns: give exactly one of received (a full timestamp) or received_parts")
    fields = {f: _columns(cols.get(f), f"columns.{f}", problems) for f in TEXT_FIELDS}
    if not fields["call_type"]:
        problems.append("columns.call_type: required")
    address = _columns(cols.get("address"), "columns.address", problems)
    caller = _columns(cols.get("caller"), "columns.caller", problems)
    caller_kind = str(cols.get("caller_kind") or "phone")
    if caller_kind not in {"phone", "text"}:
        problems.append(f"columns.caller_kind: {caller_kind!r} must be phone or text")

    lookups: list[Lookup] = []
    for target, spec in _mapping(doc.get("lookups"), "lookups", problems, set(LOOKUP_TARGETS)).items():
        at = f"lookups.{target}"
        spec = _mapping(spec, at, problems, {"file", "key", "value"})
        if not all(isinstance(spec.get(k), str) and spec.get(k) for k in ("file", "key", "value")):
            problems.append(f"{at}: needs file, key and value")
            continue
        if fields.get(target):
            problems.append(f"{at}: columns.{target} is also mapped; use one or the other")
        if not fields.get(LOOKUP_TARGETS[target]):
            problems.append(f"{at}: columns.{LOOKUP_TARGETS[target]} must be mapped to look it up")
        lookups.append(Lookup(target, spec["file"], spec["key"], spec["value"]))

    optional = _columns(doc.get("optional_columns"), "optional_columns", problems)
    required = set(incident_id) | {c for f in ("call_type",) for c in fields.get(f, ())}
    if received is not None:
        required |= set(received.columns)
    if parts is not None:
        required |= {parts.year, parts.month, parts.day_of_week, parts.hour}
    for c in sorted(set(optional) & required):
        problems.append(
            f"optional_columns: {c!r} is the incident id, received time or call type: it cannot be optional"
        )
    notes = doc.get("notes") or []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        problems.append("notes: a list of strings")
        notes = []
    call_map = doc.get("call_map")
    if call_map is not None and not isinstance(call_map, str):
        problems.append("call_map: a call-map name or path")
        call_map = None
    if problems:
        raise ProfileError([f"{where}: {p}" for p in problems])
    return Profile(
        name=name,
        center=center_id,
        timezone=timezone,
        incident_id=incident_id,
        received=received,
        received_parts=parts,
        fields={k: v for k, v in fields.items() if v},
        address=address,
        caller=caller,
        caller_kind=caller_kind,
        lookups=tuple(lookups),
        call_map=call_map,
        optional_columns=frozenset(optional),
        file_format=file_format,
        csv=csv,
        center_name=str(center.get("name") or ""),
        description=str(doc.get("description") or ""),
        notes=tuple(notes),
        path=path,
    )


def _parse_received(value: Any, center_zone: str, problems: list[str]) -> Received | None:
    if value is None:
        return None
    spec = _mapping(value, "columns.received", problems, {"column", "columns", "formats", "zone"})
    if not spec:
        return None
    columns = _columns(
        spec.get("column") or spec.get("columns"), "columns.received.column", problems, allow_none=False
    )
    raw_formats = spec.get("formats") or []
    if not isinstance(raw_formats, list) or not raw_formats:
        problems.append("columns.received.formats: a non-empty list of formats")
        raw_formats = []
    formats: list[TimeFormat] = []
    for i, text in enumerate(raw_formats):
        try:
            formats.append(compile_format(str(text)))
        except ValueError as exc:
            problems.append(f"columns.received.formats[{i}]: {exc}")
    if any(f.native for f in formats) and (len(formats) > 1 or len(columns) > 1):
        problems.append("columns.received.formats: native stands alone, with one column")
    zone = str(spec.get("zone") or center_zone)
    _check_zone(zone, "columns.received.zone", problems)
    return Received(columns, tuple(formats), zone)


def _parse_parts(value: Any, problems: list[str]) -> ReceivedParts | None:
    if value is None:
        return None
    keys = {"year", "month", "day_of_week", "hour", "day_of_week_numbers"}
    spec = _mapping(value, "columns.received_parts", problems, keys)
    missing = [k for k in ("year", "month", "day_of_week", "hour") if not isinstance(spec.get(k), str)]
    if missing:
        problems.append(f"columns.received_parts: needs a column for {', '.join(missing)}")
        return None
    numbering = str(spec.get("day_of_week_numbers") or "monday1")
    if numbering not in DOW_NUMBERINGS:
        problems.append(f"columns.received_parts.day_of_week_numbers: one of {', '.join(DOW_NUMBERINGS)}")
    return ReceivedParts(spec["year"], spec["month"], spec["day_of_week"], spec["hour"], numbering)


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (`san_diego`) or a profile file by path."""
    p = Path(name_or_path)
    if not p.suffix and not p.exists():
        p = PROFILE_DIR / f"{p.name}.yaml"
        if not p.exists():
            shipped = sorted(x.stem for x in PROFILE_DIR.glob("*.yaml"))
            raise ProfileError([f"no profile {name_or_path!r}: use a path or one of {', '.join(shipped)}"])
    try:
        with open(p, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except OSError as exc:
        raise ProfileError([f"{p}: cannot read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise ProfileError([f"{p}: not valid YAML: {exc}"]) from None
    return parse_profile(doc, where=str(p), path=p)
