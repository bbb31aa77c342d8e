"""CAD history import on DuckDB: real slices, idempotence, conflicts, rejects, call maps, the CLI."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from crisisdesk.analytics import cad_cli
from crisisdesk.analytics.importer import CadImportError, import_files
from crisisdesk.analytics.keys import LINKAGE_KEY_ENV, LinkageKeyError, keyed_hash, normalise_text
from crisisdesk.analytics.profiles import load_profile
from crisisdesk.analytics.store import open_store
from tests.analytics.conftest import TEST_KEY, make_call_map

pytestmark = pytest.mark.analytics

LA = ZoneInfo("America/Los_Angeles")


def sd_file(cad_data: Path) -> Path:
    return cad_data / "san_diego" / "pd_calls_for_service_2023_datasd.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def stored(
    store_dir: Path, sql: str = "SELECT * FROM calls ORDER BY center, incident_id"
) -> list[dict[str, object]]:
    con = open_store(store_dir).connect()
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_san_diego_slice_every_row_accounted_for(tmp_path: Path, cad_data: Path, sd_call_map: object) -> None:
    report = import_files([sd_file(cad_data)], "san_diego", tmp_path, call_map=sd_call_map, progress=False)
    source = read_rows(sd_file(cad_data))
    assert report.rows_read == len(source) == 315
    assert report.rows_rejected == 19 and report.rejected_by_reason == {"missing_call_type": 19}
    assert report.rows_stored == 296 and report.center_rows == 296
    total = (
        report.rows_stored
        + report.rows_replaced
        + report.already_stored
        + report.duplicates_in_batch
        + report.rows_rejected
    )
    assert total == report.rows_read
    assert report.by_class == {
        "in_scope": 11,
        "conditional": 28,
        "emergency_only": 2,
        "not_in_scope": 23,
        "unknown": 232,
    }
    assert any("'FP' appears twice" in n for n in report.notes)

    rows = {r["incident_id"]: r for r in stored(tmp_path)}
    types: dict[str, str] = {}
    for r in read_rows(cad_data / "san_diego" / "pd_cfs_calltypes_datasd.csv"):
        types.setdefault(r["call_type"].strip().upper(), r["description"].strip())  # the first one wins
    beats = {
        r["beat"]: r["neighborhood"]
        for r in read_rows(cad_data / "san_diego" / "pd_beat_codes_list_datasd.csv")
    }
    for src in source:
        if not src["call_type"]:
            assert src["incident_num"] not in rows
            continue
        row = rows[src["incident_num"]]
        local = datetime.strptime(src["date_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=LA)  # noqa: DTZ007
        assert row["received_utc"] == local.astimezone(UTC)
        assert (row["local_date"], row["local_dow"], row["local_hour"]) == (
            local.date(),
            local.weekday(),
            local.hour,
        )
        assert row["hour_of_week"] == local.weekday() * 24 + local.hour
        assert row["call_type_text"] == types.get(src["call_type"])
        assert row["neighborhood"] == beats.get(src["beat"])
        parts = [src[c] for c in load_address_columns()]
        assert row["address_key"] == keyed_hash(
            TEST_KEY, "address", normalise_text(" ".join(p for p in parts if p))
        )
    assert types["FP"] == "FOOT PURSUIT"
    assert {r["bh_class"] for r in rows.values() if r["call_type"] == "5150"} == {"in_scope"}
    assert all(r["eligible"] == (r["bh_class"] in {"in_scope", "conditional"}) for r in rows.values())
    assert {r["callmap_version"] for r in rows.values()} == {"san_diego/test.1"}

    rejects = read_rows(Path(report.rejects_path or ""))
    assert len(rejects) == 19 and {r["reasons"] for r in rejects} == {"missing_call_type"}
    assert {r["address_road_primary"] for r in rejects} == {"[withheld]"}  # never raw addresses
    assert {r["incident_num"] for r in rejects} == {s["incident_num"] for s in source if not s["call_type"]}
    assert set(rejects[0]) == {"source_file", "line", "reasons", *load_profile("san_diego").source_columns()}


def load_address_columns() -> tuple[str, ...]:
    return load_profile("san_diego").address


def test_reimport_stores_nothing_twice_and_a_changed_row_is_a_conflict(
    tmp_path: Path, cad_data: Path
) -> None:
    store_dir = tmp_path / "store"
    first = import_files([sd_file(cad_data)], "san_diego", store_dir, progress=False)
    again = import_files([sd_file(cad_data)], "san_diego", store_dir, progress=False)
    assert (again.rows_stored, again.already_stored, again.rows_rejected) == (0, first.rows_stored, 19)
    assert again.center_rows == first.center_rows

    # The CAD re-exports one incident with a new disposition.
    lines = sd_file(cad_data).read_text(encoding="utf-8").splitlines(keepends=True)
    changed = tmp_path / "pd_calls_for_service_2023_datasd.csv"
    row = lines[1]
    assert row.startswith('"E23010000001"') and '"CAN"' in row
    changed.write_text(lines[0] + row.replace('"CAN"', '"A"') + "".join(lines[2:]), encoding="utf-8")
    for name in ("pd_cfs_calltypes_datasd.csv", "pd_dispo_codes_datasd.csv", "pd_beat_codes_list_datasd.csv"):
        shutil.copy(cad_data / "san_diego" / name, tmp_path / name)
    conflict = import_files([changed], "san_diego", store_dir, progress=False)
    assert conflict.rejected_by_reason == {"missing_call_type": 19, "conflicts_with_stored": 1}
    assert conflict.already_stored == first.rows_stored - 1
    assert stored(store_dir, "SELECT disposition FROM calls WHERE incident_id = 'E23010000001'") == [
        {"disposition": "CAN"}
    ]

    replaced = import_files([changed], "san_diego", store_dir, replace=True, progress=False)
    assert (replaced.rows_replaced, replaced.rows_stored, replaced.center_rows) == (1, 0, first.center_rows)
    after = stored(
        store_dir, "SELECT disposition, disposition_text FROM calls WHERE incident_id = 'E23010000001'"
    )
    assert after == [{"disposition": "A", "disposition_text": "ARREST MADE"}]


def test_copies_inside_one_batch(tmp_path: Path, cad_data: Path) -> None:
    src = cad_data / "milwaukee" / "data.csv"
    copy = tmp_path / "data_copy.csv"
    shutil.copy(src, copy)
    report = import_files([src, copy], "milwaukee", tmp_path / "store", progress=False)
    assert (report.rows_read, report.rows_stored, report.duplicates_in_batch) == (618, 309, 309)

    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    other = tmp_path / "other.csv"
    other.write_text(lines[0] + lines[1].replace("TRBL W/SUBJ", "BATTERY"), encoding="utf-8")
    report = import_files([src, other], "milwaukee", tmp_path / "store2", progress=False)
    assert report.rejected_by_reason == {"conflicting_duplicate_in_batch": 2}
    assert report.rows_stored == 308  # neither version of the disputed incident is stored


def test_toronto_hour_only_rows_with_derived_ids(tmp_path: Path, cad_data: Path) -> None:
    src = cad_data / "toronto" / "persons_in_crisis_data.csv"
    tor_map = make_call_map(
        "toronto",
        {
            "Person in Crisis": ("EDP", "in_scope"),
            "Suicide-related": ("SUICIDE", "conditional"),
            "Overdose": ("OVERDOSE", "emergency_only"),
        },
    )
    report = import_files([src], "toronto", tmp_path, call_map=tor_map, progress=False)
    assert report.rows_read == report.rows_stored == 330 and report.rows_rejected == 0
    rows = stored(tmp_path)
    assert all(r["received_utc"] is None and r["local_date"] is None for r in rows)
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]  # fmt: skip
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    got = sorted(
        (r["local_year"], r["local_month"], r["local_dow"], r["local_hour"], r["call_type"]) for r in rows
    )
    want = sorted(
        (
            int(s["event_year"]),
            months.index(s["event_month"]) + 1,
            days.index(s["event_dow"]),
            int(s["event_hour"]),
            s["event_type"],
        )
        for s in read_rows(src)
    )
    assert got == want
    ids = [str(r["incident_id"]) for r in rows]
    assert len(set(ids)) == 330 and sum(i.endswith("-2") for i in ids) >= 5  # identical rows: -1 and -2
    renamed = tmp_path / "renamed.csv"
    shutil.copy(src, renamed)
    again = import_files([renamed], "toronto", tmp_path, progress=False)
    assert (again.already_stored, again.rows_stored) == (330, 0)
    assert again.callmap == "toronto/test.1"  # the stored map is reused


def test_call_map_reclassifies_stored_rows_and_is_kept(tmp_path: Path, cad_data: Path) -> None:
    src = cad_data / "milwaukee" / "data.csv"
    first = import_files(
        [src], "milwaukee", tmp_path, call_map=make_call_map("milwaukee", {}), progress=False
    )
    assert first.by_class == {"unknown": 309}
    mke_map = make_call_map("milwaukee", {"WELFARE CITIZEN": ("WELFARE", "conditional")}, version="test.2")
    second = import_files([src], "milwaukee", tmp_path, call_map=mke_map, progress=False)
    welfare = sum(1 for r in read_rows(src) if r["nature"] == "WELFARE CITIZEN")
    assert welfare > 0 and second.by_class == {"conditional": welfare, "unknown": 309 - welfare}
    assert open_store(tmp_path).call_map("milwaukee") == mke_map
    third = import_files([src], "milwaukee", tmp_path, progress=False)
    assert third.callmap == "milwaukee/test.2" and third.by_class == second.by_class


def test_missing_column_file_and_key_problems_stop_the_import(
    tmp_path: Path, cad_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CadImportError, match="no column 'id', 'time', 'nature'"):
        import_files([sd_file(cad_data)], "milwaukee", tmp_path, progress=False)
    with pytest.raises(CadImportError, match="no such file"):
        import_files([tmp_path / "nope.csv"], "milwaukee", tmp_path, progress=False)
    with pytest.raises(CadImportError, match="pd_cfs_calltypes_datasd.csv not found"):
        lonely = tmp_path / "lonely" / "calls.csv"
        lonely.parent.mkdir()
        shutil.copy(sd_file(cad_data), lonely)
        import_files([lonely], "san_diego", tmp_path / "s1", progress=False)
    monkeypatch.delenv(LINKAGE_KEY_ENV)
    with pytest.raises(LinkageKeyError, match=LINKAGE_KEY_ENV):
        import_files([cad_data / "milwaukee" / "data.csv"], "milwaukee", tmp_path / "s2", progress=False)
    import_files(
        [cad_data / "milwaukee" / "data.csv"],
        "milwaukee",
        tmp_path / "s3",
        linkage_key=TEST_KEY,
        progress=False,
    )
    with pytest.raises(LinkageKeyError, match="another linkage key"):
        import_files(
            [cad_data / "milwaukee" / "data.csv"],
            "milwaukee",
            tmp_path / "s3",
            linkage_key=b"x" * 32,
            progress=False,
        )
    assert not (tmp_path / "s1" / "calls").exists()  # nothing written by refused imports


def test_cli_exit_codes_and_summary(
    tmp_path: Path, cad_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    mke = str(cad_data / "milwaukee" / "data.csv")
    assert cad_cli.main(["import", mke, "--profile", "milwaukee", "--store", store, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "milwaukee: read 309 rows from 1 file(s); stored 309 new" in out
    assert cad_cli.main(["import", str(sd_file(cad_data)), "--profile", "san_diego", "--store", store]) == 1
    assert "rejected 19 (missing_call_type 19)" in capsys.readouterr().out
    assert cad_cli.main(["import", mke, "--profile", "nope", "--store", store]) == 2
    assert "no profile 'nope'" in capsys.readouterr().err
    assert (
        cad_cli.main(["import", str(tmp_path / "missing.csv"), "--profile", "milwaukee", "--store", store])
        == 2
    )
    assert cad_cli.main(["summary", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "milwaukee: 309 calls (2018-05-01 .. 2018-05-21, America/Chicago" in out
    assert "san_diego: 296 calls" in out and "19 rows rejected" in out
    assert cad_cli.main(["summary", "--store", str(tmp_path / "none")]) == 2


def test_duckdb_views_file_is_usable_by_analysts(tmp_path: Path, cad_data: Path) -> None:
    import_files([cad_data / "milwaukee" / "data.csv"], "milwaukee", tmp_path, progress=False)
    con = duckdb.connect(str(tmp_path / "analytics.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM calls").fetchone() == (309,)
    assert con.execute("SELECT rows_stored FROM imports").fetchall() == [(309,)]
