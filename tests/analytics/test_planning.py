"""Planning on generated CAD history with known answers: coverage of what-if calendars, transfer
rates, staffing tables, the year of open time the simulation runs over (DST and holidays), and
`crisisdesk plan` end to end."""

from __future__ import annotations

import csv
import json
import math
from datetime import date, time, timedelta
from pathlib import Path

import holidays
import numpy as np
import pytest

from crisisdesk.analytics import plan_cli
from crisisdesk.analytics.demand import ArrivalRates, RateRow
from crisisdesk.analytics.importer import import_files
from crisisdesk.analytics.planning import (
    Assumptions,
    CalendarOption,
    PlanningError,
    build_report,
    describe_hours,
    format_report,
    parse_hours,
    what_if,
    year_slots,
)
from crisisdesk.analytics.profiles import load_profile
from crisisdesk.analytics.staffing import deadline, erlang_c
from crisisdesk.domain.protocol import CalendarSpec, OpeningHours
from tests.analytics.conftest import TEST_KEY, make_call_map

pytestmark = pytest.mark.analytics

MECC = CalendarSpec(
    timezone="America/Chicago", hours=(OpeningHours(frozenset(range(5)), time(12, 0), time(20, 30)),)
)
FIRST = date(2025, 3, 3)  # a Monday; two weeks with no federal holiday, DST starts Sunday 9 March


def _calls() -> list[dict[str, str]]:
    """Two weeks of calls placed by hand (local Chicago wall-clock times):
    - every weekday: eligible EDP at 13:10 and 15:40 (inside Mon-Fri 12:00-20:30), eligible WELF at
      20:45 (outside; inside "extend to 22:00"), a not-eligible TRAF at 13:00;
    - every Saturday: eligible EDP at 14:00; every Sunday: eligible EDP at 03:30 (after the DST gap).
    The eligible calls of the first Monday and Tuesday are at one address (6 calls in 2 days).
    44 calls, 34 eligible."""
    rows: list[dict[str, str]] = []
    for offset in range(14):
        day = FIRST + timedelta(days=offset)
        if day.weekday() < 5:
            plan = [(13, 10, "EDP"), (15, 40, "EDP"), (20, 45, "WELF"), (13, 0, "TRAF")]
        elif day.weekday() == 5:
            plan = [(14, 0, "EDP")]
        else:
            plan = [(3, 30, "EDP")]
        for hh, mm, code in plan:
            n = len(rows)
            same_place = offset < 2 and code != "TRAF"
            rows.append(
                {
                    "incident_id": f"T{n:04d}",
                    "received_at": f"{day.isoformat()} {hh:02d}:{mm:02d}:00",
                    "call_type": code,
                    "address": "1 MAIN ST" if same_place else f"{n} ELM ST",
                }
            )
    return rows


@pytest.fixture
def store(tmp_path: Path) -> Path:
    src = tmp_path / "calls.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["incident_id", "received_at", "call_type", "address"])
        writer.writeheader()
        writer.writerows(_calls())
    call_map = make_call_map(
        "testcity",
        {"EDP": ("EDP", "in_scope"), "WELF": ("WELFARE", "conditional"), "TRAF": ("TSTOP", "not_in_scope")},
    )
    profile = load_profile("generic").with_center("testcity", "America/Chicago")
    report = import_files(
        [src], profile, tmp_path / "store", call_map=call_map, linkage_key=TEST_KEY, progress=False
    )
    assert report.rows_stored == 44 and report.rows_rejected == 0
    return tmp_path / "store"


def _options() -> list[CalendarOption]:
    return [
        CalendarOption("MECC", MECC),
        what_if(MECC, "Add Saturday=+sat 12:00-20:30"),
        what_if(MECC, "Extend to 22:00=mon-fri 12:00-22:00"),
    ]


SMALL = Assumptions(handle_minutes=20.0, patience_seconds=90.0, servers=(1, 2), replications=20, sim_days=28)


def test_coverage_and_rates_of_what_if_calendars(store: Path) -> None:
    report = build_report(store, "testcity", _options(), SMALL)
    assert (report.calls, report.eligible) == (44, 34)
    base, saturday, evening = report.calendars
    # 20 weekday-afternoon calls of 34 eligible; Saturday adds 2; until 22:00 adds the 10 at 20:45.
    assert base.coverage.covered == 20 and base.coverage.share == pytest.approx(20 / 34)
    assert saturday.coverage.added_calls == 2
    assert evening.coverage.added_calls == 10 and evening.coverage.share == pytest.approx(30 / 34)
    assert base.coverage.open_hours_per_week == pytest.approx(42.5)
    assert saturday.coverage.open_hours_per_week == pytest.approx(51.0)
    assert evening.coverage.open_hours_per_week == pytest.approx(50.0)
    # Transfers: 10 per week inside 42.5 open hours; Monday 13:00-14:00 saw 2 calls in 2 open hours.
    assert base.transfers_per_week == pytest.approx(10.0)
    assert base.mean_rate_per_hour == pytest.approx(20 / 85)
    assert base.rates.rate(0, 13) == pytest.approx(1.0)
    assert base.busiest_rate_per_hour == pytest.approx(1.0)
    assert saturday.rates.rate(5, 14) == pytest.approx(1.0)
    # Erlang at the calendar's mean rate, in seconds.
    level = base.levels[0]
    lam = (20 / 85) / 3600
    assert level.erlang_c == erlang_c(lam, 1200.0, 1, within=(60.0,))
    assert level.deadline == deadline(lam, 1200.0, 1, 90.0, within=(60.0,))
    # Repeats: one address with 6 eligible calls over two days -> 5 repeats.
    address = report.repeats[0]
    assert (address.repeat_calls, address.repeat_keys, address.calls) == (5, 1, 34)


def test_transfer_share_scales_the_load_and_the_simulation(store: Path) -> None:
    half = build_report(
        store,
        "testcity",
        _options()[:1],
        Assumptions(transfer_share=0.5, servers=(1,), replications=30, sim_days=70),
    )
    plan = half.calendars[0]
    assert plan.transfers_per_week == pytest.approx(5.0)
    sim = plan.levels[0].simulation
    assert sim is not None
    # 70 days from Monday 3 March = 10 weeks of weekdays, no federal holiday: 10 x 5 transfers/week.
    assert sim.transfers_per_replication == pytest.approx(50.0, rel=0.2)
    assert 0.0 <= sim.p_abandon <= 1.0 and sim.answered_within[60.0] <= 1.0


def test_year_slots_follow_holidays_and_hour_rates() -> None:
    # A rate of 1/h on Monday 13:00 and 2/h on Friday 20:00 (open only 20:00-20:30 there).
    rows = [RateRow(h, h // 24, h % 24, 0.0, 1.0, 0.0) for h in range(168)]
    rows[13] = RateRow(13, 0, 13, 1.0, 1.0, 1.0)
    rows[4 * 24 + 20] = RateRow(116, 4, 20, 1.0, 0.5, 2.0)
    rates = ArrivalRates("x", "MECC", FIRST, FIRST, tuple(rows))
    first = date(2025, 1, 1)
    slots = year_slots(MECC, rates, first, 365, transfer_share=1.0)
    expected = sum(s.rate_per_hour * (s.end - s.start) / 3600 for s in slots)
    us_holidays = holidays.country_holidays("US", years=2025, observed=True)
    days = [first + timedelta(days=i) for i in range(365)]
    mondays = sum(1 for d in days if d.weekday() == 0 and d not in us_holidays)
    fridays = sum(1 for d in days if d.weekday() == 4 and d not in us_holidays)
    assert expected == pytest.approx(mondays * 1.0 + fridays * 2.0 * 0.5)
    # The desk is open 8.5 h on each weekday that is not a holiday.
    open_days = sum(1 for d in days if d.weekday() < 5 and d not in us_holidays)
    assert sum(s.end - s.start for s in slots) == pytest.approx(open_days * 8.5 * 3600)


def test_year_slots_are_real_hours_on_dst_days() -> None:
    always = CalendarSpec(
        "America/Chicago", (OpeningHours(frozenset(range(7)), time(0), time(23, 59, 59, 999999)),), None
    )
    rows = tuple(RateRow(h, h // 24, h % 24, 1.0, 1.0, 1.0) for h in range(168))
    rates = ArrivalRates("x", None, FIRST, FIRST, rows)
    # Spring forward: 23 real hours, local 02:00 never happens; fall back: 25 real hours, local 01:00
    # lasts two hours (one slot, at the 01:00 rate).
    for day, hours, n_slots in (
        (date(2025, 3, 9), 23, 23),
        (date(2025, 11, 2), 25, 24),
        (date(2025, 6, 1), 24, 24),
    ):
        slots = year_slots(always, rates, day, 1)
        assert sum(s.end - s.start for s in slots) == pytest.approx(hours * 3600, abs=1e-3)
        assert len(slots) == n_slots
        assert all(a.end == b.start for a, b in zip(slots, slots[1:], strict=False))


def test_what_if_syntax() -> None:
    assert describe_hours(parse_hours("mon-fri 12:00-20:30; sat,sun 10:00-24:00")) == (
        "mon-fri 12:00-20:30; sat-sun 10:00-24:00"
    )
    added = what_if(MECC, "Add Saturday=+sat 12:00-20:30")
    assert added.name == "Add Saturday" and added.description == "mon-fri 12:00-20:30; sat 12:00-20:30"
    replaced = what_if(MECC, " Evenings = mon,wed 18:00-22:00 ")
    assert replaced.description == "mon,wed 18:00-22:00" and replaced.spec.timezone == "America/Chicago"
    for bad in (
        "no equals sign",
        "=mon 12:00-13:00",
        "X=fri-mon 12:00-13:00",
        "X=mon 13:00-12:00",
        "X=funday 1:00-2:00",
        "X=",
    ):
        with pytest.raises(PlanningError):
            what_if(MECC, bad)


def test_format_report_prints_the_tables(store: Path) -> None:
    text = format_report(build_report(store, "testcity", _options(), SMALL))
    assert "Coverage of eligible calls" in text
    assert "Add Saturday     mon-fri 12:00-20:30; sat 12:00-20:30" in text
    assert "+10 (+29.4 pts)" in text  # the 20:45 calls, 10 of 34
    assert "social workers" in text and "sim: <=60s" in text
    assert "repeat locations (address key) within 30 days: 5 of 34" in text
    assert "repeat callers (caller key): not measurable here" in text


def test_plan_command_end_to_end(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = plan_cli.main(
        [
            "--store", str(store), "--center", "testcity",
            "--what-if", "Extend to 22:00=mon-fri 12:00-22:00",
            "--servers", "1-3", "--replications", "10", "--sim-days", "14",
            "--out", str(out), "--plotlyjs", "beside",
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "Current hours" in printed and "Extend to 22:00" in printed
    data = json.loads((out / "plan.json").read_text())
    assert [c["option"]["name"] for c in data["calendars"]] == ["Current hours", "Extend to 22:00"]
    assert data["calendars"][1]["coverage"]["added_calls"] == 10
    assert [lv["servers"] for lv in data["calendars"][0]["levels"]] == [1, 2, 3]
    assert data["assumptions"]["patience_seconds"] == 90  # the MECC protocol's transfer timeout
    page = (out / "plan.html").read_text()
    assert (
        '<script src="plotly.min.js"></script>' in page and (out / "plotly.min.js").stat().st_size > 1_000_000
    )
    assert "cdn" not in page.lower()  # works offline; the CSP allows no CDN
    assert page.count("Plotly.newPlot") == 7  # heatmap, month, coverage, then staffing + waits per calendar


def test_plan_command_refuses_bad_input(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["--store", str(store), "--center", "testcity", "--what-if", "nonsense"]) == 2
    assert "NAME=HOURS" in capsys.readouterr().err
    assert plan_cli.main(["--store", str(store), "--center", "elsewhere", "--no-html"]) == 2
    assert "no center 'elsewhere'" in capsys.readouterr().err
    assert plan_cli.main(["--store", str(store / "missing"), "--center", "testcity"]) == 2
    assert plan_cli.main(["--store", str(store), "--center", "testcity", "--transfer-share", "2"]) == 2


def test_erlang_c_overload_is_reported(store: Path) -> None:
    # 20/85 transfers per hour at 6 hours each is 1.4 Erlangs: one social worker can never catch up.
    report = build_report(
        store, "testcity", _options()[:1], Assumptions(handle_minutes=360, servers=(1,), replications=0)
    )
    level = report.calendars[0].levels[0]
    assert not level.erlang_c.stable and math.isinf(level.erlang_c.mean_wait)
    assert level.simulation is None
    assert "overload" in format_report(report)


def test_observed_handle_times_replace_the_assumed_mean(store: Path, tmp_path: Path) -> None:
    a = Assumptions(handle_samples_minutes=(10.0, 30.0), servers=(1,), replications=5, sim_days=14)
    assert a.handle_minutes == 20.0 and a.handle().kind == "empirical"
    assert set(a.handle().draw(np.random.default_rng(0), (100,))) == {600.0, 1800.0}
    report = build_report(store, "testcity", _options()[:1], a)
    assert report.calendars[0].levels[0].erlang_c.handle == 1200.0  # the closed forms use the mean
    assert "2 observed times resampled" in format_report(report)
    bad = tmp_path / "handle.txt"
    bad.write_text("12\nabout 20\n")
    assert plan_cli.main(["--store", str(store), "--center", "testcity", "--handle-samples", str(bad)]) == 2
    with pytest.raises(PlanningError):
        Assumptions(handle_samples_minutes=(0.0, 5.0))
