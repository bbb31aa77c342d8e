"""The SQL of the CAD import (importer.py), written once for DuckDB and Spark (schema.Dialect).

`ImportSql` builds every statement of one import from the profile, the dialect, the linkage key and
the call map: the per-row pipeline from `staging` (trimmed source strings) to canonical rows, the
cheap validation pass, the resolution of the few rows that need other rows (repeated or stored ids,
rows with reasons), and the rows written. The importer decides which statements run and in what
order; nothing here touches an engine.
"""

# ruff: noqa: S608 - SQL is generated from profiles, call maps and calendars (never from request input);
# every value goes in through Dialect.lit.

from __future__ import annotations

from collections.abc import Sequence

from crisisdesk.analytics import keys as keymod
from crisisdesk.analytics.callmap import ELIGIBLE_CLASSES, CallMap
from crisisdesk.analytics.profiles import TEXT_FIELDS, Profile
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
    days_from_civil_py,
)
from crisisdesk.analytics.store import CadImportError
from crisisdesk.analytics.time_sql import received_parts_sql, received_sql

MALFORMED_LINE = "malformed_line"
REASONS = (*[r.value for r in RejectReason], MALFORMED_LINE)

# How each keyed column is hashed (the keys are the same either way; this is only speed). HMAC-SHA256
# costs about as much per value as hashing it into a join table, so a table of hashes per distinct
# value pays off when values repeat: addresses (blocks, frequent locations) do; caller numbers are
# mostly one-off, so they are hashed per row.
KEY_MODES = {"address": "table", "caller": "row"}
KEY_COLUMNS = {"address": "__addr", "caller": "__caller"}


class ImportSql:
    """Builds the import's SQL for one profile, one dialect, one linkage key and one call map.

    The pipeline from `staging` (trimmed source strings) to canonical rows is `checked_sql`: the base
    layer classifies each row with the call map (a join on the call type), the next layers read the
    time, convert it with the offset tables and compute reasons, keyed hashes and the record hash.
    `where` filters the base layer (by `__id` and `eligible`), so a pass that wants a subset of the
    rows pays the expensive layers only for that subset. `bad_flags_sql` is the cheap part of the
    pipeline: the reasons alone.
    """

    def __init__(
        self,
        profile: Profile,
        d: Dialect,
        key: bytes | None,
        call_map: CallMap | None = None,
    ):
        self.p = profile
        self.d = d
        self.key = key
        self.call_map = call_map
        self.columns = profile.source_columns()
        self.index = {c: i for i, c in enumerate(self.columns)}
        if key is None and profile.needs_linkage_key:
            raise CadImportError("a linkage key is needed for address or caller columns")
        # address / caller -> "none" (no column or no key), "row" (hash per row), "table" (keys_<kind>)
        self.key_modes = {
            kind: KEY_MODES[kind] if (self.key_columns(kind) and key) else "none" for kind in KEY_COLUMNS
        }

    def s(self, column: str) -> str:
        return f"s{self.index[column]}"

    def text(self, columns: Sequence[str], sep: str = " ") -> str:
        if not columns:
            return f"CAST(NULL AS {self.d.string})"
        if len(columns) == 1:
            return self.s(columns[0])
        return f"NULLIF(concat_ws({self.d.lit(sep)}, {', '.join(self.s(c) for c in columns)}), '')"

    # -- expressions over staging --------------------------------------------------------------------

    def id_expr(self) -> str:
        return (
            self.text(self.p.incident_id, sep="-") if self.p.incident_id else f"CAST(NULL AS {self.d.string})"
        )

    def key_columns(self, kind: str) -> tuple[str, ...]:
        return self.p.address if kind == "address" else self.p.caller

    def key_raw(self, kind: str) -> str:
        """The value a key is made from, before normalisation (several columns joined with a space)."""
        return self.text(self.key_columns(kind))

    def normalise(self, kind: str, expr: str) -> str:
        if kind == "caller" and self.p.caller_kind == "phone":
            return keymod.normalise_phone_sql(self.d, expr)
        return keymod.normalise_text_sql(self.d, expr)

    def key_table_sql(self, kind: str) -> str:
        """keys_<kind>: each distinct raw value and its keyed hash (normalised first)."""
        assert self.key is not None
        hashed = keymod.keyed_hash_sql(self.d, self.key, kind, "n")
        return (
            f"SELECT raw, {hashed} AS hashed FROM (SELECT raw, {self.normalise(kind, 'raw')} AS n FROM "
            f"(SELECT DISTINCT {self.key_raw(kind)} AS raw FROM staging) x WHERE raw IS NOT NULL) y"
        )

    def ids_sql(self) -> str:
        """The incident id of every row (of `checked` when ids are derived from the whole row)."""
        if self.p.derived_id:
            return "SELECT incident_id FROM checked"
        return f"SELECT {self.id_expr()} AS incident_id FROM staging"

    def flagged_sql(self) -> str:
        """64-bit hashes of the ids that need a look at other rows or at reasons: ids found more than
        once, and ids of rows with reasons (rows without an id share one hash). One pass over the id,
        time and call type; grouping hashes needs a fraction of the memory of grouping the ids."""
        d = self.d
        src = (
            "SELECT incident_id, reasons <> '' AS bad FROM checked"
            if self.p.derived_id
            else self.bad_flags_sql()
        )
        return (
            f"SELECT h FROM (SELECT {d.hash64('incident_id')} AS h, bad FROM ({src}) r) x GROUP BY h "
            "HAVING count(*) > 1 OR max(CASE WHEN bad THEN 1 ELSE 0 END) = 1"
        )

    # -- the pipeline -----------------------------------------------------------------------------------

    def call_type_code(self) -> str:
        """The call-map code of a row: its call type, trimmed and upper-cased."""
        return f"upper(trim({self.text(self.p.fields.get('call_type', ()))}))"

    def eligible_sql(self) -> str:
        """True when the row's call type is eligible in the call map: what the classification join
        gives, as a condition on the source column alone (a filter the scan can apply early)."""
        if self.call_map is None:
            return "false"
        codes = [c for c, e in self.call_map.entries.items() if e.bh_class in ELIGIBLE_CLASSES]
        if not codes:
            return "false"
        return f"COALESCE({self.call_type_code()} IN ({', '.join(self.d.lit(c) for c in codes)}), false)"

    def _base(self, where: str | None, classify: bool, eligible: bool | None = None) -> str:
        d, p = self.d, self.p
        items = ["s.*", f"{self.id_expr()} AS __id"]
        items += [f"{self.text(p.fields.get(f, ()))} AS {f}" for f in TEXT_FIELDS]
        for kind, column in KEY_COLUMNS.items():
            mode = self.key_modes[kind]
            if mode == "row":
                items.append(f"{self.normalise(kind, self.key_raw(kind))} AS {column}")
            elif mode == "table":
                items.append(f"{self.key_raw(kind)} AS {column}")
        join = ""
        if classify and self.call_map is not None:
            classes = ", ".join(d.lit(c.value) for c in sorted(ELIGIBLE_CLASSES))
            cm = self.call_map
            items += [
                "COALESCE(cm.apco, '') AS apco",
                "COALESCE(cm.bh_class, 'unknown') AS bh_class",
                f"COALESCE(cm.bh_class IN ({classes}), false) AS eligible",
                f"{d.const_text(f'{cm.center}/{cm.version}')} AS callmap_version",
            ]
            join = f" LEFT JOIN callmap cm ON cm.code = {self.call_type_code()}"
        elif classify:
            items += [
                "'' AS apco",
                "'unknown' AS bh_class",
                "false AS eligible",
                f"CAST(NULL AS {d.string}) AS callmap_version",
            ]
        sql = f"SELECT {', '.join(items)} FROM staging s{join}"
        if eligible is not None:
            sql += f" WHERE {'' if eligible else 'NOT '}{self.eligible_sql()}"
        return f"SELECT * FROM ({sql}) b0 WHERE {where}" if where else sql

    def fast_formats(self) -> dict[int, str]:
        """DuckDB only: format number -> strptime format, for the formats DuckDB's strptime reads the
        same way (all but %z). A value whose shape matched the format's regex and that strptime reads
        is that wall-clock time; one strptime refuses (Feb 30, hour 24...) takes the regex path, which
        says why. strptime is several times faster than extracting the regex groups."""
        rec = self.p.received
        if self.d.spark or rec is None or rec.native:
            return {}
        return {k + 1: f.text for k, f in enumerate(rec.formats) if "offset" not in f.groups}

    def _time_layers(
        self, where: str | None, classify: bool, convert: bool, eligible: bool | None = None
    ) -> tuple[list[str], str, str]:
        """CTEs from staging to the time columns: (ctes, last CTE name, SELECT items of the time columns).

        `convert` adds the offset-table joins (UTC instant, local date and hour); the reasons do not
        need them.
        """
        d, p = self.d, self.p
        ctes = [f"b AS ({self._base(where, classify, eligible)})"]
        if p.received is not None:
            first, *layers = received_sql(p.received, d, self.text(p.received.columns))
            ctes.append(f"l0 AS (SELECT b.*, {', '.join(first)} FROM b)")
            prev = "l0"
            fast = self.fast_formats()
            if fast:
                whens = " ".join(
                    f"WHEN {k} THEN epoch_us(try_strptime(__rt, {d.lit(f)}))" for k, f in fast.items()
                )
                # __fmt = -2 (no format) for rows read by strptime, so the regex layers skip them.
                ctes.append(f"f0 AS (SELECT l0.*, CASE __fmt {whens} END AS __fast_us FROM l0)")
                ctes.append(
                    "f1 AS (SELECT * REPLACE (CASE WHEN __fast_us IS NOT NULL THEN -2 ELSE __fmt END AS __fmt), "
                    "__fmt AS __fmt_seen FROM f0)"
                )
                prev = "f1"
            for j, items in enumerate(layers):
                name = "v" if j == len(layers) - 1 else f"l{j + 1}"
                ctes.append(f"{name} AS (SELECT {prev}.*, {', '.join(items)} FROM {prev})")
                prev = name
            if fast:
                lo = days_from_civil_py(MIN_YEAR, 1, 1) * US_PER_DAY
                hi = days_from_civil_py(MAX_YEAR + 1, 1, 1) * US_PER_DAY
                in_range = f"(__fast_us >= {lo} AND __fast_us < {hi})"
                ctes[-1] = ctes[-1].replace("v AS (", "v0 AS (", 1)
                ctes.append(
                    "v AS (SELECT * REPLACE (CASE WHEN __fmt = -2 THEN __fmt_seen ELSE __fmt END AS __fmt, "
                    "(__fmt = -2 OR __valid) AS __valid, "
                    f"CASE WHEN __fmt = -2 THEN {in_range} ELSE __in_range END AS __in_range, "
                    f"CASE WHEN __fmt = -2 THEN CASE WHEN {in_range} THEN __fast_us END ELSE __local_us END "
                    "AS __local_us) FROM v0)"
                )
            if not convert:
                return ctes, "v", ""
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
            return ctes, "t", time_items
        assert p.received_parts is not None  # parse_profile: exactly one of the two
        ctes.append(f"t AS (SELECT b.*, {', '.join(received_parts_sql(p.received_parts, d, self.s))} FROM b)")
        time_items = (
            f"CAST(NULL AS {d.timestamp}) AS received_utc, CAST(NULL AS DATE) AS local_date, "
            "__py AS __year, __pm AS __month, __pdow AS __dow, __ph AS __hour"
        )
        return ctes, "t", time_items

    def _reason_sql(self, flag: bool = False) -> str:
        """Every reject reason that applies, ';'-separated ('' for a good row); `flag`: only whether
        there is one (no string built per row)."""
        p = self.p
        if p.received is not None:
            missing = "__fmt = -1"
            bad_format = "__fmt = 0"
            invalid = "(__fmt > 0 AND NOT __valid)"
            out_of_range = "(__valid AND NOT __in_range)"
        else:
            missing = "__missing"
            valid_parts = "(__py IS NOT NULL AND __pm BETWEEN 1 AND 12 AND __pdow IS NOT NULL AND __ph BETWEEN 0 AND 23)"
            bad_format = "false"
            invalid = f"(NOT __missing AND NOT COALESCE({valid_parts}, false))"
            out_of_range = f"(NOT __missing AND COALESCE({valid_parts}, false) AND __py NOT BETWEEN {MIN_YEAR} AND {MAX_YEAR})"
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
        if flag:
            return "(" + " OR ".join(f"COALESCE({cond}, false)" for cond, _ in reasons) + ")"
        return (
            "concat_ws(';', "
            + ", ".join(f"CASE WHEN COALESCE({cond}, false) THEN '{r.value}' END" for cond, r in reasons)
            + ")"
        )

    def bad_flags_sql(self) -> str:
        """incident_id (the raw id) and bad (the row has a reason) of every row: the validation alone,
        without the keys, the record hash and the time-zone conversion."""
        ctes, last, _ = self._time_layers(None, classify=False, convert=False)
        return (
            "WITH " + ",\n".join(ctes) + "\n"
            f"SELECT __id AS incident_id, {self._reason_sql(flag=True)} AS bad FROM {last}"
        )

    def checked_sql(self, where: str | None = None, eligible: bool | None = None) -> str:
        """`staging` (+ callmap, tz_local, tz_utc, keys_*, lookups) -> one canonical row per source row,
        with __rid, __file, its reasons, record_hash and the raw values s0..; `where` (on __id) and
        `eligible` filter the base layer."""
        d, p = self.d, self.p
        ctes, src, time_items = self._time_layers(where, classify=True, convert=True, eligible=eligible)
        null = "CAST(NULL AS BIGINT)"
        keys: dict[str, str] = {}
        joins = []
        for kind, column in KEY_COLUMNS.items():
            mode = self.key_modes[kind]
            if mode == "row":
                assert self.key is not None
                keys[kind] = keymod.keyed_hash_sql(d, self.key, kind, column)
            elif mode == "table":
                keys[kind] = f"k_{kind}.hashed"
                joins.append(f"LEFT JOIN keys_{kind} k_{kind} ON k_{kind}.raw = {src}.{column}")
            else:
                keys[kind] = null
        ctes.append(
            f"k AS (SELECT {src}.*, {time_items}, {keys['address']} AS address_key, {keys['caller']} AS caller_key, "
            f"{self._reason_sql()} AS reasons FROM {src} {' '.join(joins)})"
        )
        # The record hash: md5 over the id and the text fields, combined (xor) with the instant and the
        # keyed hashes, which are numbers already: same content, same hash; any one field changed,
        # another hash; two changed, another hash but for a 2^-58 chance. A short md5 input is one md5
        # block, and no number is turned into text.
        numbers = [d.shl("COALESCE(caller_key, 0)", 2), "COALESCE(address_key, 0)"]
        texts = [f"COALESCE({f}, '')" for f in TEXT_FIELDS]
        if p.received is not None:
            numbers.append("COALESCE(__utc_us, 0)")
        else:
            texts.insert(
                0,
                "concat_ws('-', "
                + ", ".join(f"CAST({c} AS {d.string})" for c in ("__py", "__pm", "__pdow", "__ph"))
                + ")",
            )
        mixed = numbers[0]
        for n in numbers[1:]:
            mixed = d.xor(mixed, n)
        fields = f"concat_ws('|', {', '.join(texts)})"
        if p.incident_id:
            # The md5 input is "id|texts", built in one go (the same string as below).
            idfields = f"concat_ws('|', __id, {', '.join(texts)})"
            ctes.append(
                f"i AS (SELECT k.*, {idfields} AS __idcstr, {mixed} AS __mixed, __id AS incident_id FROM k)"
            )
        else:
            # No id in the CAD: the md5 of the whole content, numbered among identical rows.
            content = f"concat_ws('|', __cstr, CAST(__mixed AS {d.string}))"
            ctes.append(f"m0 AS (SELECT k.*, {fields} AS __cstr, {mixed} AS __mixed FROM k)")
            ctes.append(f"m AS (SELECT m0.*, md5({content}) AS __content FROM m0)")
            ident = f"'c' || __content || '-' || CAST(row_number() OVER (PARTITION BY __content ORDER BY __file) AS {d.string})"
            ctes.append(f"i0 AS (SELECT m.*, {ident} AS incident_id FROM m)")
            ctes.append("i AS (SELECT i0.*, concat_ws('|', incident_id, __cstr) AS __idcstr FROM i0)")
        lookups = {lk.target: lk for lk in p.lookups}
        looked = []
        lk_joins = []
        for i, target in enumerate(("call_type_text", "disposition_text", "neighborhood")):
            if target in lookups:
                source = lookups[target].source_field
                looked.append(f"lk{i}.value AS {target}")
                lk_joins.append(f"LEFT JOIN lk_{target} lk{i} ON lk{i}.key = upper(trim(r.{source}))")
            else:
                looked.append(f"r.{target}")
        other = [f for f in TEXT_FIELDS if f not in {"call_type_text", "disposition_text", "neighborhood"}]
        record_hash = d.xor(d.md5_60("r.__idcstr"), "r.__mixed")
        return (
            "WITH " + ",\n".join(ctes) + "\n"
            "SELECT r.__rid, r.__file, "
            "r.incident_id, r.received_utc, r.local_date, "
            "CAST(r.__year AS SMALLINT) AS local_year, CAST(r.__month AS TINYINT) AS local_month, "
            "CAST(r.__dow AS TINYINT) AS local_dow, CAST(r.__hour AS TINYINT) AS local_hour, "
            "CAST(r.__dow * 24 + r.__hour AS SMALLINT) AS hour_of_week, "
            f"{', '.join('r.' + f for f in other)}, {', '.join(looked)}, "
            "r.address_key, r.caller_key, r.apco, r.bh_class, r.eligible, r.callmap_version, "
            f"{record_hash} AS record_hash, r.reasons, "
            # The raw mapped values, for the rejects file (passes that do not select them skip them).
            f"{', '.join(f'r.s{i}' for i in range(len(self.columns)))} "
            f"FROM i r {' '.join(lk_joins)}"
        )

    # -- special rows: repeated ids, ids already stored, rows with reasons -------------------------------

    def rows_of(self, ids: str | None, negate: bool = False, eligible: bool | None = None) -> str:
        """Checked rows whose incident id is in the table `ids` or missing (the special rows), or,
        negated, the others; eligible or not (None: both). `ids` None: no id is special."""
        if self.p.derived_id:  # derived ids are never missing
            conds = [] if eligible is None else [f"eligible = {str(eligible).lower()}"]
            if ids:
                conds.append(f"incident_id {'NOT ' if negate else ''}IN (SELECT incident_id FROM {ids})")
            return "SELECT * FROM checked" + (f" WHERE {' AND '.join(conds)}" if conds else "")
        if negate:
            cond = "__id IS NOT NULL" + (f" AND __id NOT IN (SELECT incident_id FROM {ids})" if ids else "")
        else:
            cond = "__id IS NULL" + (f" OR __id IN (SELECT incident_id FROM {ids})" if ids else "")
        return self.checked_sql(cond, eligible)

    @staticmethod
    def dup_sql() -> str:
        """Incident ids that occur more than once among the valid special rows (usually none)."""
        return (
            "SELECT incident_id, min(record_hash) AS lo, max(record_hash) AS hi FROM special "
            "WHERE reasons = '' GROUP BY incident_id HAVING count(*) > 1"
        )

    @staticmethod
    def copies_sql() -> str:
        """Copy number of each valid row whose id repeats (1 = the one that may be stored)."""
        return (
            "SELECT c.__rid, row_number() OVER (PARTITION BY c.incident_id ORDER BY c.__file, c.record_hash, c.__rid) "
            "AS copy_no FROM special c JOIN dup d ON d.incident_id = c.incident_id WHERE c.reasons = ''"
        )

    @staticmethod
    def stored_sql() -> str:
        """The stored version (record hash) of every incident id the special rows bring again."""
        return (
            "SELECT e.incident_id, e.record_hash FROM existing e "
            "JOIN (SELECT DISTINCT incident_id FROM special WHERE reasons = '') c ON c.incident_id = e.incident_id"
        )

    @staticmethod
    def annotated_sql(replace: bool) -> str:
        """Every special row with its final reasons and outcome: rejected, duplicate_in_batch, new,
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
  FROM special c
  LEFT JOIN dup d ON c.reasons = '' AND d.incident_id = c.incident_id
  LEFT JOIN copies k ON k.__rid = c.__rid
  LEFT JOIN stored_match st ON c.reasons = '' AND st.incident_id = c.incident_id
) a"""

    # -- the rows written ------------------------------------------------------------------------------

    def new_rows_sql(self, source: str, center: str, import_id: str) -> str:
        """Store columns (COLUMN_NAMES order) of checked rows in `source`."""
        d = self.d
        fixed = {
            "center": f"{d.const_text(center)} AS center",
            "source_file": "__file AS source_file",
            "import_id": f"{d.const_text(import_id)} AS import_id",
        }
        return f"SELECT {', '.join(fixed.get(c, c) for c in COLUMN_NAMES)} FROM ({source}) n"

    def stored_rows_sql(self, eligible: bool) -> str:
        """The center's stored rows that stay (all but replaced ones), reclassified with the call map."""
        d = self.d
        kept = (
            "FROM existing e LEFT JOIN (SELECT incident_id FROM annotated WHERE outcome = 'replaced') upd "
            "ON upd.incident_id = e.incident_id"
        )
        if self.call_map is None:
            cols = ", ".join(f"e.{c}" for c in COLUMN_NAMES)
            return (
                f"SELECT {cols} {kept} WHERE upd.incident_id IS NULL AND e.eligible = {str(eligible).lower()}"
            )
        cm = self.call_map
        classes = ", ".join(d.lit(c.value) for c in sorted(ELIGIBLE_CLASSES))
        elig = f"COALESCE(cm.bh_class IN ({classes}), false)"
        classified = {
            "apco": "COALESCE(cm.apco, '') AS apco",
            "bh_class": "COALESCE(cm.bh_class, 'unknown') AS bh_class",
            "eligible": f"{elig} AS eligible",
            "callmap_version": f"{d.const_text(f'{cm.center}/{cm.version}')} AS callmap_version",
        }
        cols = ", ".join(classified.get(c, f"e.{c}") for c in COLUMN_NAMES)
        return (
            f"SELECT {cols} {kept} LEFT JOIN callmap cm ON cm.code = upper(trim(e.call_type)) "
            f"WHERE upd.incident_id IS NULL AND {elig} = {str(eligible).lower()}"
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
            value = "'[withheld]'" if c in withheld else f"a.s{self.index[c]}"
            raw.append(f"{value} AS {name(c)}")
        nulls = ", ".join(f"CAST(NULL AS {d.string}) AS {name(c)}" for c in self.columns)
        return (
            f"SELECT a.__file AS source_file, CAST(NULL AS BIGINT) AS line, a.final_reasons AS reasons, "
            f"{', '.join(raw)} FROM annotated a WHERE a.outcome = 'rejected'\n"
            f"UNION ALL SELECT __file, line, '{MALFORMED_LINE}: ' || min(error), {nulls} "
            "FROM malformed GROUP BY __file, line"
        )

    @staticmethod
    def reason_counts_sql() -> str:
        sums = ", ".join(
            f"sum(CASE WHEN instr(';' || reasons || ';', ';{r};') > 0 THEN 1 ELSE 0 END)"
            for r in REASONS
            if r != MALFORMED_LINE
        )
        return f"SELECT count(*), {sums} FROM (SELECT final_reasons AS reasons FROM annotated WHERE outcome = 'rejected') a"


def _quote(d: Dialect, name: str) -> str:
    return f"`{name.replace('`', '``')}`" if d.spark else '"' + name.replace('"', '""') + '"'
