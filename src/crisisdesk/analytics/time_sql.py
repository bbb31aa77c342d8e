"""SQL that reads a profile's time columns into UTC and local instants: the same text runs on DuckDB
and Spark (schema.Dialect). Used by the import's SQL (import_sql.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from crisisdesk.analytics.profiles import (
    DAY_NAME_RE,
    DAYS,
    DOW_NUMBERINGS,
    MONTH_NAME_RE,
    MONTHS,
    Received,
    ReceivedParts,
)
from crisisdesk.analytics.schema import (
    MAX_YEAR,
    MIN_YEAR,
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    Dialect,
    days_from_civil_py,
    days_from_civil_sql,
    days_in_month_sql,
)

# --- SQL reading a profile's time columns (the same text runs on DuckDB and Spark) ------------------


def _names(names: Sequence[str], first: int) -> str:
    return " ".join(f"WHEN '{n}' THEN {i + first}" for i, n in enumerate(names))


def received_sql(rec: Received, d: Dialect, rt: str) -> list[list[str]]:
    """SELECT items of successive CTE layers: format match, (structs,) components, numbers, validity.

    The last layer yields __valid (a real date and time), __in_range (year MIN_YEAR..MAX_YEAR),
    __local_us (wall-clock microseconds, or the instant when __offmin is set) and __offmin (the
    offset written in the value, minutes east of UTC; 0 for zone-aware Parquet timestamps).
    """
    if rec.native:
        lo = days_from_civil_py(MIN_YEAR, 1, 1) * US_PER_DAY
        hi = days_from_civil_py(MAX_YEAR + 1, 1, 1) * US_PER_DAY
        in_range = f"(__recv_us >= {lo} AND __recv_us < {hi})"
        return [
            ["CASE WHEN __recv_us IS NULL THEN -1 ELSE 1 END AS __fmt"],
            ["CASE WHEN __recv_aware THEN 0 END AS __offmin"],
            [
                "__fmt = 1 AS __valid",
                f"COALESCE({in_range}, false) AS __in_range",
                f"CASE WHEN {in_range} THEN __recv_us END AS __local_us",
            ],
        ]
    fmts = rec.formats
    cases = " ".join(f"WHEN {d.matches('__rt', f.regex)} THEN {k + 1}" for k, f in enumerate(fmts))
    layer1 = [f"{rt} AS __rt", f"CASE WHEN {rt} IS NULL THEN -1 {cases} ELSE 0 END AS __fmt"]
    components = sorted({g for f in fmts for g in f.groups})
    structs: list[str] = []
    if not d.spark:
        # DuckDB extracts all groups of a format in one pass, as a struct.
        for k, f in enumerate(fmts):
            names = ", ".join(d.lit(g) for g in f.groups)
            structs.append(
                f"CASE WHEN __fmt = {k + 1} THEN regexp_extract(__rt, {d.lit(f.regex)}, [{names}]) END AS __x{k}"
            )
    layer2: list[str] = []
    for comp_name in components:
        whens = []
        for k, f in enumerate(fmts):
            if comp_name in f.groups:
                value = (
                    d.extract("__rt", f.regex, f.groups.index(comp_name) + 1)
                    if d.spark
                    else f"__x{k}.{comp_name}"
                )
                whens.append(f"WHEN {k + 1} THEN {value}")
        layer2.append(f"CASE __fmt {' '.join(whens)} END AS __c_{comp_name}")

    def comp(name: str) -> str:
        return f"__c_{name}" if name in components else f"CAST(NULL AS {d.string})"

    month_name = f"CASE upper(substr({comp('month_name')}, 1, 3)) {_names(MONTHS, 1)} END"
    h12 = f"CAST({comp('hour12')} AS INT)"
    hour = (
        f"CASE WHEN {comp('hour12')} IS NOT NULL THEN ({h12} % 12) + "
        f"CASE WHEN upper({comp('ampm')}) = 'PM' THEN 12 ELSE 0 END ELSE CAST({comp('hour')} AS INT) END"
    )
    off = comp("offset")
    # CASE, not OR: engines may evaluate both sides of OR, and 'Z' has no digits to cast.
    numeric = f"({off} IS NOT NULL AND upper({off}) <> 'Z')"
    off_h = f"(CASE WHEN {numeric} THEN CAST(substr({off}, 2, 2) AS INT) ELSE 0 END)"
    off_m = f"(CASE WHEN {numeric} THEN CAST(substr({off}, length({off}) - 1, 2) AS INT) ELSE 0 END)"
    offmin = (
        f"CASE WHEN {off} IS NULL THEN NULL ELSE "
        f"(CASE WHEN substr({off}, 1, 1) = '-' THEN -1 ELSE 1 END) * ({off_h} * 60 + {off_m}) END"
    )
    off_ok = f"({off_h} <= 18 AND {off_m} <= 59)"
    layer3 = [
        f"CAST({comp('year')} AS INT) AS __y",
        f"COALESCE(CAST({comp('month')} AS INT), {month_name}) AS __mo",
        f"CAST({comp('day')} AS INT) AS __d",
        f"{hour} AS __h",
        f"COALESCE(CAST({comp('minute')} AS INT), 0) AS __mi",
        f"COALESCE(CAST({comp('second')} AS INT), 0) AS __s",
        f"COALESCE(CAST(rpad({comp('fraction')}, 6, '0') AS BIGINT), 0) AS __fr",
        f"{offmin} AS __offmin",
    ]
    valid = (
        f"COALESCE(__fmt > 0 AND __mo BETWEEN 1 AND 12 AND __d BETWEEN 1 AND {days_in_month_sql('__y', '__mo')} "
        f"AND __h BETWEEN 0 AND 23 AND ({comp('hour12')} IS NULL OR {h12} BETWEEN 1 AND 12) "
        f"AND __mi BETWEEN 0 AND 59 AND __s BETWEEN 0 AND 59 AND {off_ok}, false)"
    )
    local_us = (
        f"{days_from_civil_sql(d, '__y', '__mo', '__d')} * {US_PER_DAY} + CAST(__h AS BIGINT) * {US_PER_HOUR} "
        f"+ CAST(__mi AS BIGINT) * {60 * US_PER_SECOND} + CAST(__s AS BIGINT) * {US_PER_SECOND} + __fr"
    )
    in_range = f"COALESCE(__y BETWEEN {MIN_YEAR} AND {MAX_YEAR}, false)"
    layer4 = [
        f"{valid} AS __valid",
        f"{in_range} AS __in_range",
        f"CASE WHEN {valid} AND {in_range} THEN {local_us} END AS __local_us",
    ]
    return [layer1, *([structs] if structs else []), layer2, layer3, layer4]


def received_parts_sql(p: ReceivedParts, d: Dialect, col: Callable[[str], str]) -> list[str]:
    """SELECT items reading hour-level parts: __py, __pm, __pdow (0 = Monday), __ph, __missing."""
    y, mo, dw, h = col(p.year), col(p.month), col(p.day_of_week), col(p.hour)
    first, first_day = DOW_NUMBERINGS[p.day_of_week_numbers]
    one_two, one, four = r"^[0-9]{1,2}\z", r"^[0-9]\z", r"^[0-9]{4}\z"
    month_names = r"(?i)^(?:" + MONTH_NAME_RE + r")\z"
    day_names = r"(?i)^(?:" + DAY_NAME_RE + r")\z"
    month = (
        f"CASE WHEN {d.matches(mo, one_two)} THEN CAST({mo} AS INT) "
        f"WHEN {d.matches(mo, month_names)} THEN "
        f"CASE upper(substr({mo}, 1, 3)) {_names(MONTHS, 1)} END END"
    )
    dow_n = f"CAST({dw} AS INT)"
    dow = (
        f"CASE WHEN {d.matches(dw, one)} THEN CASE WHEN {dow_n} BETWEEN {first} AND {first + 6} "
        f"THEN ({dow_n} - {first} + {first_day}) % 7 END "
        f"WHEN {d.matches(dw, day_names)} THEN "
        f"CASE upper(substr({dw}, 1, 3)) {_names(DAYS, 0)} END END"
    )
    return [
        f"CASE WHEN {d.matches(y, four)} THEN CAST({y} AS INT) END AS __py",
        f"{month} AS __pm",
        f"{dow} AS __pdow",
        f"CASE WHEN {d.matches(h, one_two)} THEN CAST({h} AS INT) END AS __ph",
        f"({y} IS NULL OR {mo} IS NULL OR {dw} IS NULL OR {h} IS NULL) AS __missing",
    ]
