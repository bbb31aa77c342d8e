"""The analytics store: a folder of Parquet files, a DuckDB database of views, and the DuckDB engine.

Layout of a store folder (default `$CRISISDESK_DATA_DIR/analytics`, i.e. `./var/analytics`)::

    calls/center=<id>/*.parquet   the canonical call table (schema.CALL_COLUMNS), one folder per center
    callmaps/<id>.yaml            the call-type map that classified the center's stored rows
    rejects/<import id>.csv       rows an import did not store, with their reasons and raw values
    imports.jsonl                 one ImportReport per import, newest last
    store.json                    format version, linkage-key fingerprint, centers (zone, profile, map)
    analytics.duckdb              views `calls` and `imports` for ad-hoc SQL (`duckdb analytics.duckdb`)

The Parquet files are the data; the .duckdb file only holds views over them and is rebuilt after each
import. A center's folder holds two files per import, one of eligible calls (in time order) and one of
the others, so analyses that filter on eligibility skip whole files. An import builds the center's next
folder aside (new files, plus hard links to the stored files it keeps, or rewritten ones when it
replaces or reclassifies rows) and swaps it in, so a reader sees either the old or the new rows of a
center. One import at a time per store (a lock file).

`Engine` is what the import and the demand analysis need from an SQL engine; `DuckDBEngine` is the
embedded default and `crisisdesk.analytics.spark.SparkEngine` the scale-out one.
"""

# ruff: noqa: S608 - SQL is generated from profiles, call maps and calendars (never from request input);
# every value goes in through Dialect.lit.

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from crisisdesk.analytics.callmap import CallMap, CallMapError, dump_call_map, parse_call_map
from crisisdesk.analytics.profiles import Lookup
from crisisdesk.analytics.schema import CALL_SCHEMA, DUCKDB, Dialect

# 2: record_hash is a 60-bit BIGINT (it was an md5 hex string in format 1).
STORE_FORMAT = 2
DATA_DIR_ENV = "CRISISDESK_DATA_DIR"


class CadImportError(ValueError):
    """The import cannot start: unreadable file, column missing, lookup missing, wrong key..."""


class StoreError(RuntimeError):
    """The store folder cannot be used as asked (another import running, another linkage key...)."""


def default_store_dir() -> Path:
    """`$CRISISDESK_DATA_DIR/analytics`, with the same default data folder as crisisdesk.config."""
    return Path(os.environ.get(DATA_DIR_ENV, Path.cwd() / "var")) / "analytics"


@dataclass(frozen=True)
class CenterInfo:
    center: str
    timezone: str
    profile: str = ""
    name: str = ""
    callmap: str = ""  # "center/version" of the stored call map, "" when none
    hour_only: bool = False  # the source has hour-level parts only (no date, no instant)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoreMeta:
    key_fingerprint: str = ""
    centers: dict[str, CenterInfo] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    format: str  # csv | parquet


@dataclass(frozen=True)
class SourceRead:
    """What an engine read into the `staging` (good lines) and `malformed` (unparseable lines) tables."""

    rows: int
    malformed: int


class Engine(Protocol):
    """The SQL engine operations the import and the demand analysis use (DuckDB or Spark)."""

    dialect: Dialect

    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...

    def materialize(self, name: str, sql: str) -> None: ...

    def view(self, name: str, sql: str) -> None: ...

    def register(self, name: str, table: pa.Table) -> None: ...

    def register_calls(self, name: str, files: Sequence[Path]) -> None: ...

    def read_sources(
        self,
        files: Sequence[SourceFile],
        columns: Sequence[str],
        optional: frozenset[str],
        native: str | None,
        csv: Any,
    ) -> SourceRead: ...

    def write_parquet(self, sql: str, folder: Path, name: str) -> int:
        """Write the rows of `sql`, in its order, as `folder/name*.parquet` (no file when there are
        none); returns the number of rows written."""
        ...

    def write_csv(self, sql: str, path: Path) -> None: ...

    def close(self) -> None: ...


class Store:
    """One store folder. Cheap to create; reads store.json on demand."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def calls_dir(self) -> Path:
        return self.root / "calls"

    def center_dir(self, center: str) -> Path:
        return self.calls_dir / f"center={center}"

    def center_files(self, center: str) -> list[Path]:
        return sorted(self.center_dir(center).glob("*.parquet"))

    def all_files(self) -> list[Path]:
        return sorted(self.calls_dir.glob("center=*/*.parquet"))

    @property
    def rejects_dir(self) -> Path:
        return self.root / "rejects"

    def meta(self) -> StoreMeta:
        path = self.root / "store.json"
        if not path.exists():
            return StoreMeta()
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != STORE_FORMAT:
            raise StoreError(
                f"{path}: store format {doc.get('format')!r}, this version reads {STORE_FORMAT}: "
                "import the CAD files again into a new store folder (see docs/analytics.md)"
            )
        centers = {
            c: CenterInfo(
                center=c,
                timezone=str(info["timezone"]),
                profile=str(info.get("profile", "")),
                name=str(info.get("name", "")),
                callmap=str(info.get("callmap", "")),
                hour_only=bool(info.get("hour_only", False)),
                notes=tuple(str(n) for n in info.get("notes", ())),
            )
            for c, info in doc.get("centers", {}).items()
        }
        return StoreMeta(key_fingerprint=doc.get("key_fingerprint", ""), centers=centers)

    def write_meta(self, meta: StoreMeta) -> None:
        doc = {
            "format": STORE_FORMAT,
            "key_fingerprint": meta.key_fingerprint,
            "centers": {
                c: {
                    "timezone": i.timezone,
                    "profile": i.profile,
                    "name": i.name,
                    "callmap": i.callmap,
                    "hour_only": i.hour_only,
                    "notes": list(i.notes),
                }
                for c, i in sorted(meta.centers.items())
            },
        }
        tmp = self.root / "store.json.tmp"
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.root / "store.json")

    def centers(self) -> dict[str, CenterInfo]:
        return self.meta().centers

    def call_map(self, center: str) -> CallMap | None:
        path = self.root / "callmaps" / f"{center}.yaml"
        if not path.exists():
            return None
        import yaml

        try:
            return parse_call_map(yaml.safe_load(path.read_text(encoding="utf-8")), where=str(path))
        except (CallMapError, yaml.YAMLError) as exc:
            raise StoreError(f"{path}: {exc}") from None

    def save_call_map(self, center: str, call_map: CallMap) -> None:
        folder = self.root / "callmaps"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{center}.yaml").write_text(dump_call_map(call_map), encoding="utf-8")

    def imports(self) -> list[dict[str, Any]]:
        path = self.root / "imports.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def log_import(self, record: dict[str, Any]) -> None:
        with open(self.root / "imports.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True, default=str) + "\n")

    @contextmanager
    def lock(self) -> Iterator[None]:
        path = self.root / ".import.lock"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            raise StoreError(
                f"{path} exists: another import is running (or one crashed; then delete the file)"
            ) from None
        try:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            yield
        finally:
            path.unlink(missing_ok=True)

    @staticmethod
    def link_files(files: Sequence[Path], folder: Path) -> None:
        """Put `files` into `folder` unchanged: hard links (no copy), or copies across file systems."""
        folder.mkdir(parents=True, exist_ok=True)
        for f in files:
            try:
                os.link(f, folder / f.name)
            except OSError:
                shutil.copy2(f, folder / f.name)

    def replace_center(self, center: str, new_folder: Path) -> None:
        """Swap a freshly written folder in as the center's data (old folder removed afterwards)."""
        target = self.center_dir(center)
        old = target.with_name(f".old-{target.name}")
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            target.rename(old)
        new_folder.rename(target)
        if old.exists():
            shutil.rmtree(old)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection (session zone UTC) with the view `calls` over the store."""
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        DuckDBEngine(con).register_calls("calls", self.all_files())
        return con

    def write_duckdb_views(self) -> None:
        """(Re)build analytics.duckdb: views over the Parquet files, for analysts' own SQL."""
        files = self.all_files()
        path = self.root / "analytics.duckdb"
        try:
            con = duckdb.connect(str(path))
        except duckdb.Error:
            return  # another process has it open; the Parquet files are the data, the views are a convenience
        try:
            con.execute("SET TimeZone = 'UTC'")
            if files:
                glob = DUCKDB.lit(str(self.calls_dir.resolve() / "center=*" / "*.parquet"))
                con.execute(f"CREATE OR REPLACE VIEW calls AS SELECT * FROM read_parquet({glob})")
            imports = self.root / "imports.jsonl"
            if imports.exists():
                con.execute(
                    "CREATE OR REPLACE VIEW imports AS SELECT * FROM read_json_auto("
                    f"{DUCKDB.lit(str(imports.resolve()))}, format = 'newline_delimited')"
                )
        finally:
            con.close()


def open_store(path: str | Path | Store | None = None, *, create: bool = False) -> Store:
    """The store at `path` (default `default_store_dir()`); `create` makes the folder if missing."""
    if isinstance(path, Store):
        return path
    root = Path(path) if path is not None else default_store_dir()
    if create:
        root.mkdir(parents=True, exist_ok=True)
    elif not root.is_dir():
        raise StoreError(f"{root}: no analytics store here (import CAD files first: crisisdesk cad import)")
    return Store(root)


# --- DuckDB engine --------------------------------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def csv_header(path: Path, options: Any) -> list[str]:
    """The header row of a CSV file (plain or .gz), as written."""
    import csv as csvlib
    import gzip

    opener: Any = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        reader = csvlib.reader(fh, delimiter=options.delimiter, quotechar=options.quote)
        return next(reader, [])


def _clean(name: str) -> str:
    """Header names as people read them: no byte-order mark, no surrounding spaces."""
    return name.replace("\ufeff", "").strip()


class DuckDBEngine:
    """DuckDB, in memory, session time zone UTC.

    `memory_limit` (e.g. '1GB') bounds DuckDB's buffers: beyond it, joins, aggregates and sorts spill
    to `temp_directory`. The import streams its big passes (source -> store files), so it needs far
    less than the data's size; the limit guards the aggregates.
    """

    dialect = DUCKDB

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection | None = None,
        memory_limit: str | None = None,
        temp_directory: Path | None = None,
    ):
        self.con = con or duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")  # the import shows its own (tqdm)
        self.con.execute("SET preserve_insertion_order = false")  # no result here depends on row order
        if memory_limit:
            self.con.execute(f"SET memory_limit = {DUCKDB.lit(memory_limit)}")
        if temp_directory is not None:
            # Where DuckDB spills when a big import exceeds memory_limit (removed by DuckDB afterwards).
            self.con.execute(f"SET temp_directory = {DUCKDB.lit(str(temp_directory))}")
        self._n = 0

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def materialize(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(f"__arrow_{name}", table)
        self.materialize(name, f"SELECT * FROM __arrow_{name}")
        self.con.unregister(f"__arrow_{name}")

    def register_calls(self, name: str, files: Sequence[Path]) -> None:
        if files:
            # One scan per file, not one scan of the list: DuckDB then knows each file's statistics
            # when it plans (e.g. no null times, so `received_utc IS NOT NULL` costs nothing), which a
            # scan of several files only learns file by file while running.
            parts = " UNION ALL ".join(f"SELECT * FROM read_parquet({DUCKDB.lit(str(p))})" for p in files)
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {parts}")
        else:
            self.con.register(f"__empty_{name}", CALL_SCHEMA.empty_table())
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM __empty_{name}")

    def _columns(self, relation: str) -> dict[str, tuple[str, str]]:
        """Clean header name -> (actual name, DuckDB type) of a relation."""
        described = self.con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return {_clean(r[0]): (r[0], str(r[1])) for r in described}

    def read_sources(
        self,
        files: Sequence[SourceFile],
        columns: Sequence[str],
        optional: frozenset[str],
        native: str | None,
        csv: Any,
    ) -> SourceRead:
        """Every file as `staging` (__rid, __file, s0.. as trimmed strings or NULL) and `malformed`.

        `native` names the received-time column when it is a Parquet timestamp: it is also read as
        __recv_us (epoch microseconds of the value as written) and __recv_aware (it had a zone).
        Parquet files stay where they are: `staging` is a view over them (__rid is the row number in
        the file plus the rows of the files before), read again by each pass of the import, which
        costs less than a copy. CSV files are read once into a table (a CSV scan is slower, and the
        malformed lines are collected while reading).
        """
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE malformed (__file VARCHAR, line BIGINT, raw VARCHAR, error VARCHAR)"
        )
        parts: list[str] = []
        offset = 0
        names = sorted({f.path.name for f in files})
        for f in files:
            self._n += 1
            if f.format == "csv":
                # No sniffing: the header is read here and every column is a string, so a malformed line
                # becomes a reject instead of a failed dialect guess.
                header = csv_header(f.path, csv)
                found: dict[str, tuple[str, str]] = {}
                for i, h in enumerate(header):
                    found.setdefault(_clean(h), (f"c{i}", "VARCHAR"))  # a repeated name: the first wins
                types = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
                rel = (
                    f"read_csv({DUCKDB.lit(str(f.path))}, header = true, auto_detect = false, "
                    f"columns = {{{types}}}, delim = {DUCKDB.lit(csv.delimiter)}, quote = {DUCKDB.lit(csv.quote)}, "
                    f"escape = {DUCKDB.lit(csv.escape)}, store_rejects = true, "
                    f"rejects_table = 'rej_{self._n}', rejects_scan = 'scan_{self._n}')"
                )
                rid = "row_number() OVER ()"
            else:
                rel = f"read_parquet({DUCKDB.lit(str(f.path))}, file_row_number = true)"
                found = {k: v for k, v in self._columns(rel).items() if v[0] != "file_row_number"}
                rid = "file_row_number + 1"
            missing = [c for c in columns if c not in found and c not in optional]
            if missing:
                raise FileNotFoundError(
                    f"{f.path.name}: no column {', '.join(map(repr, missing))} (columns: {', '.join(found)})"
                )
            exprs = []
            for i, c in enumerate(columns):
                if c not in found:
                    exprs.append(f"CAST(NULL AS VARCHAR) AS s{i}")
                    continue
                actual, typ = found[c]
                v = f"CAST({_ident(actual)} AS VARCHAR)"
                # trim() copies every string; most values have no outer spaces, so test for them first.
                exprs.append(
                    f"NULLIF(CASE WHEN {v} LIKE ' %' OR {v} LIKE '% ' THEN trim({v}) ELSE {v} END, '') AS s{i}"
                )
            if native:
                actual, typ = found[native]
                if not typ.startswith("TIMESTAMP"):
                    raise FileNotFoundError(f"{f.path.name}: column {native!r} is {typ}, not a timestamp")
                exprs += [
                    f"epoch_us({_ident(actual)}) AS __recv_us",
                    f"{'true' if 'TIME ZONE' in typ else 'false'} AS __recv_aware",
                ]
            file = DUCKDB.const_text(f.path.name, names)
            select = f"SELECT {offset} + {rid} AS __rid, {file} AS __file, {', '.join(exprs)} FROM {rel}"
            if f.format == "csv":
                table = f"staging_{self._n}"
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
                self.con.execute(
                    f"INSERT INTO malformed SELECT {DUCKDB.lit(f.path.name)}, line, csv_line, error_message "
                    f"FROM rej_{self._n}"
                )
                parts.append(f"SELECT * FROM {table}")
                counted = table
            else:
                parts.append(select)
                counted = rel  # answered from the file's metadata
            (n,) = self.con.execute(f"SELECT count(*) FROM {counted}").fetchall()[0]
            offset += int(n)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW staging AS {' UNION ALL '.join(parts)}")
        (bad,) = self.con.execute("SELECT count(DISTINCT (__file, line)) FROM malformed").fetchall()[0]
        return SourceRead(offset, int(bad))

    def write_parquet(self, sql: str, folder: Path, name: str) -> int:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.parquet"
        # zstd: about as fast to write as snappy here and a third smaller. Default row groups (122,880
        # rows): statistics per group let filters skip the ones they do not need. Rows keep the
        # query's order (its ORDER BY, or the sources' order, usually time), still written in parallel.
        self.con.execute("SET preserve_insertion_order = true")
        try:
            (n,) = self.con.execute(
                f"COPY ({sql}) TO {DUCKDB.lit(str(path))} (FORMAT parquet, COMPRESSION zstd)"
            ).fetchall()[0]
        finally:
            self.con.execute("SET preserve_insertion_order = false")
        if not n:
            path.unlink(missing_ok=True)
        return int(n)

    def write_csv(self, sql: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con.execute(f"COPY ({sql}) TO {DUCKDB.lit(str(path))} (HEADER, DELIMITER ',')")

    def close(self) -> None:
        self.con.close()


# --- reading inputs ---------------------------------------------------------------------------------------


def source_files(paths: Sequence[str | Path], file_format: str = "auto") -> list[SourceFile]:
    """The files to import, checked readable; format from the profile or the file name (.parquet/.pq)."""
    files = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise CadImportError(f"{path}: no such file")
        try:
            with open(path, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise CadImportError(f"{path}: cannot read: {exc.strerror}") from None
        fmt = file_format
        if fmt == "auto":
            suffixes = [s.lower() for s in path.suffixes]
            fmt = "parquet" if suffixes and suffixes[-1] in {".parquet", ".pq"} else "csv"
        files.append(SourceFile(path.resolve(), fmt))
    if not files:
        raise CadImportError("no files to import")
    return files


def lookup_table(lk: Lookup, folders: Sequence[Path]) -> tuple[pa.Table, list[str]]:
    """A profile's code -> text lookup as a (key, value) table; keys trimmed and upper-cased.

    The file is found by absolute path or in the first of `folders` that has it. A key listed twice
    with different values keeps the first (a note says so).
    """
    import csv as csvlib

    candidates = [Path(lk.file)] if Path(lk.file).is_absolute() else [f / lk.file for f in folders]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        where = ", ".join(str(c.parent) for c in candidates)
        raise CadImportError(f"lookup {lk.target}: {lk.file} not found (looked in {where}; see --lookup-dir)")
    notes: list[str] = []
    values: dict[str, str] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csvlib.DictReader(fh)
        header = {(h or "").strip(): h for h in reader.fieldnames or []}
        if lk.key not in header or lk.value not in header:
            raise CadImportError(f"lookup {lk.target}: {path.name} needs columns {lk.key!r} and {lk.value!r}")
        for row in reader:
            k = (row.get(header[lk.key]) or "").strip().upper()
            v = (row.get(header[lk.value]) or "").strip()
            if not k or not v:
                continue
            if k in values and values[k] != v:
                notes.append(
                    f"lookup {lk.target}: {k!r} appears twice with different values; the first is used"
                )
                continue
            values.setdefault(k, v)
    return pa.table({"key": list(values), "value": list(values.values())}), notes
