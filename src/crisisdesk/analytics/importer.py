"""CAD history import: CSV / Parquet exports of any CAD, through a profile, into the analytics store.

`import_files(paths, profile, store_dir, ...)` reads the files, validates every row, classifies it
with the center's call-type map and stores the canonical columns (schema.py). Contract:

- Nothing is dropped silently: `rows_read = rows_stored + rows_replaced + already_stored +
  duplicates_in_batch + rows_rejected`. Rejected rows go to `rejects/<import id>.csv` with every
  reason that applies (`schema.RejectReason`, plus `malformed_line` for CSV lines that cannot be
  split into the header's columns), the file name, and the raw mapped values except address and
  caller columns, which are withheld (find the row in the source file by its id or line).
- Idempotent on (center, incident_id): a row already stored with the same content is counted as
  `already_stored` and not written again; identical copies inside one batch are stored once
  (`duplicates_in_batch`). A row whose stored version differs is rejected as `conflicts_with_stored`,
  unless `replace=True`, when the new version replaces the stored one (`rows_replaced`). Copies of
  one incident id with different content inside one batch are all rejected
  (`conflicting_duplicate_in_batch`): which one is right cannot be told.
- Classification happens here, once: each stored row gets `apco`, `bh_class`, `eligible` and
  `callmap_version`. An import with a call map reclassifies every stored row of the center with it,
  and the store keeps a copy of the map; an import without one reuses the stored copy, then the
  profile's default map; with none at all, calls are `unknown` (a note says so).
- Times: wall-clock times are read in the profile's zone (fold=0 rule: a time inside a DST gap uses
  the offset before the change, a repeated time is its first occurrence), stored as UTC, and the
  local date, hour and day of week are computed in the center's zone.
- Address and caller keys are keyed hashes (keys.py); the linkage key comes from
  CRISISDESK_LINKAGE_KEY unless given.

The SQL is written once (schema.Dialect) and runs on DuckDB (default) or Spark (spark.SparkEngine).
"""

# ruff: noqa: S608 - SQL is generated from profiles, call maps and calendars (never from request input);
# every value goes in through Dialect.lit.

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from crisisdesk.analytics import keys as keymod
from crisisdesk.analytics.callmap import ELIGIBLE_CLASSES, CallMap, CallMapError, load_call_map
from crisisdesk.analytics.profiles import (
    TEXT_FIELDS,
    Profile,
    ProfileError,
    load_profile,
    received_parts_sql,
    received_sql,
)
from crisisdesk.analytics.schema import (
    COLUMN_NAMES,
    MAX_INCIDENT_ID,
    MAX_YEAR,
    MIN_YEAR,
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    Dialect,
    RejectReason,
    tz_tables,
)
from crisisdesk.analytics.store import (
    CadImportError,
    CenterInfo,
    DuckDBEngine,
    Engine,
    SourceFile,
    StoreError,
    StoreMeta,
    lookup_table,
    open_store,
    source_files,
)

MALFORMED_LINE = "malformed_line"
DEFAULT_MEMORY_LIMIT = "4GB"
REASONS = (*[r.value for r in RejectReason], MALFORMED_LINE)


@dataclass(frozen=True)
class ImportReport:
    import_id: str
    center: str
    profile: str
    engine: str
    files: tuple[str, ...]
    rows_read: int
    rows_stored: int  # new incidents written
    rows_replaced: int  # stored incidents overwritten (replace=True)
    already_stored: int  # same incident, same content: nothing to do
    duplicates_in_batch: int  # identical extra copies inside these files
    rows_rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)  # a row may count under several
    rejects_path: str | None = None
    center_rows: int = 0  # rows of the center in the store after the import
    by_class: dict[str, int] = field(default_factory=dict)  # center rows per bh_class after the import
    callmap: str = ""
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.rows_rejected == 0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["files"] = list(self.files)
        out["notes"] = list(self.notes)
        return out


# --- SQL ------------------------------------------------------------------------------------------------


class _Sql:
    """Builds the import's SQL for one profile, one dialect and one linkage key."""

    def __init__(self, profile: Profile, d: Dialect, key: bytes | None):
        self.p = profile
        self.d = d
        self.key = key
        self.columns = profile.source_columns()
        self.index = {c: i for i, c in enumerate(self.columns)}

    def s(self, column: str) -> str:
        return f"s{self.index[column]}"

    def text(self, columns: Sequence[str], sep: str = " ") -> str:
        if not columns:
            return f"CAST(NULL AS {self.d.string})"
        if len(columns) == 1:
            return self.s(columns[0])
        return f"NULLIF(concat_ws({self.d.lit(sep)}, {', '.join(self.s(c) for c in columns)}), '')"

    # -- the whole validated, keyed, canonical row ------------------------------------------------------

    def checked_sql(self) -> str:
        """`staging` (+ tz_local, tz_utc, lookups) -> one canonical row per source row, with reasons."""
        d, p = self.d, self.p
        raw = ", ".join(f"s{i}" for i in range(len(self.columns)))
        text_items = [f"{self.text(p.fields.get(f, ()))} AS {f}" for f in TEXT_FIELDS]
        addr = keymod.normalise_text_sql(d, self.text(p.address))
        normalise = keymod.normalise_phone_sql if p.caller_kind == "phone" else keymod.normalise_text_sql
        caller = normalise(d, self.text(p.caller))
        if self.key is None and p.needs_linkage_key:
            raise CadImportError("a linkage key is needed for address or caller columns")
        key = self.key
        null = "CAST(NULL AS BIGINT)"
        address_key = keymod.keyed_hash_sql(d, key, "address", "__addr") if p.address and key else null
        caller_key = keymod.keyed_hash_sql(d, key, "caller", "__caller") if p.caller and key else null
        incident = self.text(p.incident_id, sep="-") if p.incident_id else f"CAST(NULL AS {d.string})"
        base = f"__rid, __file, {raw}, {incident} AS __id, {', '.join(text_items)}, {addr} AS __addr, {caller} AS __caller"
        if p.received is not None:
            first, *layers = received_sql(p.received, d, self.text(p.received.columns))
            native = ", __recv_us, __recv_aware" if p.received.native else ""
            ctes = [f"l0 AS (SELECT {base}{native}, {', '.join(first)} FROM staging)"]
            for j, items in enumerate(layers):
                name = "v" if j == len(layers) - 1 else f"l{j + 1}"
                ctes.append(f"{name} AS (SELECT l{j}.*, {', '.join(items)} FROM l{j})")
            local_brk = "CASE WHEN tl.brk_us IS NOT NULL AND v.__local_us >= tl.brk_us THEN tl.off2_us ELSE tl.off_us END"
            ctes.append(
                "u AS (SELECT v.*, CASE WHEN v.__offmin IS NOT NULL THEN v.__local_us - CAST(v.__offmin AS BIGINT) * "
                f"{60 * US_PER_SECOND} ELSE v.__local_us - {local_brk} END AS __utc_us FROM v "
                f"LEFT JOIN tz_local tl ON tl.day = {d.idiv('v.__local_us', str(US_PER_DAY))})"
            )
            utc_brk = "CASE WHEN tu.brk_us IS NOT NULL AND u.__utc_us >= tu.brk_us THEN tu.off2_us ELSE tu.off_us END"
            ctes.append(
                f"w AS (SELECT u.*, u.__utc_us + {utc_brk} AS __cl_us FROM u "
                f"LEFT JOIN tz_utc tu ON tu.day = {d.idiv('u.__utc_us', str(US_PER_DAY))})"
            )
            days = d.idiv("__cl_us", str(US_PER_DAY))
            ctes.append(
                f"t AS (SELECT w.*, {d.date_from_days(days)} AS __ldate, ({days} + 3) % 7 AS __dow, "
                f"{d.idiv(f'__cl_us % {US_PER_DAY}', str(US_PER_HOUR))} AS __hour FROM w)"
            )
            time_items = (
                f"{d.ts_from_us('__utc_us')} AS received_utc, __ldate AS local_date, "
                "year(__ldate) AS __year, month(__ldate) AS __month, __dow, __hour"
            )
            missing = "__fmt = -1"
            bad_format = "__fmt = 0"
            invalid = "(__fmt > 0 AND NOT __valid)"
            out_of_range = "(__valid AND NOT __in_range)"
            content_time = f"CAST(__utc_us AS {d.string})"
            src = "t"
        else:
            assert p.received_parts is not None  # parse_profile: exactly one of the two
            ctes = [
                f"b AS (SELECT {base} FROM staging)",
                f"t AS (SELECT b.*, {', '.join(received_parts_sql(p.received_parts, d, self.s))} FROM b)",
            ]
            time_items = (
                f"CAST(NULL AS {d.timestamp}) AS received_utc, CAST(NULL AS DATE) AS local_date, "
                "__py AS __year, __pm AS __month, __pdow AS __dow, __ph AS __hour"
            )
            missing = "__missing"
            valid_parts = "(__py IS NOT NULL AND __pm BETWEEN 1 AND 12 AND __pdow IS NOT NULL AND __ph BETWEEN 0 AND 23)"
            bad_format = "false"
            invalid = f"(NOT __missing AND NOT COALESCE({valid_parts}, false))"
            out_of_range = f"(NOT __missing AND COALESCE({valid_parts}, false) AND __py NOT BETWEEN {MIN_YEAR} AND {MAX_YEAR})"
            content_time = f"concat_ws('-', CAST(__py AS {d.string}), CAST(__pm AS {d.string}), CAST(__pdow AS {d.string}), CAST(__ph AS {d.string}))"
            src = "t"
        R = RejectReason
        reasons = [
            ("__id IS NULL" if p.incident_id else "false", R.MISSING_INCIDENT_ID),
            (f"length(__id) > {MAX_INCIDENT_ID}" if p.incident_id else "false", R.INCIDENT_ID_TOO_LONG),
            (missing, R.MISSING_RECEIVED_TIME),
            (bad_format, R.BAD_RECEIVED_TIME_FORMAT),
            (invalid, R.INVALID_RECEIVED_TIME),
            (out_of_range, R.RECEIVED_TIME_OUT_OF_RANGE),
            ("call_type IS NULL", R.MISSING_CALL_TYPE),
        ]
        reason_sql = (
            "concat_ws(';', "
            + ", ".join(f"CASE WHEN COALESCE({cond}, false) THEN '{r.value}' END" for cond, r in reasons)
            + ")"
        )
        content_parts = [content_time, *TEXT_FIELDS, "CAST(address_key AS {s})", "CAST(caller_key AS {s})"]
        content = (
            "concat_ws('|', "
            + ", ".join(f"COALESCE({c.format(s=d.string)}, '')" for c in content_parts)
            + ")"
        )
        lookups = {lk.target: lk for lk in p.lookups}
        looked = []
        joins = []
        for i, target in enumerate(("call_type_text", "disposition_text", "neighborhood")):
            if target in lookups:
                source = lookups[target].source_field
                looked.append(f"lk{i}.value AS {target}")
                joins.append(f"LEFT JOIN lk_{target} lk{i} ON lk{i}.key = upper(trim(r.{source}))")
            else:
                looked.append(f"r.{target}")
        ctes.append(
            f"k AS (SELECT {src}.*, {time_items}, {address_key} AS address_key, {caller_key} AS caller_key, "
            f"{reason_sql} AS reasons FROM {src})"
        )
        ctes.append(f"m AS (SELECT k.*, md5({content}) AS __content FROM k)")
        if p.incident_id:
            ident = "__id"
        else:
            ident = f"'c' || __content || '-' || CAST(row_number() OVER (PARTITION BY __content ORDER BY __file) AS {d.string})"
        ctes.append(f"i AS (SELECT m.*, {ident} AS incident_id FROM m)")
        other = [f for f in TEXT_FIELDS if f not in {"call_type_text", "disposition_text", "neighborhood"}]
        return (
            "WITH " + ",\n".join(ctes) + "\n"
            "SELECT r.__rid, r.__file, "
            "r.incident_id, r.received_utc, r.local_date, "
            "CAST(r.__year AS SMALLINT) AS local_year, CAST(r.__month AS TINYINT) AS local_month, "
            "CAST(r.__dow AS TINYINT) AS local_dow, CAST(r.__hour AS TINYINT) AS local_hour, "
            "CAST(r.__dow * 24 + r.__hour AS SMALLINT) AS hour_of_week, "
            f"{', '.join('r.' + f for f in other)}, {', '.join(looked)}, "
            "r.address_key, r.caller_key, "
            f"md5(concat_ws('|', r.incident_id, r.__content)) AS record_hash, r.reasons "
            f"FROM i r {' '.join(joins)}"
        )

    @staticmethod
    def dup_sql() -> str:
        """Incident ids that occur more than once among the valid rows of the batch (usually none)."""
        return (
            "SELECT incident_id, min(record_hash) AS lo, max(record_hash) AS hi FROM checked "
            "WHERE reasons = '' GROUP BY incident_id HAVING count(*) > 1"
        )

    @staticmethod
    def copies_sql() -> str:
        """Copy number of each valid row whose id repeats (1 = the one that may be stored)."""
        return (
            "SELECT c.__rid, row_number() OVER (PARTITION BY c.incident_id ORDER BY c.__file, c.record_hash, c.__rid) "
            "AS copy_no FROM checked c JOIN dup d ON d.incident_id = c.incident_id WHERE c.reasons = ''"
        )

    @staticmethod
    def stored_sql() -> str:
        """The stored version (record hash) of every incident id this batch brings again."""
        return (
            "SELECT e.incident_id, e.record_hash FROM existing e "
            "JOIN (SELECT DISTINCT incident_id FROM checked WHERE reasons = '') c ON c.incident_id = e.incident_id"
        )

    @staticmethod
    def annotated_sql(replace: bool) -> str:
        """Every row with its final reasons and outcome: rejected, duplicate_in_batch, new,
        already_stored or replaced. Only small tables are joined, so this stays a view."""
        return f"""
SELECT a.*, CASE WHEN final_reasons <> '' THEN 'rejected' WHEN copy_no > 1 THEN 'duplicate_in_batch'
                 WHEN stored_hash IS NULL THEN 'new' WHEN stored_hash = record_hash THEN 'already_stored'
                 ELSE 'replaced' END AS outcome
FROM (
  SELECT c.*, st.record_hash AS stored_hash, COALESCE(k.copy_no, 1) AS copy_no,
    CASE WHEN c.reasons <> '' THEN c.reasons
         WHEN d.lo <> d.hi THEN '{RejectReason.CONFLICTING_DUPLICATE_IN_BATCH.value}'
         WHEN st.record_hash IS NOT NULL AND st.record_hash <> c.record_hash AND NOT {str(replace).lower()}
           THEN '{RejectReason.CONFLICTS_WITH_STORED.value}'
         ELSE '' END AS final_reasons
  FROM checked c
  LEFT JOIN dup d ON c.reasons = '' AND d.incident_id = c.incident_id
  LEFT JOIN copies k ON k.__rid = c.__rid
  LEFT JOIN stored_match st ON c.reasons = '' AND st.incident_id = c.incident_id
) a"""

    def final_sql(self, center: str, import_id: str, call_map: CallMap | None) -> str:
        """The center's rows after the import: kept stored rows + new rows, (re)classified."""
        d = self.d
        cols = list(COLUMN_NAMES)
        kept_cols = ", ".join(f"e.{c}" for c in cols)
        fresh = []
        for c in cols:
            fresh.append(
                {
                    "center": f"{d.lit(center)} AS center",
                    "apco": "'' AS apco",
                    "bh_class": "'unknown' AS bh_class",
                    "eligible": "false AS eligible",
                    "callmap_version": f"CAST(NULL AS {d.string}) AS callmap_version",
                    "source_file": "__file AS source_file",
                    "import_id": f"{d.lit(import_id)} AS import_id",
                }.get(c, c)
            )
        union = (
            "WITH upd AS (SELECT incident_id FROM annotated WHERE outcome = 'replaced'),\n"
            f"u AS (SELECT {kept_cols} FROM existing e LEFT JOIN upd ON upd.incident_id = e.incident_id "
            "WHERE upd.incident_id IS NULL\n"
            f"      UNION ALL SELECT {', '.join(fresh)} FROM annotated WHERE outcome IN ('new', 'replaced'))\n"
        )
        # Eligible rows first, in time order: analyses filter on eligible, and Parquet row-group
        # statistics then let the engine skip the other row groups.
        order = " ORDER BY eligible DESC, received_utc"
        if call_map is None:
            return union + f"SELECT {', '.join(cols)} FROM u" + order
        eligible = ", ".join(d.lit(c.value) for c in sorted(ELIGIBLE_CLASSES))
        version = d.lit(f"{call_map.center}/{call_map.version}")
        classified = {
            "apco": "COALESCE(cm.apco, '') AS apco",
            "bh_class": "COALESCE(cm.bh_class, 'unknown') AS bh_class",
            "eligible": f"COALESCE(cm.bh_class IN ({eligible}), false) AS eligible",
            "callmap_version": f"{version} AS callmap_version",
        }
        select = ", ".join(classified.get(c, f"u.{c}") for c in cols)
        return (
            union
            + f"SELECT {select} FROM u LEFT JOIN callmap cm ON cm.code = upper(trim(u.call_type))"
            + order
        )

    def rejects_sql(self) -> str:
        """source_file, line (malformed lines, DuckDB only), reasons, then the raw mapped columns."""
        d = self.d
        withheld = set(self.p.address) | set(self.p.caller)
        meta = {"source_file", "line", "reasons"}

        def name(c: str) -> str:
            return _quote(d, f"{c} (raw)" if c in meta else c)

        raw = []
        for c in self.columns:
            value = "'[withheld]'" if c in withheld else f"s.s{self.index[c]}"
            raw.append(f"{value} AS {name(c)}")
        nulls = ", ".join(f"CAST(NULL AS {d.string}) AS {name(c)}" for c in self.columns)
        return (
            f"SELECT a.__file AS source_file, CAST(NULL AS BIGINT) AS line, a.final_reasons AS reasons, "
            f"{', '.join(raw)} FROM annotated a JOIN staging s ON s.__rid = a.__rid WHERE a.outcome = 'rejected'\n"
            f"UNION ALL SELECT __file, line, '{MALFORMED_LINE}: ' || min(error), {nulls} "
            "FROM malformed GROUP BY __file, line"
        )

    def reason_counts_sql(self) -> str:
        sums = ", ".join(
            f"sum(CASE WHEN instr(';' || final_reasons || ';', ';{r};') > 0 THEN 1 ELSE 0 END)"
            for r in REASONS
            if r != MALFORMED_LINE
        )
        return f"SELECT {sums} FROM annotated WHERE outcome = 'rejected'"


def _quote(d: Dialect, name: str) -> str:
    return f"`{name.replace('`', '``')}`" if d.spark else '"' + name.replace('"', '""') + '"'


# --- orchestration --------------------------------------------------------------------------------


def _resolve_call_map(
    call_map: CallMap | str | Path | None, profile: Profile, stored: CallMap | None
) -> tuple[CallMap | None, list[str]]:
    if isinstance(call_map, CallMap):
        return call_map, []
    if call_map is not None:
        try:
            return load_call_map(call_map), []
        except (OSError, CallMapError) as exc:
            raise CadImportError(f"call map {call_map}: {exc}") from None
    if stored is not None:
        return stored, []
    if profile.call_map:
        try:
            return load_call_map(profile.call_map), []
        except (OSError, CallMapError):
            pass
        return None, [
            f"call map {profile.call_map!r} (the profile's default) is not available: calls are stored as "
            "'unknown' until an import with --call-map reclassifies them"
        ]
    return None, ["no call map: calls are stored as 'unknown' until an import with --call-map"]


def import_files(
    paths: Sequence[str | Path],
    profile: Profile | str | Path,
    store_dir: str | Path | None = None,
    call_map: CallMap | str | Path | None = None,
    linkage_key: bytes | None = None,
    *,
    replace: bool = False,
    engine: Engine | None = None,
    lookup_dir: str | Path | None = None,
    progress: bool | None = None,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
) -> ImportReport:
    """Import CAD export files into the store. See the module docstring for the contract.

    `memory_limit` (DuckDB engine only; None = DuckDB's default, 80 % of RAM) bounds memory on big
    imports: beyond it DuckDB spills to the store's .tmp folder. 10 million rows: 44 s and 4.2 GB peak
    with the default 4GB, 37 s and 10.7 GB without a limit (2 cores).

    Raises CadImportError / ProfileError / StoreError / keys.LinkageKeyError before anything is
    written when the import cannot be done as asked.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    files = source_files(paths, profile.file_format)
    if linkage_key is not None:
        linkage_key = keymod.check_key(linkage_key)
    elif profile.address or profile.caller:
        linkage_key = keymod.linkage_key_from_env(required=profile.needs_linkage_key)
    store = open_store(store_dir, create=True)
    own_engine = engine is None
    eng: Engine = engine or DuckDBEngine(memory_limit=memory_limit, temp_directory=store.root / ".tmp")
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(files) + 4, desc=f"import {profile.center}", unit="step", disable=not show)
    try:
        with store.lock():
            return _run(store, eng, files, profile, call_map, linkage_key, replace, lookup_dir, bar)
    finally:
        bar.close()
        if own_engine:
            eng.close()


def _run(
    store: Any,
    eng: Engine,
    files: list[SourceFile],
    profile: Profile,
    call_map: CallMap | str | Path | None,
    key: bytes | None,
    replace: bool,
    lookup_dir: str | Path | None,
    bar: Any,
) -> ImportReport:
    meta: StoreMeta = store.meta()
    center = profile.center
    notes: list[str] = list(profile.notes)
    if key is not None:
        fp = keymod.fingerprint(key)
        if meta.key_fingerprint and meta.key_fingerprint != fp:
            raise keymod.LinkageKeyError(
                "this store was built with another linkage key: keys would never match (see docs/analytics.md)"
            )
    known = meta.centers.get(center)
    if known and known.timezone != profile.timezone:
        raise CadImportError(
            f"center {center} is stored in zone {known.timezone}, the profile says {profile.timezone}"
        )
    if known and known.hour_only != profile.hour_only:
        raise CadImportError(f"center {center}: stored rows and this profile differ in time precision")
    cmap, cm_notes = _resolve_call_map(call_map, profile, store.call_map(center))
    notes += cm_notes
    if key is None and (profile.address or profile.caller):
        notes.append(f"no linkage key ({keymod.LINKAGE_KEY_ENV}): address and caller keys are empty")
    sql = _Sql(profile, eng.dialect, key)

    folders = [Path(lookup_dir)] if lookup_dir else []
    folders += [f.path.parent for f in files]
    if profile.path is not None:
        folders.append(profile.path.parent)
    for lk in profile.lookups:
        table, lk_notes = lookup_table(lk, folders)
        eng.register(f"lk_{lk.target}", table)
        notes += lk_notes
    zone = profile.received.zone if profile.received else profile.timezone
    eng.register("tz_local", tz_tables(zone)[0])
    eng.register("tz_utc", tz_tables(profile.timezone)[1])
    if cmap is not None:
        eng.register(
            "callmap",
            pa.table(
                {
                    "code": list(cmap.entries),
                    "apco": [e.apco for e in cmap.entries.values()],
                    "bh_class": [e.bh_class.value for e in cmap.entries.values()],
                }
            ),
        )

    native = profile.received.columns[0] if profile.received and profile.received.native else None
    bar.set_postfix_str("reading")
    try:
        read = eng.read_sources(files, sql.columns, profile.optional_columns, native, profile.csv)
    except FileNotFoundError as exc:
        raise CadImportError(str(exc)) from None
    bar.update(len(files))
    bar.set_postfix_str("validating")
    eng.materialize("checked", sql.checked_sql())
    eng.register_calls("existing", store.center_files(center))
    eng.materialize("dup", sql.dup_sql())
    eng.materialize("copies", sql.copies_sql())
    eng.materialize("stored_match", sql.stored_sql())
    eng.view("annotated", sql.annotated_sql(replace))
    bar.update(1)
    outcomes = dict(eng.rows("SELECT outcome, count(*) FROM annotated GROUP BY outcome"))
    counts = {k: int(v) for k, v in outcomes.items()}
    by_reason: dict[str, int] = {}
    if counts.get("rejected"):
        (row,) = eng.rows(sql.reason_counts_sql())
        by_reason = {r: int(n) for r, n in zip(REASONS, row, strict=False) if n}
    if read.malformed:
        by_reason[MALFORMED_LINE] = read.malformed
    import_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    rejected = counts.get("rejected", 0) + read.malformed
    rejects_path = None
    if rejected:
        rejects_path = store.rejects_dir / f"{import_id}.csv"
        eng.write_csv(sql.rejects_sql(), rejects_path)
    bar.update(1)
    bar.set_postfix_str("writing")
    changed = counts.get("new", 0) + counts.get("replaced", 0)
    reclassify = cmap is not None and (known is None or known.callmap != f"{cmap.center}/{cmap.version}")
    if changed or reclassify:
        tmp = store.calls_dir / f".tmp-{import_id}"
        eng.write_parquet(sql.final_sql(center, import_id, cmap), tmp)
        store.replace_center(center, tmp)
    bar.update(1)
    eng.register_calls("stored", store.center_files(center))
    by_class = {
        str(c): int(n) for c, n in eng.rows("SELECT bh_class, count(*) FROM stored GROUP BY bh_class")
    }
    if cmap is not None:
        store.save_call_map(center, cmap)
    centers = dict(meta.centers)
    centers[center] = CenterInfo(
        center=center,
        timezone=profile.timezone,
        profile=profile.name,
        name=profile.center_name,
        callmap=f"{cmap.center}/{cmap.version}" if cmap else (known.callmap if known else ""),
        hour_only=profile.hour_only,
        notes=profile.notes,
    )
    fp_value = keymod.fingerprint(key) if key is not None else meta.key_fingerprint
    store.write_meta(StoreMeta(key_fingerprint=fp_value, centers=centers))
    report = ImportReport(
        import_id=import_id,
        center=center,
        profile=profile.name,
        engine=eng.dialect.name,
        files=tuple(f.path.name for f in files),
        rows_read=read.rows + read.malformed,
        rows_stored=counts.get("new", 0),
        rows_replaced=counts.get("replaced", 0),
        already_stored=counts.get("already_stored", 0),
        duplicates_in_batch=counts.get("duplicate_in_batch", 0),
        rows_rejected=rejected,
        rejected_by_reason=by_reason,
        rejects_path=str(rejects_path) if rejects_path else None,
        center_rows=sum(by_class.values()),
        by_class=by_class,
        callmap=centers[center].callmap,
        notes=tuple(notes),
    )
    store.log_import({"at": datetime.now(UTC).isoformat(), **report.as_dict()})
    store.write_duckdb_views()
    bar.update(1)
    return report


def reason_summary(by_reason: Mapping[str, int]) -> str:
    return ", ".join(f"{r} {n}" for r, n in sorted(by_reason.items(), key=lambda x: -x[1])) or "none"


__all__ = [
    "CadImportError",
    "ImportReport",
    "ProfileError",
    "StoreError",
    "import_files",
    "reason_summary",
]
