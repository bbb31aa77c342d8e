"""Spark (PySpark) engine: the same import and demand analysis, for data beyond one machine.

The SQL is the one DuckDB runs (importer.py, demand.py, written once with schema.Dialect); this
module only supplies `SparkEngine`, the engine operations (read sources, materialise, write Parquet
and CSV) spelled for Spark, and wrappers with the DuckDB functions' signatures plus a `spark` first
argument. Results are identical to DuckDB's (tests/analytics/test_spark_parity.py compares them).

    from crisisdesk.analytics import spark as sp
    session = sp.spark_session()                       # local[2]; or your cluster's SparkSession
    sp.import_files(session, files, "san_diego", store_dir)
    sp.coverage(session, store_dir, {"MECC": spec})

Session settings the engine needs (set by `SparkEngine` on the session it is given): session time
zone UTC (the SQL's day arithmetic is on UTC microseconds) and Parquet timestamps written as
TIMESTAMP_MICROS (readable by DuckDB and pyarrow as UTC instants). Spark 4 runs on Java 17 or 21.

Differences to know: Spark CSV reading reports malformed lines without line numbers (the rejects
file has an empty `line` for them); and derived ids (`incident_id: {derive: content}`) number
identical rows in an arbitrary but equivalent order, so which copy is `-1` may differ (the rows are
identical, the stored tables are equal).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from crisisdesk.analytics import demand, importer
from crisisdesk.analytics.callmap import CallMap
from crisisdesk.analytics.profiles import Profile
from crisisdesk.analytics.schema import CALL_SCHEMA, SPARK
from crisisdesk.analytics.store import SourceFile, SourceRead, Store, csv_header
from crisisdesk.domain.protocol import CalendarSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CORRUPT = "__corrupt"


def spark_session(
    master: str = "local[2]",
    app: str = "crisisdesk-analytics",
    shuffle_partitions: int = 8,
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A SparkSession for local use (UI off, few shuffle partitions, UTC); `conf` adds settings."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _spark_type(t: pa.DataType) -> Any:
    from pyspark.sql import types as T

    if pa.types.is_string(t):
        return T.StringType()
    if pa.types.is_timestamp(t):
        return T.TimestampType()
    if pa.types.is_date32(t):
        return T.DateType()
    if pa.types.is_boolean(t):
        return T.BooleanType()
    return {8: T.ByteType(), 16: T.ShortType(), 32: T.IntegerType(), 64: T.LongType()}[t.bit_width]


def _schema(schema: pa.Schema) -> Any:
    from pyspark.sql import types as T

    return T.StructType([T.StructField(f.name, _spark_type(f.type), True) for f in schema])


class SparkEngine:
    """Engine operations on a SparkSession (see store.Engine)."""

    dialect = SPARK

    def __init__(self, spark: SparkSession):
        self.spark = spark
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        self._frames: list[DataFrame] = []

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def _view(self, name: str, df: DataFrame, keep: bool = False) -> None:
        if keep:
            # A local checkpoint fixes the rows once: later queries never recompute them (a re-run could
            # number identical derived-id rows differently).
            df = df.localCheckpoint(eager=True)
            self._frames.append(df)
        df.createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str) -> None:
        self._view(name, self.spark.sql(sql), keep=True)

    def view(self, name: str, sql: str) -> None:
        self._view(name, self.spark.sql(sql))

    def register(self, name: str, table: pa.Table) -> None:
        df = (
            self.spark.createDataFrame(table)
            if table.num_rows
            else self.spark.createDataFrame([], _schema(table.schema))
        )
        self._view(name, df)

    def register_calls(self, name: str, files: Sequence[Path]) -> None:
        if files:
            df = self.spark.read.schema(_schema(CALL_SCHEMA)).parquet(*[str(p) for p in files])
        else:
            df = self.spark.createDataFrame([], _schema(CALL_SCHEMA))
        self._view(name, df)

    def read_sources(
        self,
        files: Sequence[SourceFile],
        columns: Sequence[str],
        optional: frozenset[str],
        native: str | None,
        csv: Any,
    ) -> SourceRead:
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        good: DataFrame | None = None
        bad: DataFrame | None = None
        for f in files:
            if f.format == "csv":
                reader = (
                    self.spark.read.option("header", True)
                    .option("multiLine", True)
                    .option("sep", csv.delimiter)
                    .option("quote", csv.quote)
                    .option("escape", csv.escape)
                    .option("encoding", "UTF-8")
                )
                header = csv_header(f.path, csv)
                schema = T.StructType(
                    [T.StructField(h, T.StringType()) for h in header]
                    + [T.StructField(CORRUPT, T.StringType())]
                )
                df = (
                    reader.option("mode", "PERMISSIVE")
                    .option("columnNameOfCorruptRecord", CORRUPT)
                    .schema(schema)
                    .csv(str(f.path))
                )
            else:
                df = self.spark.read.parquet(str(f.path)).withColumn(CORRUPT, F.lit(None).cast("string"))
            found = {h.replace("\ufeff", "").strip(): h for h in df.columns if h != CORRUPT}
            missing = [c for c in columns if c not in found and c not in optional]
            if missing:
                raise FileNotFoundError(
                    f"{f.path.name}: no column {', '.join(map(repr, missing))} (columns: {', '.join(found)})"
                )
            exprs = [F.lit(f.path.name).alias("__file")]
            for i, c in enumerate(columns):
                if c not in found:
                    exprs.append(F.lit(None).cast("string").alias(f"s{i}"))
                else:
                    value = F.trim(F.col(f"`{found[c]}`").cast("string"))
                    exprs.append(F.when(value == "", None).otherwise(value).alias(f"s{i}"))
            if native:
                col = df.schema[found[native]]
                if not isinstance(col.dataType, (T.TimestampType, T.TimestampNTZType)):
                    raise FileNotFoundError(
                        f"{f.path.name}: column {native!r} is {col.dataType}, not a timestamp"
                    )
                aware = isinstance(col.dataType, T.TimestampType)
                ts = F.col(f"`{found[native]}`")
                exprs += [
                    F.unix_micros(ts if aware else ts.cast("timestamp")).alias("__recv_us"),
                    F.lit(aware).alias("__recv_aware"),
                ]
            df = df.cache()  # Spark refuses to query the corrupt-record column of an uncached CSV scan
            self._frames.append(df)
            part = df.where(F.col(CORRUPT).isNull()).select(*exprs)
            wrong = df.where(F.col(CORRUPT).isNotNull()).select(
                F.lit(f.path.name).alias("__file"),
                F.lit(None).cast("bigint").alias("line"),
                F.lit(None).cast("string").alias("raw"),
                F.lit("line does not split into the header's columns").alias("error"),
            )
            good = part if good is None else good.unionByName(part)
            bad = wrong if bad is None else bad.unionByName(wrong)
        assert good is not None and bad is not None
        good = good.withColumn("__rid", F.monotonically_increasing_id()).localCheckpoint(eager=True)
        bad = bad.localCheckpoint(eager=True)
        self._frames += [good, bad]
        good.createOrReplaceTempView("staging")
        # Spark has no line numbers: number malformed rows so each stays one reject.
        bad = bad.withColumn("line", F.monotonically_increasing_id())
        bad.createOrReplaceTempView("malformed")
        return SourceRead(good.count(), bad.count())

    def write_parquet(self, sql: str, folder: Path, name: str) -> int:
        """Spark writes a folder of part files: they are moved to `folder/name-<n>.parquet` (empty
        parts dropped) and counted from their footers."""
        import pyarrow.parquet as pq

        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f".{name}-spark"
        self.spark.sql(sql).write.mode("overwrite").parquet(str(out))
        rows = 0
        for i, part in enumerate(sorted(out.glob("part-*.parquet"))):
            n = pq.read_metadata(part).num_rows
            if n:
                part.rename(folder / f"{name}-{i}.parquet")
                rows += n
        shutil.rmtree(out)
        return rows

    def write_csv(self, sql: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".csv-", dir=path.parent))
        try:
            out = tmp / "out"
            (
                self.spark.sql(sql)
                .coalesce(1)
                .write.option("header", True)
                .option("escape", '"')
                .option("emptyValue", "")
                .csv(str(out))
            )
            (part,) = out.glob("part-*.csv")
            shutil.move(str(part), path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def close(self) -> None:
        for df in self._frames:
            df.unpersist()
        self._frames.clear()


# --- wrappers: the DuckDB functions' signatures, with the SparkSession first -----------------------------------


def import_files(
    spark: SparkSession,
    paths: Sequence[str | Path],
    profile: Profile | str | Path,
    store_dir: str | Path | None = None,
    call_map: CallMap | str | Path | None = None,
    linkage_key: bytes | None = None,
    **kwargs: Any,
) -> importer.ImportReport:
    eng = SparkEngine(spark)
    try:
        return importer.import_files(paths, profile, store_dir, call_map, linkage_key, engine=eng, **kwargs)
    finally:
        eng.close()


def hour_of_week(spark: SparkSession, store: Store | str | Path, **kwargs: Any) -> demand.HourOfWeek:
    return demand.hour_of_week(store, engine=SparkEngine(spark), **kwargs)


def by_month(spark: SparkSession, store: Store | str | Path, **kwargs: Any) -> demand.ByMonth:
    return demand.by_month(store, engine=SparkEngine(spark), **kwargs)


def coverage(
    spark: SparkSession, store: Store | str | Path, calendars: Mapping[str, CalendarSpec], **kwargs: Any
) -> demand.Coverage:
    return demand.coverage(store, calendars, engine=SparkEngine(spark), **kwargs)


def arrival_rates(
    spark: SparkSession, store: Store | str | Path, calendar: CalendarSpec | None = None, **kwargs: Any
) -> demand.ArrivalRates:
    return demand.arrival_rates(store, calendar, engine=SparkEngine(spark), **kwargs)


def repeats(
    spark: SparkSession,
    store: Store | str | Path,
    days: int = 30,
    *,
    key: Literal["address", "caller"] = "address",
    **kwargs: Any,
) -> demand.Repeats:
    return demand.repeats(store, days, key=key, engine=SparkEngine(spark), **kwargs)
