"""DuckDB and Spark give the same stored rows and the same demand answers, exactly.

One import per engine of the same files (real San Diego, Milwaukee and Toronto slices plus generated
calls around DST changes and holidays, with reject cases), then every demand function on each.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from crisisdesk.analytics import demand, importer
from crisisdesk.analytics import spark as sp
from crisisdesk.analytics.keys import keyed_hash, keyed_hash_sql, normalise_phone_sql, normalise_text_sql
from crisisdesk.analytics.profiles import load_profile
from crisisdesk.analytics.schema import COLUMN_NAMES, SPARK
from tests.analytics.conftest import TEST_KEY, make_call_map
from tests.analytics.test_demand import MECC, calendars, make_calls, write_calls
from tests.analytics.test_profiles import FORMAT_CASES

pytestmark = pytest.mark.analytics


def inputs(root: Path, cad_data: Path) -> list[tuple[list[Path], Any, Any]]:
    gen = write_calls(root / "chi.csv", make_calls(3, 400))
    with open(gen, "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["bad-1", "2024-02-30T10:00:00Z", "EDP", ""],
                ["bad-2", "2024-03-01T10:00:00Z", "", "x"],
                ["bad-3", "soon"],
            ]
        )
    chi_map = make_call_map(
        "chi", {"EDP": ("EDP", "in_scope"), "WELF": ("W", "conditional"), "SHOT": ("S", "emergency_only")}
    )
    tor_map = make_call_map(
        "toronto", {"Person in Crisis": ("EDP", "in_scope"), "Suicide-related": ("SUICIDE", "conditional")}
    )
    sd = cad_data / "san_diego" / "pd_calls_for_service_2023_datasd.csv"
    sd_map = make_call_map(
        "san_diego", {"5150": ("EDP", "in_scope"), "CW": ("W", "conditional"), "415": ("D", "conditional")}
    )
    return [
        ([gen], load_profile("generic").with_center("chi", "America/Chicago"), chi_map),
        ([sd], "san_diego", sd_map),
        ([cad_data / "toronto" / "persons_in_crisis_data.csv"], "toronto", tor_map),
    ]


@pytest.fixture(scope="module")
def stores(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("parity")
    cad_data = Path(__file__).resolve().parents[1] / "data" / "cad"
    reports: dict[str, list[importer.ImportReport]] = {"duckdb": [], "spark": []}
    for files, profile, cmap in inputs(root, cad_data):
        reports["duckdb"].append(
            importer.import_files(files, profile, root / "duck", cmap, TEST_KEY, progress=False)
        )
        reports["spark"].append(
            sp.import_files(spark, files, profile, root / "spark", cmap, TEST_KEY, progress=False)
        )
    return {"duckdb": root / "duck", "spark": root / "spark", "reports": reports}


def comparable(report: importer.ImportReport) -> dict[str, Any]:
    d = report.as_dict()
    for k in ("import_id", "engine", "rejects_path"):
        d.pop(k)
    return d


def table(store: Path) -> list[tuple[Any, ...]]:
    cols = ", ".join(c for c in COLUMN_NAMES if c != "import_id")
    glob = str(store / "calls" / "center=*" / "*.parquet")
    return duckdb.execute(
        f"SELECT {cols} FROM read_parquet(?) ORDER BY center, incident_id",  # noqa: S608 - column names
        [glob],
    ).fetchall()


def rejects(report: importer.ImportReport) -> list[tuple[str, ...]]:
    if report.rejects_path is None:
        return []
    with open(report.rejects_path, encoding="utf-8", newline="") as fh:
        # Malformed lines: DuckDB says how (and where), Spark only that they are; compare the reason code.
        return sorted(
            tuple((v or "").split(":")[0] if k == "reasons" else v or "" for k, v in r.items() if k != "line")
            for r in csv.DictReader(fh)
        )


def test_import_reports_rows_and_rejects_are_identical(stores: dict[str, Any]) -> None:
    duck, spark = stores["reports"]["duckdb"], stores["reports"]["spark"]
    assert [comparable(r) for r in duck] == [comparable(r) for r in spark]
    assert duck[0].rejected_by_reason == {
        "invalid_received_time": 1,
        "missing_call_type": 1,
        "malformed_line": 1,
    }
    assert [rejects(r) for r in duck] == [rejects(r) for r in spark]
    rows = table(stores["duckdb"])
    assert len(rows) > 1000 and rows == table(stores["spark"])


def test_demand_answers_are_identical(spark: Any, stores: dict[str, Any]) -> None:
    d, s = stores["duckdb"], stores["spark"]
    assert demand.hour_of_week(d) == sp.hour_of_week(spark, s)
    assert demand.by_month(d) == sp.by_month(spark, s)
    for zone in ("center", "calendar"):
        duck_cov = demand.coverage(d, calendars(), zone=zone)  # type: ignore[arg-type]
        assert duck_cov == sp.coverage(spark, s, calendars(), zone=zone)
    assert duck_cov.row("MECC").covered_estimated > 0 and duck_cov.row("MECC").covered_exact > 0
    for center in ("chi", "toronto", "san_diego"):
        assert demand.arrival_rates(d, MECC, center=center) == sp.arrival_rates(spark, s, MECC, center=center)
    assert demand.arrival_rates(d, center="chi") == sp.arrival_rates(spark, s, center="chi")
    for days in (1, 30):
        assert demand.repeats(d, days) == sp.repeats(spark, s, days)
    assert demand.repeats(d, 30, eligible_only=False) == sp.repeats(spark, d, 30, eligible_only=False)


def test_regexes_and_keys_mean_the_same_in_spark(spark: Any) -> None:
    from crisisdesk.analytics.profiles import compile_format

    rows = [(value, compile_format(fmt).regex, matches) for fmt, value, matches in FORMAT_CASES]
    got = spark.sql(
        "SELECT " + ", ".join(f"({SPARK.matches(SPARK.lit(v), p)})" for v, p, _ in rows)
    ).collect()[0]
    assert list(got) == [m for _, _, m in rows]
    assert all((re.search(p.replace("\\z", "\\Z"), v) is not None) == m for v, p, m in rows)
    values = ["  12 Main\tSt", "+1 (612) 673-3000", "ÉCOLE ST"]
    exprs = []
    for v in values:
        exprs.append(keyed_hash_sql(SPARK, TEST_KEY, "address", normalise_text_sql(SPARK, SPARK.lit(v))))
        exprs.append(keyed_hash_sql(SPARK, TEST_KEY, "caller", normalise_phone_sql(SPARK, SPARK.lit(v))))
    got_keys = list(spark.sql("SELECT " + ", ".join(exprs)).collect()[0])
    from crisisdesk.analytics.keys import normalise_phone, normalise_text

    want = []
    for v in values:
        want += [
            keyed_hash(TEST_KEY, "address", normalise_text(v)),
            keyed_hash(TEST_KEY, "caller", normalise_phone(v)),
        ]
    assert got_keys == want


def test_spark_store_is_read_by_duckdb_and_the_other_way(spark: Any, stores: dict[str, Any]) -> None:
    """Files written by one engine are a valid store for the other (same Parquet types)."""
    cov_spark_files = demand.coverage(stores["spark"], {"MECC": MECC})
    cov_duck_files = sp.coverage(spark, stores["duckdb"], {"MECC": MECC})
    assert dataclasses.asdict(cov_spark_files) == dataclasses.asdict(cov_duck_files)


def test_cli_imports_with_spark(spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from crisisdesk.analytics import cad_cli

    mke = Path(__file__).resolve().parents[1] / "data" / "cad" / "milwaukee" / "data.csv"
    args = ["import", str(mke), "--profile", "milwaukee", "--store", str(tmp_path), "--engine", "spark"]
    assert cad_cli.main([*args, "--call-map", str(tmp_path / "missing.yaml")]) == 2
    assert cad_cli.main(args) == 0
    out = capsys.readouterr().out
    assert "stored 309 new" in out and "engine spark" in out
    assert demand.hour_of_week(tmp_path).rows[0].calls == sum(
        1 for r in table(tmp_path) if r[6] == 0 and r[7] == 0
    )
