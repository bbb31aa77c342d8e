"""Demand analysis on DuckDB, checked against Python references (ServiceCalendar.is_open per call)."""

from __future__ import annotations

import csv
import dataclasses
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.analytics import demand
from crisisdesk.analytics.importer import import_files
from crisisdesk.analytics.keys import keyed_hash, normalise_text
from crisisdesk.analytics.profiles import load_profile
from crisisdesk.domain.calendar import ServiceCalendar
from crisisdesk.domain.protocol import CalendarSpec, OpeningHours
from crisisdesk.protocols import load_protocol
from tests.analytics.conftest import TEST_KEY, make_call_map

pytestmark = pytest.mark.analytics

CHI = ZoneInfo("America/Chicago")
LA = ZoneInfo("America/Los_Angeles")
MECC = load_protocol().calendar
WEEKDAYS = frozenset(range(5))
CLASSES = {"EDP": "in_scope", "WELF": "conditional", "TRAF": "not_in_scope", "SHOT": "emergency_only"}
TYPES = ["EDP", "WELF", "TRAF", "SHOT", "ZZZ"]  # ZZZ is not in the map: unknown


def calendars() -> dict[str, CalendarSpec]:
    block = MECC.hours[0]
    return {
        "MECC": MECC,
        "MECC + Saturday": dataclasses.replace(
            MECC, hours=(block, dataclasses.replace(block, days=frozenset({5})))
        ),
        "MECC to 22:00": dataclasses.replace(MECC, hours=(dataclasses.replace(block, closes=time(22, 0)),)),
    }


def make_calls(seed: int, n: int) -> list[tuple[str, datetime, str, str]]:
    """(id, instant, call type, address) around DST changes and holidays (July 4, Thanksgiving)."""
    rng = random.Random(seed)
    spans = [
        (datetime(2024, 3, 4, tzinfo=UTC), 20),
        (datetime(2024, 6, 28, tzinfo=UTC), 10),
        (datetime(2024, 10, 28, tzinfo=UTC), 35),
    ]
    out = []
    for i in range(n):
        start, days = spans[i % len(spans)]
        when = start + timedelta(seconds=rng.randrange(days * 86400))
        out.append((f"{i:05d}", when, rng.choice(TYPES), f"{rng.randrange(25)} Main St"))
    # Exactly on the opening and closing instants of a weekday block, and inside the DST fold.
    opening = datetime(2024, 3, 11, 12, 0, tzinfo=CHI)
    out += [
        ("edge-open", opening.astimezone(UTC), "EDP", "1 Edge Rd"),
        ("edge-close", datetime(2024, 3, 11, 20, 30, tzinfo=CHI).astimezone(UTC), "EDP", "1 Edge Rd"),
        ("fold-2nd", datetime(2024, 11, 3, 7, 30, tzinfo=UTC), "EDP", "2 Fold Ave"),
    ]
    return out


def write_calls(path: Path, calls: list[tuple[str, datetime, str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["incident_id", "received_at", "call_type", "address"])
        for ident, when, kind, addr in calls:
            w.writerow([ident, when.strftime("%Y-%m-%dT%H:%M:%SZ"), kind, addr])
    return path


def call_map(center: str) -> object:
    return make_call_map(center, {c: (c, k) for c, k in CLASSES.items()})


@pytest.fixture(scope="module")
def two_centers(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, list[tuple[str, datetime, str, str]]]]:
    root = tmp_path_factory.mktemp("demand")
    data = {"chi": make_calls(1, 700), "la": make_calls(2, 300)}
    for center, zone in (("chi", "America/Chicago"), ("la", "America/Los_Angeles")):
        profile = load_profile("generic").with_center(center, zone)
        import_files(
            [write_calls(root / f"{center}.csv", data[center])],
            profile,
            root / "store",
            call_map=call_map(center),
            linkage_key=TEST_KEY,
            progress=False,
        )
    return root / "store", data


ZONES = {"chi": CHI, "la": LA}


def eligible(kind: str) -> bool:
    return CLASSES.get(kind) in {"in_scope", "conditional"}


def test_hour_of_week_and_month_counts(two_centers: tuple[Path, dict]) -> None:
    store, data = two_centers
    how = demand.hour_of_week(store)
    want: Counter[tuple[int, str]] = Counter()
    months: Counter[tuple[int, int, str]] = Counter()
    for center, calls in data.items():
        for _, when, kind, _ in calls:
            local = when.astimezone(ZONES[center])
            slot = local.weekday() * 24 + local.hour
            want[(slot, "calls")] += 1
            months[(local.year, local.month, "calls")] += 1
            if eligible(kind):
                want[(slot, "eligible")] += 1
                months[(local.year, local.month, "eligible")] += 1
            if CLASSES.get(kind) == "in_scope":
                want[(slot, "in_scope")] += 1
    assert len(how.rows) == 168 and [r.hour_of_week for r in how.rows] == list(range(168))
    for r in how.rows:
        assert (r.calls, r.eligible, r.in_scope) == (
            want[(r.hour_of_week, "calls")],
            want[(r.hour_of_week, "eligible")],
            want[(r.hour_of_week, "in_scope")],
        )
        assert r.eligible == r.in_scope + r.conditional
    chi_only = demand.hour_of_week(store, center="chi")
    assert sum(r.calls for r in chi_only.rows) == len(data["chi"])
    got = {(m.year, m.month): (m.calls, m.eligible) for m in demand.by_month(store).rows}
    assert got == {
        (y, mo): (months[(y, mo, "calls")], months[(y, mo, "eligible")])
        for (y, mo, k) in months
        if k == "calls"
    }


@pytest.mark.parametrize("zone", ["center", "calendar"])
def test_coverage_equals_service_calendar_call_by_call(two_centers: tuple[Path, dict], zone: str) -> None:
    store, data = two_centers
    cals = calendars()
    result = demand.coverage(store, cals, zone=zone)  # type: ignore[arg-type]
    total = sum(eligible(k) for calls in data.values() for _, _, k, _ in calls)
    covered = {}
    for name, spec in cals.items():
        n = 0
        for center, calls in data.items():
            tz_spec = dataclasses.replace(spec, timezone=str(ZONES[center])) if zone == "center" else spec
            cal = ServiceCalendar(tz_spec)
            n += sum(1 for _, when, kind, _ in calls if eligible(kind) and cal.is_open(when).open)
        covered[name] = n
    assert [r.calendar for r in result.rows] == list(cals)
    for r in result.rows:
        assert r.eligible_calls == total
        assert (r.covered_exact, r.covered) == (covered[r.calendar], covered[r.calendar])
        assert r.share == pytest.approx(covered[r.calendar] / total)
        assert r.added_calls == covered[r.calendar] - covered["MECC"]
    assert result.row("MECC + Saturday").added_calls > 0 and result.row("MECC to 22:00").added_calls > 0
    assert result.rows[0].open_hours_per_week < 42.5  # 8.5 h x 5 days, less the holidays in the period


def test_coverage_counts_the_opening_instant_but_not_the_closing_one(two_centers: tuple[Path, dict]) -> None:
    store, _ = two_centers
    one = demand.coverage(store, {"MECC": MECC}, center="chi")
    cal = ServiceCalendar(MECC)
    assert cal.is_open(datetime(2024, 3, 11, 12, 0, tzinfo=CHI)).open
    assert not cal.is_open(datetime(2024, 3, 11, 20, 30, tzinfo=CHI)).open
    assert one.rows[0].covered_exact > 0


def test_arrival_rates_count_open_hours_exactly(two_centers: tuple[Path, dict]) -> None:
    store, data = two_centers
    with pytest.raises(demand.DemandError, match="per center"):
        demand.arrival_rates(store)
    plain = demand.arrival_rates(store, center="chi")
    first, last = plain.first_date, plain.last_date
    assert first is not None and last is not None
    start = datetime.combine(first, time(0), tzinfo=CHI)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=CHI)
    assert sum(r.exposure_hours for r in plain.rows) == pytest.approx((end - start).total_seconds() / 3600)
    sundays = sum(1 for i in range((last - first).days + 1) if (first + timedelta(days=i)).weekday() == 6)
    assert plain.rows[6 * 24 + 2].exposure_hours == sundays - 1  # 2024-03-10 02:00-03:00 never happened
    assert plain.rows[6 * 24 + 1].exposure_hours == sundays + 1  # 2024-11-03 01:00-02:00 happened twice

    rates = demand.arrival_rates(store, MECC, center="chi", calendar_name="MECC")
    cal = ServiceCalendar(MECC)
    mondays = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() == 0
    ]
    open_mondays = sum(1 for d in mondays if cal.holiday_name(d) is None)
    assert rates.rows[12].exposure_hours == open_mondays
    assert rates.rows[20].exposure_hours == pytest.approx(0.5 * open_mondays)
    assert all(r.exposure_hours == 0 and r.calls == 0 for r in rates.rows if r.dow >= 5 or r.hour < 12)
    per_slot: Counter[int] = Counter()
    for _, when, kind, _ in data["chi"]:
        if eligible(kind) and cal.is_open(when).open:
            local = when.astimezone(CHI)
            per_slot[local.weekday() * 24 + local.hour] += 1
    for r in rates.rows:
        assert r.calls == per_slot[r.hour_of_week]
        assert r.rate_per_hour == pytest.approx(r.calls / r.exposure_hours if r.exposure_hours else 0.0)


def python_repeats(
    calls: list[tuple[str, datetime, str, str]], days: int, center: str
) -> tuple[int, int, int]:
    by_key: dict[int | None, list[tuple[datetime, str]]] = defaultdict(list)
    for ident, when, kind, addr in calls:
        if eligible(kind):
            by_key[keyed_hash(TEST_KEY, "address", normalise_text(addr))].append((when, ident))
    repeat_calls = repeat_keys = 0
    for seq in by_key.values():
        seq.sort()
        r = sum(1 for a, b in zip(seq, seq[1:], strict=False) if b[0] - a[0] <= timedelta(days=days))
        repeat_calls += r
        repeat_keys += r > 0
    return sum(len(s) for s in by_key.values()), repeat_calls, repeat_keys


@pytest.mark.parametrize("days", [1, 7, 30])
def test_repeats_match_a_python_reference(two_centers: tuple[Path, dict], days: int) -> None:
    store, data = two_centers
    got = demand.repeats(store, days, center="chi")
    assert (got.calls, got.repeat_calls, got.repeat_keys) == python_repeats(data["chi"], days, "chi")
    assert (
        sum(b.calls for b in got.buckets) == got.calls
        and sum(b.keys for b in got.buckets) == got.distinct_keys
    )
    assert got.calls_without_key == 0
    both = demand.repeats(store, days)
    assert both.calls == got.calls + python_repeats(data["la"], days, "la")[0]  # keys never link centers


def test_repeats_edges(tmp_path: Path) -> None:
    t0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
    calls = [
        ("a1", t0, "EDP", "A"),
        ("a2", t0 + timedelta(days=30), "WELF", "A"),  # exactly 30 x 24 h later: a repeat
        ("a3", t0 + timedelta(days=60, seconds=1), "EDP", "A"),  # 30 days and 1 s: not
        ("a4", t0 + timedelta(days=60, seconds=1), "EDP", "A"),  # same instant: a repeat
        ("a5", t0 + timedelta(days=61), "TRAF", "A"),  # not eligible: left out
        ("b1", t0, "EDP", "B"),
        ("c1", t0, "EDP", ""),  # no address: counted apart
    ]
    profile = load_profile("generic").with_center("x", "UTC")
    import_files(
        [write_calls(tmp_path / "r.csv", calls)],
        profile,
        tmp_path / "s",
        call_map=call_map("x"),
        progress=False,
    )
    got = demand.repeats(tmp_path / "s", 30)
    assert (got.calls, got.repeat_calls, got.repeat_keys, got.distinct_keys, got.calls_without_key) == (
        5,
        2,
        1,
        2,
        1,
    )
    assert [(b.calls_per_key, b.keys, b.calls) for b in got.buckets] == [
        ("1", 1, 1), ("2", 0, 0), ("3-5", 1, 4), ("6-10", 0, 0), ("11+", 0, 0)
    ]  # fmt: skip
    assert demand.repeats(tmp_path / "s", 30, eligible_only=False).calls == 6
    assert demand.repeats(tmp_path / "s", 30, key="caller").calls == 0


def test_hour_only_coverage_is_the_open_share_of_each_hour(tmp_path: Path) -> None:
    """January 2024 has five Mondays; New Year's Day and Martin Luther King Jr. Day are closed."""
    path = tmp_path / "t.csv"
    path.write_text(
        "event_year,event_month,event_dow,event_hour,event_type,division,apprehension_made,hood_140\n"
        "2024,January,Monday,12,Person in Crisis,D1,No,1\n"
        "2024,January,Monday,20,Person in Crisis,D1,No,1\n"
        "2024,January,Saturday,12,Person in Crisis,D1,No,1\n"
        "2024,January,Monday,12,Overdose,D1,No,1\n",
        encoding="utf-8",
    )
    tor_map = make_call_map(
        "toronto", {"Person in Crisis": ("EDP", "in_scope"), "Overdose": ("OD", "emergency_only")}
    )
    import_files([path], "toronto", tmp_path / "s", call_map=tor_map, progress=False)
    result = demand.coverage(tmp_path / "s", {"MECC": MECC})
    row = result.rows[0]
    assert row.eligible_calls == 3 and row.covered_exact == 0
    assert row.covered_estimated == pytest.approx(3 / 5 + 0.5 * 3 / 5)
    assert any("expected value" in n for n in result.notes)
    rates = demand.arrival_rates(tmp_path / "s", MECC)
    assert rates.rows[12].exposure_hours == 3 and rates.rows[12].calls == pytest.approx(0.6)
    assert rates.rows[12].rate_per_hour == pytest.approx(0.2)
    assert rates.rows[20].exposure_hours == 1.5 and rates.rows[5 * 24 + 12].exposure_hours == 0
    plain = demand.arrival_rates(tmp_path / "s")
    assert plain.rows[12].exposure_hours == 5 and plain.rows[12].calls == 1
    assert (plain.first_date, plain.last_date) == (datetime(2024, 1, 1).date(), datetime(2024, 1, 31).date())  # noqa: DTZ001
    assert demand.repeats(tmp_path / "s").calls_without_key == 3


def test_open_intervals_merge_overlapping_blocks_and_skip_holidays() -> None:
    spec = CalendarSpec(
        timezone="America/Chicago",
        hours=(OpeningHours(WEEKDAYS, time(9), time(13)), OpeningHours(WEEKDAYS, time(12), time(17))),
    )
    day = datetime(2024, 7, 3).date()  # noqa: DTZ001 - a date
    got = demand.open_intervals(spec, day, day + timedelta(days=1))  # July 4 is a holiday
    start = datetime(2024, 7, 3, 9, tzinfo=CHI)
    assert got == [
        (int(start.timestamp() * 1e6), int(datetime(2024, 7, 3, 17, tzinfo=CHI).timestamp() * 1e6))
    ]


def test_real_san_diego_slice(tmp_path: Path, cad_data: Path, sd_call_map: object) -> None:
    src = cad_data / "san_diego" / "pd_calls_for_service_2023_datasd.csv"
    import_files([src], "san_diego", tmp_path, call_map=sd_call_map, progress=False)
    how = demand.hour_of_week(tmp_path)
    cov = demand.coverage(tmp_path, {"MECC": MECC})
    assert sum(how.eligible_counts()) == cov.rows[0].eligible_calls == 39
    cal = ServiceCalendar(dataclasses.replace(MECC, timezone="America/Los_Angeles"))
    with open(src, encoding="utf-8", newline="") as fh:
        expected = sum(
            1
            for r in csv.DictReader(fh)
            if r["call_type"] in {"5150", "CW", "415"}
            and cal.is_open(datetime.strptime(r["date_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=LA)).open  # noqa: DTZ007
        )
    assert cov.rows[0].covered_exact == expected
    assert any("block level" in n for n in cov.notes)
