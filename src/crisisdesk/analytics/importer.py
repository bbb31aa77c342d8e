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

The SQL (import_sql.py) is written once (schema.Dialect) and runs on DuckDB (default) or Spark
(spark.SparkEngine); this module orchestrates its passes (see `_run`).
"""

# ruff: noqa: S608 - SQL is generated from profiles, call maps and calendars (never from request input);
# every value goes in through Dialect.lit.

from __future__ import annotations

import shutil
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
from crisisdesk.analytics.callmap import CallMap, CallMapError, load_call_map
from crisisdesk.analytics.import_sql import MALFORMED_LINE, REASONS, ImportSql
from crisisdesk.analytics.profiles import Profile, ProfileError, load_profile
from crisisdesk.analytics.schema import tz_tables
from crisisdesk.analytics.store import (
    CadImportError,
    CenterInfo,
    DuckDBEngine,
    Engine,
    SourceFile,
    Store,
    StoreError,
    StoreMeta,
    lookup_table,
    open_store,
    source_files,
)

DEFAULT_MEMORY_LIMIT = "1GB"


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

    `memory_limit` (DuckDB engine only; None = DuckDB's default, 80 % of RAM) bounds DuckDB's
    buffers: beyond it aggregates and sorts spill to the store's .tmp folder. The big passes stream,
    so 10 million rows need well under the default (measured figures: docs/analytics.md).

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
    bar = tqdm(total=len(files) + len(STEPS), desc=f"import {profile.center}", unit="step", disable=not show)
    try:
        with store.lock():
            return _run(store, eng, files, profile, call_map, linkage_key, replace, lookup_dir, bar)
    finally:
        bar.close()
        if own_engine:
            eng.close()


# Progress-bar steps after reading the files (the bar shows the one running).
STEPS = ("keys", "checking", "writing eligible", "writing others", "finishing")
# A center's folder is compacted (its stored rows rewritten into one pair of files) beyond this.
MAX_CENTER_FILES = 24


def _step(bar: Any, label: str) -> None:
    bar.update(1)
    bar.set_postfix_str(label)


def _run(
    store: Store,
    eng: Engine,
    files: list[SourceFile],
    profile: Profile,
    call_map: CallMap | str | Path | None,
    key: bytes | None,
    replace: bool,
    lookup_dir: str | Path | None,
    bar: Any,
) -> ImportReport:
    """The import, in passes over the source (each reads only the columns it needs):

    1. keys: a table of keyed hashes per distinct address (addresses repeat; KEY_MODES);
    2. special rows: one pass over id, time and call type finds the ids that occur more than once
       and the rows with reasons (by a 64-bit hash of the id, then checked exactly), plus the ids
       already stored; their rows (usually very few) are checked in full into a small table and
       resolved there: reasons, duplicates, conflicts, replacements, the rejects file;
    3. writing: two streaming passes over every other row (all good and new by construction),
       eligible calls (sorted by time) and the others, each computing the full row (time zones,
       keys, record hash) only for its own rows, straight into one Parquet file each.
    Counts are exact: the rows written are checked against read - special + special ones stored.
    """
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
    sql = ImportSql(profile, eng.dialect, key, cmap)

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
    bar.set_postfix_str(STEPS[0])

    # 1. keys
    for kind, mode in sql.key_modes.items():
        if mode == "table":
            eng.materialize(f"keys_{kind}", sql.key_table_sql(kind))
    _step(bar, STEPS[1])

    # 2. special rows: ids found twice or already stored, rows with reasons (usually very few)
    if profile.derived_id:
        # The id is a hash of the whole row: every row is checked in full once (sources without ids
        # are small: hour-level exports).
        eng.materialize("checked", sql.checked_sql())
    existing_files = store.center_files(center)
    eng.register_calls("existing", existing_files)
    special = _special_ids(eng, sql, bool(existing_files))
    eng.materialize("special", sql.rows_of("special_ids") if special else sql.checked_sql("false"))
    eng.materialize("dup", sql.dup_sql())
    eng.materialize("copies", sql.copies_sql())
    eng.materialize("stored_match", sql.stored_sql())
    eng.view("annotated", sql.annotated_sql(replace))
    n_special = int(eng.rows("SELECT count(*) FROM special")[0][0])
    outcomes = {
        str(k): int(v) for k, v in eng.rows("SELECT outcome, count(*) FROM annotated GROUP BY outcome")
    }
    (rejected_row,) = eng.rows(sql.reason_counts_sql())
    by_reason = {r: int(n) for r, n in zip(REASONS, rejected_row[1:], strict=False) if n}
    if read.malformed:
        by_reason[MALFORMED_LINE] = read.malformed
    new_main = read.rows - n_special  # every other row is good and new
    import_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    rejected = outcomes.get("rejected", 0) + read.malformed
    rejects_path = None
    if rejected:
        rejects_path = store.rejects_dir / f"{import_id}.csv"
        eng.write_csv(sql.rejects_sql(), rejects_path)
    _step(bar, STEPS[2])

    # 3. writing: the center's next folder, swapped in
    stored_new = new_main + outcomes.get("new", 0)
    replaced = outcomes.get("replaced", 0)
    reclassify = cmap is not None and (known is None or known.callmap != f"{cmap.center}/{cmap.version}")
    if stored_new or replaced or reclassify:
        tmp = store.calls_dir / f".tmp-{import_id}"
        try:
            _write(eng, store, sql, tmp, existing_files, special, new_main, outcomes, reclassify, bar)
            store.replace_center(center, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone already when swapped in
    else:
        bar.update(2)
        bar.set_postfix_str(STEPS[4])
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
        rows_stored=stored_new,
        rows_replaced=replaced,
        already_stored=outcomes.get("already_stored", 0),
        duplicates_in_batch=outcomes.get("duplicate_in_batch", 0),
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
    _step(bar, "done")
    return report


def _write(
    eng: Engine,
    store: Store,
    sql: ImportSql,
    tmp: Path,
    existing_files: list[Path],
    special: bool,
    new_main: int,
    outcomes: Mapping[str, int],
    reclassify: bool,
    bar: Any,
) -> None:
    """The center's next folder in `tmp`: one file of eligible calls (in time order) and one of the
    others with this import's rows, beside the stored files (hard links), or with them when stored
    rows are replaced or reclassified, or the center has many files (compaction)."""
    import_id, center = tmp.name.removeprefix(".tmp-"), sql.p.center
    replaced = outcomes.get("replaced", 0)
    rewrite = bool(existing_files) and (
        replaced > 0 or reclassify or len(existing_files) + 2 > MAX_CENTER_FILES
    )
    expected = new_main + outcomes.get("new", 0) + replaced
    if rewrite:
        expected += int(eng.rows("SELECT count(*) FROM existing")[0][0]) - replaced
    elif existing_files:
        store.link_files(existing_files, tmp)
    written = 0
    for eligible, suffix, step in ((True, "e", STEPS[3]), (False, "o", STEPS[4])):
        parts = [sql.stored_rows_sql(eligible)] if rewrite else []
        if new_main:
            main = sql.rows_of("special_ids" if special else None, negate=True, eligible=eligible)
            parts.append(sql.new_rows_sql(main, center, import_id))
        if outcomes.get("new", 0) or replaced:
            flag = str(eligible).lower()
            extra = f"SELECT * FROM annotated WHERE outcome IN ('new', 'replaced') AND eligible = {flag}"
            parts.append(sql.new_rows_sql(extra, center, import_id))
        if parts:
            # Eligible calls in time order: analyses read them the most, and sorted times pack well.
            order = " ORDER BY received_utc" if eligible else ""
            union = " UNION ALL ".join(f"SELECT * FROM ({q}) p{i}" for i, q in enumerate(parts))
            written += eng.write_parquet(f"SELECT * FROM ({union}) w{order}", tmp, f"{import_id}-{suffix}")
        _step(bar, step)
    if written != expected:
        raise RuntimeError(f"import wrote {written} rows, expected {expected}: nothing was stored")


def _special_ids(eng: Engine, sql: ImportSql, stored: bool) -> bool:
    """`special_ids`: ids found more than once, with reasons, or already stored. False when no row
    is special (rows without an id are special too, and found by the hash of the missing id)."""
    d = eng.dialect
    ids = sql.ids_sql()
    eng.materialize("flagged", sql.flagged_sql())
    flagged = int(eng.rows("SELECT count(*) FROM flagged")[0][0])
    parts = []
    if flagged:
        parts.append(
            f"SELECT incident_id FROM ({ids}) x WHERE incident_id IS NOT NULL "
            f"AND {d.hash64('incident_id')} IN (SELECT h FROM flagged)"
        )
    if stored:
        parts.append(
            f"SELECT incident_id FROM existing WHERE incident_id IN (SELECT incident_id FROM ({ids}) x)"
        )
    eng.materialize(
        "special_ids", " UNION ".join(parts) if parts else "SELECT incident_id FROM existing WHERE false"
    )
    return bool(flagged or parts)


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
