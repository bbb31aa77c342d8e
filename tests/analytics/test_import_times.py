"""Import of times, reject reasons and keyed hashes, checked row by row against Python."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from crisisdesk.analytics.importer import import_files
from crisisdesk.analytics.keys import keyed_hash
from crisisdesk.analytics.profiles import PROFILE_DIR, load_profile
from crisisdesk.analytics.schema import tz_tables
from crisisdesk.analytics.store import open_store
from tests.analytics.conftest import TEST_KEY

pytestmark = pytest.mark.analytics

CHI = ZoneInfo("America/Chicago")
GENERIC = ("incident_id", "received_at", "call_type", "priority", "address", "caller")


def write_generic(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = GENERIC) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def generic(center: str = "chi", zone: str = "America/Chicago") -> object:
    return load_profile("generic").with_center(center, zone)


def stored_by_id(store_dir: Path) -> dict[str, dict[str, object]]:
    con = open_store(store_dir).connect()
    cur = con.execute("SELECT * FROM calls")
    names = [d[0] for d in cur.description]
    return {r[1]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


# (value as the CAD wrote it, the instant Python reads: wall-clock with fold=0, or the written offset)
TIMES = {
    "before-gap": ("2024-03-10 01:59:59", datetime(2024, 3, 10, 1, 59, 59, tzinfo=CHI)),
    "in-gap": ("2024-03-10 02:30:00", datetime(2024, 3, 10, 2, 30, tzinfo=CHI)),  # does not exist
    "after-gap": ("2024-03-10T03:00:00", datetime(2024, 3, 10, 3, 0, tzinfo=CHI)),
    "fold-first": ("2024-11-03 01:30:00", datetime(2024, 11, 3, 1, 30, tzinfo=CHI)),  # happens twice
    "fold-second": ("2024-11-03T01:30:00-06:00", datetime(2024, 11, 3, 7, 30, tzinfo=UTC)),
    "fold-second-z": ("2024-11-03T07:30:00Z", datetime(2024, 11, 3, 7, 30, tzinfo=UTC)),
    "after-fold": ("2024-11-03 02:00:00", datetime(2024, 11, 3, 2, 0, tzinfo=CHI)),
    "fraction": ("2024-06-01 12:00:00.25", datetime(2024, 6, 1, 12, 0, 0, 250000, tzinfo=CHI)),
    "us-style": ("11/3/2024 1:30:00 PM", datetime(2024, 11, 3, 13, 30, tzinfo=CHI)),
    "midnight-am": ("12/31/2024 12:05 AM", datetime(2024, 12, 31, 0, 5, tzinfo=CHI)),
    "leap-day": ("2024-02-29 23:59", datetime(2024, 2, 29, 23, 59, tzinfo=CHI)),
    "offset-east": ("2024-07-01 09:00:00+0530", datetime(2024, 7, 1, 3, 30, tzinfo=UTC)),
}


def test_times_match_python_including_dst_gap_and_fold(tmp_path: Path) -> None:
    rows = [(k, v, "WELF", "", "", "") for k, (v, _) in TIMES.items()]
    report = import_files(
        [write_generic(tmp_path / "t.csv", rows)], generic(), tmp_path / "s", progress=False
    )
    assert report.rows_stored == len(TIMES) and report.rows_rejected == 0
    got = stored_by_id(tmp_path / "s")
    for key, (_, when) in TIMES.items():
        row, local = got[key], when.astimezone(UTC).astimezone(CHI)  # normalised (a gap time moves on)
        assert row["received_utc"] == when.astimezone(UTC), key
        assert (row["local_date"], row["local_dow"], row["local_hour"]) == (
            local.date(),
            local.weekday(),
            local.hour,
        ), key
        assert (row["local_year"], row["local_month"]) == (local.year, local.month), key
    assert got["in-gap"]["local_hour"] == 3  # 02:30 does not exist: it is read as 03:30 CDT
    assert got["fold-first"]["received_utc"] == datetime(2024, 11, 3, 6, 30, tzinfo=UTC)
    assert got["fold-second"]["local_hour"] == 1  # the second 01:30 is still hour 1 (a two-hour hour)
    assert got["fold-second"]["received_utc"] == got["fold-second-z"]["received_utc"]


def test_offset_tables_agree_with_zoneinfo_on_every_change_day() -> None:
    """At each change point the old offset holds one microsecond before and the new one from it on."""
    local, utc = tz_tables("America/Chicago")
    epoch = datetime(1970, 1, 1)  # noqa: DTZ001 - wall-clock arithmetic
    local_changes = [r for r in local.to_pylist() if r["brk_us"] is not None]
    utc_changes = [r for r in utc.to_pylist() if r["brk_us"] is not None]
    assert len(local_changes) == len(utc_changes) == 2 * (2099 - 1971 + 1)  # two a year
    for r in local_changes:
        for us, off in ((r["brk_us"] - 1, r["off_us"]), (r["brk_us"], r["off2_us"])):
            wall = (epoch + timedelta(microseconds=us)).replace(tzinfo=CHI)  # fold=0
            assert wall.utcoffset() == timedelta(microseconds=off)
    for r in utc_changes:
        for us, off in ((r["brk_us"] - 1, r["off_us"]), (r["brk_us"], r["off2_us"])):
            instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
            assert instant.astimezone(CHI).utcoffset() == timedelta(microseconds=off)


def test_rejects_every_reason_that_applies(tmp_path: Path) -> None:
    rows = [
        ("ok", "2024-05-01 10:00:00", "WELF", "1", "", ""),
        ("feb30", "2024-02-30 10:00:00", "WELF", "1", "", ""),
        ("month13", "2024-13-01 10:00:00", "WELF", "1", "", ""),
        ("hour24", "2024-01-01 24:00:00", "WELF", "1", "", ""),
        ("pm13", "01/01/2024 13:00 PM", "WELF", "1", "", ""),
        ("old", "1900-01-01 10:00:00", "WELF", "1", "", ""),
        ("words", "yesterday at noon", "WELF", "1", "", ""),
        ("empty", "", "WELF", "1", "", ""),
        ("", "2024-05-01 10:00:00", "", "1", "", ""),  # two reasons
        ("x" * 129, "2024-05-01 10:00:00", "WELF", "1", "", ""),
    ]
    report = import_files(
        [write_generic(tmp_path / "r.csv", rows)], generic(), tmp_path / "s", progress=False
    )
    assert report.rows_stored == 1 and report.rows_rejected == 9
    assert report.rejected_by_reason == {
        "invalid_received_time": 4,
        "received_time_out_of_range": 1,
        "bad_received_time_format": 1,
        "missing_received_time": 1,
        "missing_incident_id": 1,
        "missing_call_type": 1,
        "incident_id_too_long": 1,
    }
    with open(report.rejects_path or "", encoding="utf-8", newline="") as fh:
        reasons = {r["received_at"]: r["reasons"] for r in csv.DictReader(fh)}
    assert reasons["2024-02-30 10:00:00"] == "invalid_received_time"
    assert reasons["2024-05-01 10:00:00"] in {"missing_incident_id;missing_call_type", "incident_id_too_long"}


def test_malformed_lines_are_rejected_and_the_rest_imported(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "incident_id,received_at,call_type\n"
        "a,2024-05-01 10:00:00,WELF\n"
        "b,2024-05-01 10:00:00\n"
        'c,2024-05-01 10:00:00,"EDP",extra\n'
        "d,2024-05-01 11:00:00,EDP\n",
        encoding="utf-8",
    )
    report = import_files([path], generic(), tmp_path / "s", progress=False)
    assert (report.rows_read, report.rows_stored, report.rows_rejected) == (4, 2, 2)
    assert report.rejected_by_reason == {"malformed_line": 2}
    with open(report.rejects_path or "", encoding="utf-8", newline="") as fh:
        lines = sorted(int(r["line"]) for r in csv.DictReader(fh))
    assert lines == [3, 4]


def test_address_and_caller_keys_are_keyed_hashes_of_normalised_values(tmp_path: Path) -> None:
    rows = [
        ("1", "2024-05-01 10:00:00", "WELF", "", "  123  Main\tSt ", "+1 (612) 673-3000"),
        ("2", "2024-05-02 10:00:00", "WELF", "", "123 MAIN ST", "612.673.3000"),
        ("3", "2024-05-03 10:00:00", "WELF", "", "", ""),
    ]
    import_files([write_generic(tmp_path / "k.csv", rows)], generic(), tmp_path / "s", progress=False)
    got = stored_by_id(tmp_path / "s")
    assert (
        got["1"]["address_key"] == got["2"]["address_key"] == keyed_hash(TEST_KEY, "address", "123 MAIN ST")
    )
    assert got["1"]["caller_key"] == got["2"]["caller_key"] == keyed_hash(TEST_KEY, "caller", "6126733000")
    assert got["3"]["address_key"] is None and got["3"]["caller_key"] is None
    assert keyed_hash(b"another key of some length", "address", "123 MAIN ST") != got["1"]["address_key"]


def test_generic_without_key_columns_needs_no_linkage_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRISISDESK_LINKAGE_KEY")
    path = write_generic(
        tmp_path / "g.csv",
        [("1", "2024-05-01 10:00:00", "WELF")],
        ("incident_id", "received_at", "call_type"),
    )
    report = import_files([path], generic(), tmp_path / "s", progress=False)
    assert report.rows_stored == 1 and any("no linkage key" in n for n in report.notes)


@pytest.mark.parametrize("aware", [False, True])
def test_parquet_with_native_timestamps(tmp_path: Path, aware: bool) -> None:
    doc = yaml.safe_load((PROFILE_DIR / "generic.yaml").read_text(encoding="utf-8"))
    doc["columns"]["received"]["formats"] = ["native"]
    doc["center"] = {"id": "chi", "timezone": "America/Chicago"}
    profile_path = tmp_path / "native.yaml"
    profile_path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    wall = [datetime(2024, 11, 3, 1, 30), datetime(2024, 3, 10, 2, 30), datetime(2024, 6, 1, 12)]  # noqa: DTZ001
    ts_type = pa.timestamp("us", tz="UTC") if aware else pa.timestamp("us")
    table = pa.table(
        {
            "incident_id": ["a", "b", "c"],
            "received_at": pa.array([w.replace(tzinfo=UTC) if aware else w for w in wall], ts_type),
            "call_type": ["WELF"] * 3,
        }
    )
    pq.write_table(table, tmp_path / "calls.parquet")
    report = import_files([tmp_path / "calls.parquet"], profile_path, tmp_path / "s", progress=False)
    assert report.rows_stored == 3
    got = stored_by_id(tmp_path / "s")
    for ident, w in zip("abc", wall, strict=True):
        expected = w.replace(tzinfo=UTC) if aware else w.replace(tzinfo=CHI).astimezone(UTC)
        assert got[ident]["received_utc"] == expected
