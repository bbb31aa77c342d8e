"""The canonical call table, its reject reasons, the SQL both engines share, and the analysis results.

Every imported CAD row becomes one row of `CALL_COLUMNS`, whatever the CAD called its columns. The
classification (APCO type, behavioural-health class, eligibility) and the local calendar fields
(date, hour, day of week in the center's zone) are computed once at import and stored, so analyses
are scans and group-bys, never per-row Python.

The import and the demand analysis are written once as SQL and run on DuckDB or Spark. `Dialect`
spells the handful of functions whose names differ; everything else (integer arithmetic, CASE,
windows, joins) is common SQL. Dates and time zones are done with integer arithmetic on microseconds
and small offset tables built from Python's zoneinfo, so DuckDB, Spark and Python agree exactly,
including on DST gap and fold days (the engines' own time zone functions disagree on the fold).
Regular expressions stay in the subset RE2 (DuckDB) and java.util.regex (Spark) read the same way:
literal characters, [0-9]-style classes, groups, alternation, {n,m}, ^, \\z and (?i).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import pyarrow as pa

US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 86_400 * US_PER_SECOND
# Times outside these years are rejected: the offset tables cover them, and a 1900 or 2200 date in a
# CAD export is a data error, not a call.
FIRST_YEAR = 1971
LAST_YEAR = 2099
# Valid years leave one year of slack inside the offset tables.
MIN_YEAR, MAX_YEAR = FIRST_YEAR + 1, LAST_YEAR - 1


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    meaning: str
    nullable: bool = True


CALL_COLUMNS: tuple[Column, ...] = (
    Column("center", pa.string(), "the 911 center (profile's center id); part of the key", False),
    Column("incident_id", pa.string(), "the CAD incident id (or a content id for CADs without one)", False),
    Column(
        "received_utc",
        pa.timestamp("us", tz="UTC"),
        "when the call was received, UTC; null when the source has only hour-level parts (Toronto)",
    ),
    Column("local_date", pa.date32(), "received date in the center's zone; null for hour-only sources"),
    Column("local_year", pa.int16(), "received year in the center's zone", False),
    Column("local_month", pa.int8(), "received month (1-12) in the center's zone", False),
    Column("local_dow", pa.int8(), "received day of week in the center's zone, 0 = Monday", False),
    Column("local_hour", pa.int8(), "received hour (0-23) in the center's zone", False),
    Column("hour_of_week", pa.int16(), "local_dow * 24 + local_hour (0 = Monday 00:00-01:00)", False),
    Column("call_type", pa.string(), "the call type as the CAD writes it (trimmed)", False),
    Column("call_type_text", pa.string(), "description of the call type (column or lookup)"),
    Column("apco", pa.string(), "APCO common incident type from the call-type map ('' when unmapped)", False),
    Column("bh_class", pa.string(), "behavioural-health class from the call-type map (BhClass)", False),
    Column(
        "eligible", pa.bool_(), "bh_class is in_scope or conditional: the program's potential demand", False
    ),
    Column("priority", pa.string(), "priority as the CAD writes it"),
    Column("disposition", pa.string(), "disposition code or text as the CAD writes it"),
    Column("disposition_text", pa.string(), "description of the disposition (column or lookup)"),
    Column("area", pa.string(), "beat / district / division as the CAD writes it"),
    Column("neighborhood", pa.string(), "neighborhood name or code (column or lookup)"),
    Column("address_key", pa.int64(), "keyed hash of the normalised address (keys.py); never the address"),
    Column("caller_key", pa.int64(), "keyed hash of the normalised caller number or id (keys.py)"),
    Column("callmap_version", pa.string(), "center/version of the call-type map that classified the row"),
    Column("source_file", pa.string(), "file name the row came from", False),
    Column("import_id", pa.string(), "the import that stored the row", False),
    Column(
        "record_hash",
        pa.int64(),
        "fingerprint of the CAD's own fields (60-bit md5 of id and texts, xor instant and keyed hashes): "
        "re-imports compare it to tell 'same row' from 'changed row'",
        False,
    ),
)
CALL_SCHEMA = pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in CALL_COLUMNS])
COLUMN_NAMES = tuple(c.name for c in CALL_COLUMNS)
# Classification columns are recomputed for every stored row of a center when its call map changes.
CLASS_COLUMNS = ("apco", "bh_class", "eligible", "callmap_version")


class RejectReason(StrEnum):
    """Why an imported row was not stored. A row may have several; each is counted."""

    MISSING_INCIDENT_ID = "missing_incident_id"
    INCIDENT_ID_TOO_LONG = "incident_id_too_long"  # over 128 characters, the intake API's limit
    MISSING_RECEIVED_TIME = "missing_received_time"
    BAD_RECEIVED_TIME_FORMAT = "bad_received_time_format"  # matches none of the profile's formats
    INVALID_RECEIVED_TIME = "invalid_received_time"  # e.g. 2023-02-30, hour 25, month "Smarch"
    RECEIVED_TIME_OUT_OF_RANGE = "received_time_out_of_range"  # before 1971 or after 2099
    MISSING_CALL_TYPE = "missing_call_type"
    CONFLICTING_DUPLICATE_IN_BATCH = "conflicting_duplicate_in_batch"  # same id, different content
    CONFLICTS_WITH_STORED = "conflicts_with_stored"  # stored row differs; --replace to overwrite


MAX_INCIDENT_ID = 128


# --- SQL dialects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dialect:
    """Spellings that differ between DuckDB and Spark SQL; both are given the same meaning."""

    name: str  # "duckdb" | "spark"

    @property
    def spark(self) -> bool:
        return self.name == "spark"

    def lit(self, value: str) -> str:
        """A string literal. Spark SQL reads backslash escapes in literals, DuckDB does not."""
        if self.spark:
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"

    @property
    def string(self) -> str:
        return "STRING" if self.spark else "VARCHAR"

    @property
    def timestamp(self) -> str:
        """The UTC-instant type: Spark's TIMESTAMP is zone-aware, DuckDB's is not."""
        return "TIMESTAMP" if self.spark else "TIMESTAMPTZ"

    def idiv(self, a: str, b: str) -> str:
        """Integer division of non-negative operands (both engines truncate)."""
        return f"(({a}) div ({b}))" if self.spark else f"(({a}) // ({b}))"

    def epoch_us(self, ts: str) -> str:
        return f"unix_micros({ts})" if self.spark else f"epoch_us({ts})"

    def ts_from_us(self, us: str) -> str:
        """UTC instant from epoch microseconds (both sessions run in UTC)."""
        return f"timestamp_micros({us})" if self.spark else f"make_timestamp({us})::TIMESTAMPTZ"

    def date_from_days(self, days: str) -> str:
        return (
            f"date_from_unix_date(CAST({days} AS INT))"
            if self.spark
            else f"(DATE '1970-01-01' + CAST({days} AS INTEGER))"
        )

    def matches(self, s: str, pattern: str) -> str:
        """True when `pattern` is found in `s` (both engines search, anchors make it a full match)."""
        return (
            f"({s} RLIKE {self.lit(pattern)})" if self.spark else f"regexp_matches({s}, {self.lit(pattern)})"
        )

    def extract(self, s: str, pattern: str, group: int) -> str:
        return f"regexp_extract({s}, {self.lit(pattern)}, {group})"

    def utf8(self, s: str) -> str:
        return f"encode({s}, 'UTF-8')" if self.spark else f"encode({s})"

    def unhex(self, hex_lit: str) -> str:
        return f"unhex({self.lit(hex_lit)})"

    def sha256_hex(self, binary: str) -> str:
        return f"sha2({binary}, 256)" if self.spark else f"sha256({binary})"

    def hex_to_bigint(self, hex_str: str) -> str:
        """At most 15 hex digits (60 bits), so the value is a non-negative BIGINT in both engines."""
        return (
            f"CAST(conv({hex_str}, 16, 10) AS BIGINT)" if self.spark else f"CAST('0x' || {hex_str} AS BIGINT)"
        )

    def md5_60(self, s: str) -> str:
        """The first 60 bits of md5(s) as a non-negative BIGINT (the same number in both engines)."""
        return self.hex_to_bigint(f"substr(md5({s}), 1, 15)")

    def const_text(self, value: str, values: Sequence[str] = ()) -> str:
        """A string constant for a stored column. DuckDB: a value of an ENUM of `values` (default: the
        value alone), which its Parquet writer stores as a dictionary without hashing every row (a
        third of the cost of a string column); readers see a plain string. Enum values compare in the
        order given: pass them sorted so comparisons agree with strings."""
        if self.spark:
            return self.lit(value)
        members = ", ".join(self.lit(v) for v in (values or (value,)))
        return f"CAST({self.lit(value)} AS ENUM({members}))"

    def xor(self, a: str, b: str) -> str:
        return f"(({a}) ^ ({b}))" if self.spark else f"xor({a}, {b})"

    def shl(self, a: str, bits: int) -> str:
        return f"shiftleft({a}, {bits})" if self.spark else f"(({a}) << {bits})"

    def hash64(self, s: str) -> str:
        """A fast 64-bit hash, engine-specific: only to find candidates within one query, never stored."""
        return f"xxhash64({s})" if self.spark else f"hash({s})"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")


# --- civil dates as integer arithmetic (H. Hinnant's days_from_civil) -------------------------------


def days_from_civil_sql(d: Dialect, y: str, m: str, day: str) -> str:
    """Days since 1970-01-01 of a valid proleptic Gregorian date (years >= 1 only)."""
    y2 = f"(({y}) - CASE WHEN ({m}) <= 2 THEN 1 ELSE 0 END)"
    era = d.idiv(y2, "400")
    yoe = f"({y2} - {era} * 400)"
    mp = f"(CASE WHEN ({m}) > 2 THEN ({m}) - 3 ELSE ({m}) + 9 END)"
    doy = f"({d.idiv(f'153 * {mp} + 2', '5')} + ({day}) - 1)"
    doe = f"({yoe} * 365 + {d.idiv(yoe, '4')} - {d.idiv(yoe, '100')} + {doy})"
    return f"CAST({era} * 146097 + {doe} - 719468 AS BIGINT)"


def days_from_civil_py(y: int, m: int, d: int) -> int:
    return (date(y, m, d) - date(1970, 1, 1)).days


def days_in_month_sql(y: str, m: str) -> str:
    leap = f"((({y}) % 4 = 0 AND ({y}) % 100 <> 0) OR ({y}) % 400 = 0)"
    return (
        f"(CASE WHEN ({m}) = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
        f"WHEN ({m}) IN (4, 6, 9, 11) THEN 30 ELSE 31 END)"
    )


# --- time zone offset tables -------------------------------------------------------------------------

TZ_TABLE_SCHEMA = pa.schema(
    [
        ("day", pa.int64()),  # day number (since 1970-01-01) of the local or UTC day, per table
        ("off_us", pa.int64()),  # UTC offset in force at the start of the day (east positive)
        ("brk_us", pa.int64()),  # instant (same clock as `day`) from which off2_us applies; null if none
        ("off2_us", pa.int64()),
    ]
)


def _offset_us(dt: datetime) -> int:
    off = dt.utcoffset()
    assert off is not None
    return int(off.total_seconds()) * US_PER_SECOND


def _first_change(offset_at: Callable[[int], int]) -> int:
    """First second of a day (1..86399) whose offset differs from the one at second 0 (one change)."""
    before = offset_at(0)
    lo, hi = 0, 86_399
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if offset_at(mid) != before:
            hi = mid
        else:
            lo = mid
    return hi


@lru_cache(maxsize=16)
def tz_tables(zone: str) -> tuple[pa.Table, pa.Table]:
    """(local table, UTC table) for `zone`, one row per day of FIRST_YEAR..LAST_YEAR.

    Local table, keyed by local day: a wall-clock time L of that day is the instant
    L - (off2 if brk <= L else off), which is Python's reading of a wall-clock time with fold=0
    (a time in a DST gap uses the offset before the change; a repeated time is its first occurrence).
    UTC table, keyed by UTC day: an instant U of that day shows wall-clock U + (off2 if brk <= U else
    off). Both assume at most one offset change per day, true of every real zone since 1971.
    """
    tz = ZoneInfo(zone)
    start = datetime(FIRST_YEAR, 1, 1)  # noqa: DTZ001 - wall-clock arithmetic, zone attached per use
    n_days = (datetime(LAST_YEAR + 1, 1, 1) - start).days  # noqa: DTZ001
    day0 = (start - datetime(1970, 1, 1)).days  # noqa: DTZ001
    local_rows: list[tuple[int, int, int | None, int | None]] = []
    utc_rows: list[tuple[int, int, int | None, int | None]] = []
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for i in range(n_days):
        day = day0 + i
        wall = start + timedelta(days=i)

        def local_off(second: int, wall: datetime = wall) -> int:
            return _offset_us((wall + timedelta(seconds=second)).replace(tzinfo=tz))

        o1, o2 = local_off(0), local_off(86_399)
        if o1 == o2:
            local_rows.append((day, o1, None, None))
        else:
            s = _first_change(local_off)
            local_rows.append((day, o1, day * US_PER_DAY + s * US_PER_SECOND, o2))

        def utc_off(second: int, day: int = day) -> int:
            return _offset_us((epoch + timedelta(days=day, seconds=second)).astimezone(tz))

        u1, u2 = utc_off(0), utc_off(86_399)
        if u1 == u2:
            utc_rows.append((day, u1, None, None))
        else:
            s = _first_change(utc_off)
            utc_rows.append((day, u1, day * US_PER_DAY + s * US_PER_SECOND, u2))

    def table(rows: list[tuple[int, int, int | None, int | None]]) -> pa.Table:
        cols = list(zip(*rows, strict=True))
        return pa.Table.from_arrays([pa.array(c, pa.int64()) for c in cols], schema=TZ_TABLE_SCHEMA)

    return table(local_rows), table(utc_rows)


# --- results of the demand analysis (demand.py, spark.py) -------------------------------------------


@dataclass(frozen=True)
class HourOfWeekRow:
    hour_of_week: int  # dow * 24 + hour
    dow: int  # 0 = Monday
    hour: int
    calls: int
    eligible: int
    in_scope: int
    conditional: int


@dataclass(frozen=True)
class HourOfWeek:
    rows: tuple[HourOfWeekRow, ...]  # always 168, in hour-of-week order
    notes: tuple[str, ...] = ()

    def eligible_counts(self) -> list[int]:
        return [r.eligible for r in self.rows]


@dataclass(frozen=True)
class MonthRow:
    year: int
    month: int
    calls: int
    eligible: int
    in_scope: int
    conditional: int


@dataclass(frozen=True)
class ByMonth:
    rows: tuple[MonthRow, ...]  # months with at least one call, in order
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CoverageRow:
    calendar: str
    eligible_calls: int
    covered: float  # covered_exact + covered_estimated
    share: float  # covered / eligible_calls (0 when there are none)
    covered_exact: int  # calls with an instant inside an open interval
    covered_estimated: float  # expected covered calls of hour-only sources
    added_calls: float  # covered - baseline's covered
    added_share: float  # share - baseline's share
    open_hours_per_week: float  # open hours per week over the data's dates (holidays lower it)


@dataclass(frozen=True)
class Coverage:
    rows: tuple[CoverageRow, ...]  # in the order the calendars were given; the first is the baseline
    zone: str
    notes: tuple[str, ...] = ()

    def row(self, calendar: str) -> CoverageRow:
        return next(r for r in self.rows if r.calendar == calendar)


@dataclass(frozen=True)
class RateRow:
    hour_of_week: int
    dow: int
    hour: int
    calls: float  # eligible calls in the slot (in open time with a calendar; expected for hour-only)
    exposure_hours: float  # hours of this slot in the period (open hours only, with a calendar)
    rate_per_hour: float  # calls / exposure_hours; 0 when the slot was never observed / open


@dataclass(frozen=True)
class ArrivalRates:
    center: str
    calendar: str | None
    first_date: date | None  # the observed period (local dates)
    last_date: date | None
    rows: tuple[RateRow, ...]  # always 168
    notes: tuple[str, ...] = ()

    def rate(self, dow: int, hour: int) -> float:
        return self.rows[dow * 24 + hour].rate_per_hour

    @property
    def calls_per_week(self) -> float:
        """Expected eligible calls in one week: the sum of rate x open hours in an average week."""
        weeks = self.weeks
        return sum(r.rate_per_hour * r.exposure_hours for r in self.rows) / weeks if weeks else 0.0

    @property
    def weeks(self) -> float:
        if self.first_date is None or self.last_date is None:
            return 0.0
        return ((self.last_date - self.first_date).days + 1) / 7


@dataclass(frozen=True)
class RepeatBucket:
    calls_per_key: str  # "1", "2", "3-5", "6-10", "11+"
    keys: int
    calls: int


@dataclass(frozen=True)
class Repeats:
    key: str  # address | caller
    days: int
    eligible_only: bool
    calls: int  # calls with a key and an instant
    calls_without_key: int  # left out: no key (not mapped or empty) or no instant (hour-only)
    distinct_keys: int
    repeat_calls: int  # calls whose key had an earlier call at most `days` x 24 h before
    repeat_keys: int  # keys with at least one repeat call
    buckets: tuple[RepeatBucket, ...]
    notes: tuple[str, ...] = ()

    @property
    def repeat_share(self) -> float:
        return self.repeat_calls / self.calls if self.calls else 0.0
