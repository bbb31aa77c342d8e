"""How the import lays out and keeps the store: files per import, links, rewrites, keys, fast paths.

The import streams its passes (see importer._run); these tests pin what that must not change: every
row accounted for, the eligible/other files, stored files kept as they are unless rows are replaced
or reclassified, and the same answers from every internal route (keys per row or per distinct
value, times read by DuckDB's strptime or by the regular expressions).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crisisdesk.analytics import import_sql, importer
from crisisdesk.analytics.importer import ImportReport, import_files
from crisisdesk.analytics.keys import keyed_hash, normalise_phone, normalise_text
from crisisdesk.analytics.profiles import load_profile
from crisisdesk.analytics.schema import DUCKDB
from crisisdesk.analytics.store import StoreError, open_store
from tests.analytics.conftest import TEST_KEY, make_call_map

pytestmark = pytest.mark.analytics

CHI = ZoneInfo("America/Chicago")
HEADER = ("incident_id", "received_at", "call_type", "priority", "address", "caller")
CMAP = make_call_map(
    "chi", {"EDP": ("EDP", "in_scope"), "WELF": ("W", "conditional"), "TRAF": ("T", "not_in_scope")}
)


def generic() -> object:
    return load_profile("generic").with_center("chi", "America/Chicago")


def write(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = HEADER) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def calls(first: int, n: int, seed: int = 1) -> list[tuple[str, ...]]:
    """n calls with ids first.., local wall-clock times in 2024, three call types, repeating places."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)  # noqa: DTZ001 - wall-clock text for the CSV
    out = []
    for i in range(first, first + n):
        when = start + timedelta(seconds=rng.randrange(360 * 86400))
        out.append(
            (
                f"id{i:05d}",
                when.strftime("%Y-%m-%d %H:%M:%S"),
                rng.choice(["EDP", "WELF", "TRAF", "ZZZ"]),
                str(rng.randrange(1, 4)),
                f"{rng.randrange(30)} Main St",
                f"612-555-{rng.randrange(10_000):04d}",
            )
        )
    return out


def accounted(r: ImportReport) -> bool:
    total = r.rows_stored + r.rows_replaced + r.already_stored + r.duplicates_in_batch + r.rows_rejected
    return total == r.rows_read


def center_files(store_dir: Path) -> list[Path]:
    return open_store(store_dir).center_files("chi")


def rows(store_dir: Path, sql: str = "SELECT * FROM calls ORDER BY incident_id") -> list[dict[str, object]]:
    con = open_store(store_dir).connect()
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_each_import_adds_an_eligible_and_an_other_file_and_keeps_the_stored_ones(tmp_path: Path) -> None:
    store = tmp_path / "s"
    first = import_files([write(tmp_path / "a.csv", calls(0, 300))], generic(), store, CMAP, progress=False)
    assert accounted(first) and first.rows_stored == 300
    files = center_files(store)
    assert len(files) == 2
    for f in files:
        table = pq.read_table(f)
        eligible = set(table.column("eligible").to_pylist())
        assert len(eligible) == 1  # a file holds eligible calls or the others, never both
        if eligible == {True}:
            times = table.column("received_utc").to_pylist()
            assert times == sorted(times) and len(times) > 0
            assert set(table.column("bh_class").to_pylist()) <= {"in_scope", "conditional"}
    inodes = {f.name: f.stat().st_ino for f in files}

    second = import_files([write(tmp_path / "b.csv", calls(300, 200, 2))], generic(), store, progress=False)
    assert second.rows_stored == 200 and second.center_rows == 500 and second.callmap == "chi/test.1"
    after = center_files(store)
    assert len(after) == 4
    assert {f.name: f.stat().st_ino for f in after if f.name in inodes} == inodes  # linked, not rewritten

    # A new call-map version reclassifies every stored row: the stored files are rewritten.
    remap = make_call_map("chi", {"TRAF": ("T", "in_scope")}, version="test.2")
    third = import_files([tmp_path / "b.csv"], generic(), store, remap, progress=False)
    assert (third.rows_stored, third.already_stored) == (0, 200)
    stored = rows(store)
    assert len(stored) == 500 and {r["callmap_version"] for r in stored} == {"chi/test.2"}
    assert all(r["eligible"] == (r["call_type"] == "TRAF") for r in stored)
    assert not any(f.name in inodes for f in center_files(store))


def test_many_imports_are_compacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "MAX_CENTER_FILES", 4)
    store = tmp_path / "s"
    for k in range(3):
        src = write(tmp_path / f"{k}.csv", calls(100 * k, 100, k))
        report = import_files([src], generic(), store, CMAP, progress=False)
        assert report.rows_stored == 100
    files = center_files(store)
    assert len(files) == 2  # the stored rows and the third import's, rewritten together
    assert len({r["incident_id"] for r in rows(store)}) == 300
    eligible_file = next(f for f in files if f.name.endswith("-e.parquet"))
    times = pq.read_table(eligible_file).column("received_utc").to_pylist()
    assert times == sorted(times) and all(pq.read_table(eligible_file).column("eligible").to_pylist())


def test_copies_of_an_id_with_and_without_reasons(tmp_path: Path) -> None:
    t = "2024-05-01 10:00:00"
    src = write(
        tmp_path / "d.csv",
        [
            ("a", t, "EDP", "1", "", ""),
            ("a", t, "", "1", "", ""),  # same id, no call type: rejected for that, the other is stored
            ("b", t, "WELF", "2", "1 Main St", ""),
            ("b", t, "WELF", "2", "1 Main St", ""),
            ("b", t, "WELF", "2", "1 Main St", ""),  # identical copies: stored once
            ("c", t, "EDP", "1", "", ""),
            ("c", t, "EDP", "2", "", ""),  # differing copies: both rejected
            ("d", t, "EDP", "1", "", ""),
        ],
    )
    report = import_files([src], generic(), tmp_path / "s", CMAP, progress=False)
    assert accounted(report)
    assert (report.rows_stored, report.duplicates_in_batch, report.rows_rejected) == (3, 2, 3)
    assert report.rejected_by_reason == {"missing_call_type": 1, "conflicting_duplicate_in_batch": 2}
    assert [r["incident_id"] for r in rows(tmp_path / "s")] == ["a", "b", "d"]
    with open(report.rejects_path or "", encoding="utf-8", newline="") as fh:
        rejected = sorted((r["incident_id"], r["reasons"], r["priority"]) for r in csv.DictReader(fh))
    assert rejected == [
        ("a", "missing_call_type", "1"),
        ("c", "conflicting_duplicate_in_batch", "1"),
        ("c", "conflicting_duplicate_in_batch", "2"),
    ]


def test_a_changed_time_address_or_caller_is_a_conflict(tmp_path: Path) -> None:
    base = calls(0, 50)
    store = tmp_path / "s"
    import_files([write(tmp_path / "a.csv", base)], generic(), store, CMAP, progress=False)
    changed = list(base)
    changed[0] = (base[0][0], "2024-12-31 23:59:59", *base[0][2:])
    changed[1] = (*base[1][:4], "999 Other Rd", base[1][5])
    changed[2] = (*base[2][:5], "612-555-0000" if base[2][5] != "612-555-0000" else "612-555-0001")
    changed[3] = (*base[3][:3], "9", *base[3][4:])  # priority: a text field
    again = import_files([write(tmp_path / "b.csv", changed)], generic(), store, progress=False)
    assert again.rejected_by_reason == {"conflicts_with_stored": 4}
    assert (again.already_stored, again.rows_stored) == (46, 0)
    replaced = import_files([tmp_path / "b.csv"], generic(), store, replace=True, progress=False)
    assert (replaced.rows_replaced, replaced.center_rows) == (4, 50)
    got = {r["incident_id"]: r for r in rows(store)}
    assert got[base[1][0]]["address_key"] == keyed_hash(TEST_KEY, "address", "999 OTHER RD")
    assert sum(1 for r in rows(store, "SELECT incident_id FROM calls") if r["incident_id"] == base[0][0]) == 1


@pytest.mark.parametrize(
    "modes", [{"address": "row", "caller": "table"}, {"address": "table", "caller": "row"}]
)
def test_keys_are_the_same_hashed_per_row_or_per_distinct_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, modes: dict[str, str]
) -> None:
    monkeypatch.setattr(import_sql, "KEY_MODES", modes)
    src = calls(0, 200)
    src.append(("blank", "2024-05-01 10:00:00", "EDP", "1", "", "no digits"))
    import_files([write(tmp_path / "k.csv", src)], generic(), tmp_path / "s", CMAP, progress=False)
    got = {r["incident_id"]: r for r in rows(tmp_path / "s")}
    for ident, _, _, _, address, caller in src:
        assert got[ident]["address_key"] == keyed_hash(TEST_KEY, "address", normalise_text(address or None))
        assert got[ident]["caller_key"] == keyed_hash(TEST_KEY, "caller", normalise_phone(caller or None))
    assert got["blank"]["address_key"] is None and got["blank"]["caller_key"] is None


# Valid, invalid and edge values for the generic profile's formats without an offset.
TIME_CASES = [
    "2024-03-10 02:30:00",  # DST gap (read as 03:30 CDT)
    "2024-11-03 01:30:00",  # DST fold (first occurrence)
    "2024-1-5 3:04:05",
    "2024-02-29 23:59:59",
    "2023-02-29 10:00:00",  # not a date
    "2024-04-31 10:00:00",
    "2024-01-01 24:00:00",
    "2024-01-01 23:60:00",
    "2024-01-01 23:59:60",
    "2024-00-10 10:00:00",
    "2024-13-10 10:00:00",
    "1971-12-31 23:59:59",  # out of range
    "1972-01-01 00:00:00",
    "2098-12-31 23:59:59",
    "2099-01-01 00:00:00",
    "0000-01-01 00:00:00",
    "2024-06-01T12:00:00",
    "2024-06-01 12:00:00.25",
    "2024-06-01T12:00:00.123456",
    "2024-06-01 12:00",
    "11/3/2024 1:30:00 PM",
    "12/31/2024 12:05 AM",
    "12/31/2024 12:05 PM",
    "01/01/2024 13:00 PM",
    "01/01/2024 00:00 AM",
    "01/01/2024 0:00",
    "02/30/2024 10:00",
    "6/7/2024 23:59:59",
    "2024-06-01 12:00:00.1234567",  # seven digits: no format
    "2024-06-0112:00:00",
    "20240601 120000",
]


def test_strptime_fast_path_reads_times_like_the_regular_expressions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write(
        tmp_path / "t.csv",
        [(f"t{i}", v, "EDP", "1", "", "") for i, v in enumerate(TIME_CASES)],
    )
    fast = import_files([src], generic(), tmp_path / "fast", CMAP, progress=False)
    assert fast.rows_stored == 15 and fast.rows_rejected == 16
    assert len(import_sql.ImportSql(generic(), DUCKDB, TEST_KEY).fast_formats()) == 9  # all but %z
    monkeypatch.setattr(import_sql.ImportSql, "fast_formats", lambda self: {})
    slow = import_files([src], generic(), tmp_path / "slow", CMAP, progress=False)
    assert (
        fast.rejected_by_reason
        == slow.rejected_by_reason
        == {
            "invalid_received_time": 10,
            "received_time_out_of_range": 3,
            "bad_received_time_format": 3,
        }
    )
    same = "SELECT incident_id, received_utc, local_date, local_dow, local_hour, record_hash FROM calls ORDER BY 1"
    assert rows(tmp_path / "fast", same) == rows(tmp_path / "slow", same)
    got = {r["incident_id"]: r["received_utc"] for r in rows(tmp_path / "fast")}
    assert got["t0"] == datetime(2024, 3, 10, 8, 30, tzinfo=UTC)  # 02:30 does not exist: 03:30 CDT
    assert got["t1"] == datetime(2024, 11, 3, 6, 30, tzinfo=UTC)
    assert got["t20"] == datetime(2024, 11, 3, 13, 30, tzinfo=CHI).astimezone(UTC)
    assert got["t21"] == datetime(2024, 12, 31, 0, 5, tzinfo=CHI).astimezone(UTC)
    assert got["t17"] == datetime(2024, 6, 1, 12, 0, 0, 250000, tzinfo=CHI).astimezone(UTC)


def test_rejects_of_several_parquet_files_show_their_own_rows(tmp_path: Path) -> None:
    def parquet(name: str, ids: list[str], types: list[str | None]) -> Path:
        table = pa.table(
            {
                "incident_id": ids,
                "received_at": ["2024-05-01 10:00:00"] * len(ids),
                "call_type": types,
                "priority": [f"{name}-{i}" for i in range(len(ids))],
            }
        )
        pq.write_table(table, tmp_path / name)
        return tmp_path / name

    a = parquet("a.parquet", ["a1", "a2", "a3"], ["EDP", None, "EDP"])
    b = parquet("b.parquet", ["b1", "b2", "b3", "b4"], ["EDP", "EDP", "EDP", None])
    report = import_files([a, b], generic(), tmp_path / "s", CMAP, progress=False)
    assert (report.rows_read, report.rows_stored, report.rows_rejected) == (7, 5, 2)
    with open(report.rejects_path or "", encoding="utf-8", newline="") as fh:
        got = sorted((r["source_file"], r["incident_id"], r["priority"]) for r in csv.DictReader(fh))
    assert got == [("a.parquet", "a2", "a.parquet-1"), ("b.parquet", "b4", "b.parquet-3")]
    assert {(r["incident_id"], r["source_file"]) for r in rows(tmp_path / "s")} == {
        ("a1", "a.parquet"),
        ("a3", "a.parquet"),
        ("b1", "b.parquet"),
        ("b2", "b.parquet"),
        ("b3", "b.parquet"),
    }


def test_a_store_of_an_earlier_format_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "s"
    store.mkdir()
    (store / "store.json").write_text(json.dumps({"format": 1, "centers": {}}), encoding="utf-8")
    with pytest.raises(StoreError, match="import the CAD files again"):
        import_files([write(tmp_path / "a.csv", calls(0, 5))], generic(), store, CMAP, progress=False)


def test_stored_files_read_as_plain_strings(tmp_path: Path) -> None:
    """Constant columns are written from one-value enums (speed); readers must see plain strings."""
    import_files([write(tmp_path / "a.csv", calls(0, 20))], generic(), tmp_path / "s", CMAP, progress=False)
    files = center_files(tmp_path / "s")
    schema = pq.read_schema(files[0])
    for name in ("center", "source_file", "import_id", "callmap_version"):
        assert pa.types.is_string(schema.field(name).type) or pa.types.is_large_string(
            schema.field(name).type
        )
    described = duckdb.execute("DESCRIBE SELECT * FROM read_parquet(?)", [[str(f) for f in files]]).fetchall()
    types = {r[0]: r[1] for r in described}
    assert types["center"] == "VARCHAR" and types["record_hash"] == "BIGINT"
    assert os.path.getsize(files[0]) > 0


def test_record_hash_is_the_documented_fingerprint(tmp_path: Path) -> None:
    """md5("id|texts") first 60 bits, xor the UTC microseconds, the address key and the caller key << 2."""
    src = write(tmp_path / "h.csv", [("h1", "2024-05-01 10:00:00", "EDP", "2", "12 Main St", "612-555-0101")])
    import_files([src], generic(), tmp_path / "s", CMAP, progress=False)
    (row,) = rows(tmp_path / "s")
    texts = "|".join(["h1", "EDP", "", "2", "", "", "", ""])  # id, then profiles.TEXT_FIELDS in order
    md5_60 = int(hashlib.md5(texts.encode()).hexdigest()[:15], 16)  # noqa: S324 - a fingerprint, not security
    utc_us = int(datetime(2024, 5, 1, 10, tzinfo=CHI).timestamp()) * 1_000_000
    address = keyed_hash(TEST_KEY, "address", "12 MAIN ST")
    caller = keyed_hash(TEST_KEY, "caller", "6125550101")
    assert address is not None and caller is not None
    assert row["record_hash"] == md5_60 ^ utc_us ^ address ^ (caller << 2)
