"""Planning the social worker's desk: which hours to staff, and with how many social workers.

Input is the eligible-call demand of one center's CAD history (crisisdesk.analytics.demand over the
analytics store); output is a `PlanningReport` of plain dataclasses: demand by hour of week and by
month, the share of eligible calls each candidate calendar covers (the current service hours and
what-if calendars), and for each calendar a staffing table with Erlang C, Erlang A, the claim-deadline
queue and a simulation of a year of transfers. `format_report` prints it for a terminal; charts.py
draws it.

What-if calendars are written as `NAME=SPEC` (CLI `--what-if`, or a YAML list):

    "Add Saturday=+sat 12:00-20:30"          a leading + adds blocks to the base calendar
    "Extend to 22:00=mon-fri 12:00-22:00"    otherwise the blocks replace the base hours
    "Evenings too=mon-fri 12:00-20:30; mon-thu 20:30-23:00"

Days are `mon`..`sun`, ranges (`mon-fri`) and lists (`sat,sun`); times HH:MM, `24:00` for midnight.
Holidays, closures and the zone are the base calendar's.

From calls to transfers: an eligible call inside the service hours becomes a transfer with
probability `transfer_share` (screening exclusions, consent, telecommunicator judgement). Nothing
published gives that share for a desk like MECC's (reference/programs.md: Denver STAR reached 44-46%
of eligible calls, capacity-limited; Austin handled 16% of mental-health-related calls); the default
1.0 plans for every eligible call, an upper bound.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, time, timedelta
from pathlib import Path

from crisisdesk.analytics.calendars import EPOCH, Zone
from crisisdesk.analytics.demand import (
    ArrivalRates,
    ByMonth,
    Coverage,
    CoverageRow,
    HourOfWeek,
    Repeats,
    arrival_rates,
    by_month,
    coverage,
    hour_of_week,
    open_intervals,
    repeats,
)
from crisisdesk.analytics.simulation import (
    HandleKind,
    HandleTime,
    Patience,
    PatienceKind,
    SimResult,
    Slot,
    draw_inputs,
    run_queue,
    summarise,
)
from crisisdesk.analytics.staffing import QueueMetrics, deadline, erlang_a, erlang_c
from crisisdesk.analytics.store import Store, open_store
from crisisdesk.domain.protocol import WEEKDAYS, CalendarSpec, OpeningHours

_END_OF_DAY = time(23, 59, 59, 999999)  # how the protocol parser stores "24:00"
_BLOCK_RE = re.compile(r"^\s*([a-z,\-]+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


class PlanningError(ValueError):
    """A what-if calendar or planning input that cannot be used; the message says why."""


@dataclass(frozen=True)
class CalendarOption:
    """A named service calendar to evaluate: the current hours or a what-if."""

    name: str
    spec: CalendarSpec

    @property
    def description(self) -> str:
        return describe_hours(self.spec.hours)


# --- what-if calendars ----------------------------------------------------------------------------------


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        ends = part.split("-")
        if not 1 <= len(ends) <= 2 or any(e not in WEEKDAYS for e in ends):
            raise PlanningError(f"{part!r}: days are mon..sun, a range like mon-fri, or a list like sat,sun")
        lo, hi = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        if hi < lo:
            raise PlanningError(f"{part!r}: a day range runs forward within the week (split it: fri,sat,sun)")
        days.update(range(lo, hi + 1))
    return frozenset(days)


def _parse_time(text: str) -> time:
    if text == "24:00":
        return _END_OF_DAY
    try:
        hh, mm = (int(x) for x in text.split(":"))
        return time(hh, mm)
    except ValueError:
        raise PlanningError(f"{text!r} is not a HH:MM time") from None


def parse_hours(spec: str) -> tuple[OpeningHours, ...]:
    """`"mon-fri 12:00-20:30; sat 10:00-18:00"` as opening blocks (see the module docstring)."""
    blocks = []
    for raw in filter(None, (s.strip() for s in spec.lower().split(";"))):
        m = _BLOCK_RE.match(raw)
        if not m:
            raise PlanningError(f"{raw!r}: write a block as DAYS HH:MM-HH:MM, e.g. 'mon-fri 12:00-20:30'")
        opens, closes = _parse_time(m.group(2)), _parse_time(m.group(3))
        if closes <= opens:
            raise PlanningError(f"{raw!r}: closing must be after opening (split overnight blocks at 24:00)")
        blocks.append(OpeningHours(_parse_days(m.group(1)), opens, closes))
    if not blocks:
        raise PlanningError("a calendar needs at least one block of opening hours")
    return tuple(blocks)


def what_if(base: CalendarSpec, text: str) -> CalendarOption:
    """`NAME=SPEC` or `NAME=+SPEC` (add to `base`) as a calendar option."""
    name, sep, spec = text.partition("=")
    if not sep or not name.strip():
        raise PlanningError(f"{text!r}: write a what-if as NAME=HOURS, e.g. 'Add Saturday=+sat 12:00-20:30'")
    spec = spec.strip()
    add = spec.startswith("+")
    hours = parse_hours(spec[1:] if add else spec)
    return CalendarOption(name.strip(), replace(base, hours=(base.hours + hours) if add else hours))


def _hhmm(t: time) -> str:
    return "24:00" if t == _END_OF_DAY else t.strftime("%H:%M")


def describe_hours(hours: Sequence[OpeningHours]) -> str:
    """Blocks written back in the what-if syntax (days collapsed into ranges)."""
    out = []
    for b in hours:
        days = sorted(b.days)
        runs: list[list[int]] = []
        for d in days:
            if runs and d == runs[-1][-1] + 1:
                runs[-1].append(d)
            else:
                runs.append([d])
        text = ",".join(
            WEEKDAYS[r[0]] if len(r) == 1 else f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}" for r in runs
        )
        out.append(f"{text} {_hhmm(b.opens)}-{_hhmm(b.closes)}")
    return "; ".join(out)


def in_zone(spec: CalendarSpec, zone: Zone, center_timezone: str) -> CalendarSpec:
    """The calendar as demand.py reads it: `center` puts its hours on the center's wall clock."""
    return replace(spec, timezone=center_timezone) if zone == "center" else spec


# --- from demand to a year of transfers -------------------------------------------------------------------


def year_slots(
    spec: CalendarSpec, rates: ArrivalRates, first: date, days: int, transfer_share: float = 1.0
) -> list[Slot]:
    """The desk's open time over `days` local dates from `first` (demand.open_intervals: holidays,
    closures, DST as the coverage counts them), cut at local hour boundaries, each piece with the
    transfer rate of its hour of week. Seconds count from the first opening."""
    tz = spec.tz
    intervals = open_intervals(spec, first, first + timedelta(days=days - 1))
    if not intervals:
        return []
    origin = EPOCH + timedelta(microseconds=intervals[0][0])
    slots: list[Slot] = []
    for s_us, e_us in intervals:
        start, end = EPOCH + timedelta(microseconds=s_us), EPOCH + timedelta(microseconds=e_us)
        while start < end:
            local = start.astimezone(tz)
            # Wall-clock arithmetic then back to UTC: the next local hour boundary, DST-correct.
            boundary = (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(UTC)
            cut = min(end, boundary)
            rate = rates.rows[local.weekday() * 24 + local.hour].rate_per_hour * transfer_share
            slots.append(Slot((start - origin).total_seconds(), (cut - origin).total_seconds(), rate))
            start = cut
    return slots


# --- the report ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assumptions:
    """The staffing inputs, all stated in the report. Defaults and why (docs/analytics.md):

    * handle_minutes 20: no program publishes its time per transfer; 988 counsellors report that a
      15-minute cap is too short for a meaningful referral (reference/programs.md), and the social
      worker also writes the case notes, so 20 minutes of phone plus notes is the working guess.
      Exponential (Erlang's assumption); `lognormal` with a CV is closer to real call lengths.
    * patience_seconds = the protocol's transfer_timeout_seconds (MECC: 90): an unclaimed transfer
      times out and the telecommunicator offers the fallback, i.e. a fixed deadline.
    * transfer_share 1.0: every eligible call in the service hours is offered (an upper bound).

    With `handle_samples_minutes` (observed handle times, e.g. claim to completion from the
    operational database) the simulation resamples them and the closed forms use their mean.
    """

    handle_minutes: float = 20.0
    handle_distribution: HandleKind = "exponential"
    handle_cv: float = 1.0
    patience_seconds: float = 90.0
    patience_model: PatienceKind = "deadline"
    transfer_share: float = 1.0
    answer_within_seconds: float = 60.0
    servers: tuple[int, ...] = (1, 2, 3, 4)
    replications: int = 100
    seed: int = 0
    sim_days: int = 365
    handle_samples_minutes: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.handle_samples_minutes:
            if min(self.handle_samples_minutes) <= 0:
                raise PlanningError("observed handle times must be positive")
            mean = sum(self.handle_samples_minutes) / len(self.handle_samples_minutes)
            object.__setattr__(self, "handle_minutes", mean)
            object.__setattr__(self, "handle_distribution", "empirical")

    def handle(self) -> HandleTime:
        samples = tuple(m * 60.0 for m in self.handle_samples_minutes)
        return HandleTime(self.handle_minutes * 60.0, self.handle_distribution, self.handle_cv, samples)

    def patience(self) -> Patience:
        return Patience(self.patience_model, self.patience_seconds)


@dataclass(frozen=True)
class StaffingLevel:
    """One number of social workers on shift, under each model. Rates in the closed forms are the
    calendar's mean over its open hours; the simulation follows the hour-of-week rates."""

    servers: int
    erlang_c: QueueMetrics
    erlang_a: QueueMetrics
    deadline: QueueMetrics
    simulation: SimResult | None


@dataclass(frozen=True)
class CalendarPlan:
    option: CalendarOption
    coverage: CoverageRow
    rates: ArrivalRates  # eligible calls per open hour, by hour of week
    transfers_per_week: float
    open_hours_per_week: float
    mean_rate_per_hour: float  # transfers per open hour
    busiest_hour_of_week: int | None
    busiest_rate_per_hour: float
    levels: tuple[StaffingLevel, ...]


@dataclass(frozen=True)
class PlanningReport:
    center: str
    center_name: str
    timezone: str
    first_date: date | None
    last_date: date | None
    hour_of_week: HourOfWeek
    demand_rates: ArrivalRates  # eligible calls per hour by hour of week, all hours
    by_month: ByMonth
    coverage: Coverage
    calendars: tuple[CalendarPlan, ...]
    repeats: tuple[Repeats, ...]
    assumptions: Assumptions
    notes: tuple[str, ...]

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.hour_of_week.rows)

    @property
    def eligible(self) -> int:
        return sum(r.eligible for r in self.hour_of_week.rows)


def staff_calendar(
    option: CalendarOption,
    cover: CoverageRow,
    rates: ArrivalRates,
    assumptions: Assumptions,
    sim_first: date | None,
) -> CalendarPlan:
    """Closed forms at the calendar's mean transfer rate and a simulated year at its hour-of-week
    rates (one draw of random numbers replayed for every staffing level), for each staffing level."""
    a = assumptions
    open_hours = sum(r.exposure_hours for r in rates.rows)
    calls = sum(r.calls for r in rates.rows)
    mean_rate = a.transfer_share * calls / open_hours if open_hours else 0.0
    weeks = rates.weeks
    observed = [r for r in rates.rows if r.exposure_hours > 0]
    busiest = max(observed, key=lambda r: r.rate_per_hour, default=None)
    lam, handle_s, t = mean_rate / 3600.0, a.handle_minutes * 60.0, a.answer_within_seconds
    sims: list[SimResult | None] = [None] * len(a.servers)
    if a.replications > 0 and sim_first is not None:
        slots = year_slots(option.spec, rates, sim_first, a.sim_days, a.transfer_share)
        inputs = draw_inputs(slots, a.handle(), a.patience(), a.replications, a.seed)
        sims = [summarise(run_queue(inputs, c), inputs, within=(t,)) for c in a.servers]
    levels = tuple(
        StaffingLevel(
            servers=c,
            erlang_c=erlang_c(lam, handle_s, c, within=(t,)),
            erlang_a=erlang_a(lam, handle_s, c, a.patience_seconds, within=(t,)),
            deadline=deadline(lam, handle_s, c, a.patience_seconds, within=(t,)),
            simulation=sim,
        )
        for c, sim in zip(a.servers, sims, strict=True)
    )
    return CalendarPlan(
        option=option,
        coverage=cover,
        rates=rates,
        transfers_per_week=a.transfer_share * calls / weeks if weeks else 0.0,
        open_hours_per_week=open_hours / weeks if weeks else 0.0,
        mean_rate_per_hour=mean_rate,
        busiest_hour_of_week=busiest.hour_of_week if busiest else None,
        busiest_rate_per_hour=(busiest.rate_per_hour * a.transfer_share) if busiest else 0.0,
        levels=levels,
    )


def build_report(
    store: Store | str | Path,
    center: str,
    calendars: Sequence[CalendarOption],
    assumptions: Assumptions = Assumptions(),
    *,
    zone: Zone = "center",
    repeat_days: int = 30,
) -> PlanningReport:
    """The planning report of one center of the store; the first calendar is the baseline."""
    if not calendars:
        raise PlanningError("give at least one calendar (the current service hours)")
    if len({c.name for c in calendars}) != len(calendars):
        raise PlanningError("calendar names must be different")
    st = open_store(store)
    info = st.centers().get(center)
    if info is None:
        raise PlanningError(
            f"the store has no center {center!r} (centers: {', '.join(st.centers()) or 'none'})"
        )
    how = hour_of_week(st, center=center)
    months = by_month(st, center=center)
    cover = coverage(st, {c.name: c.spec for c in calendars}, center=center, zone=zone)
    demand_rates = arrival_rates(st, None, center=center)
    plans = []
    for option in calendars:
        rates = arrival_rates(st, option.spec, center=center, calendar_name=option.name, zone=zone)
        local = in_zone(option.spec, zone, info.timezone)
        plans.append(
            staff_calendar(
                CalendarOption(option.name, local),
                cover.row(option.name),
                rates,
                assumptions,
                rates.first_date,
            )
        )
    reps = (
        repeats(st, repeat_days, key="address", center=center),
        repeats(st, repeat_days, key="caller", center=center),
    )
    notes = tuple(dict.fromkeys((*how.notes, *cover.notes, *demand_rates.notes)))
    return PlanningReport(
        center=center,
        center_name=info.name,
        timezone=info.timezone,
        first_date=demand_rates.first_date,
        last_date=demand_rates.last_date,
        hour_of_week=how,
        demand_rates=demand_rates,
        by_month=months,
        coverage=cover,
        calendars=tuple(plans),
        repeats=reps,
        assumptions=assumptions,
        notes=notes,
    )


# --- plain-text tables ---------------------------------------------------------------------------------------


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ", left: int = 1
) -> list[str]:
    """Text columns: the first `left` left-aligned, numbers right-aligned; widths from the content."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    out = []
    for i, row in enumerate([header, *rows]):
        cells = [
            str(v).ljust(w) if j < left else str(v).rjust(w)
            for j, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append(indent + "  ".join(cells).rstrip())
        if i == 0:
            out.append(indent + "  ".join("-" * w for w in widths))
    return out


def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.1f}%"  # NaN -> "-"


def _secs(x: float) -> str:
    return "-" if x != x else f"{x:.0f}"


def _slot(how: int | None) -> str:
    return "-" if how is None else f"{WEEKDAYS[how // 24].capitalize()} {how % 24:02d}:00"


def staffing_rows(plan: CalendarPlan, within: float) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one calendar's staffing table (shared by the terminal and the HTML)."""
    t = within
    header = [
        "social workers",
        "utilisation (D)",
        "C: wait",
        f"C: <={t:g}s",
        f"A: <={t:g}s",
        "A: fallback",
        f"D: <={t:g}s",
        "D: fallback",
        f"sim: <={t:g}s",
        "sim: fallback",
        "sim: p50/p90/p95 s",
    ]
    rows = []
    for lv in plan.levels:
        sim = lv.simulation
        rows.append(
            [
                str(lv.servers),
                _pct(lv.deadline.utilisation),
                _pct(lv.erlang_c.p_wait) if lv.erlang_c.stable else "overload",
                _pct(lv.erlang_c.answered_within[t]) if lv.erlang_c.stable else "overload",
                _pct(lv.erlang_a.answered_within[t]),
                _pct(lv.erlang_a.p_abandon),
                _pct(lv.deadline.answered_within[t]),
                _pct(lv.deadline.p_abandon),
                f"{_pct(sim.answered_within[t])} ±{100 * sim.ci95.get(f'answered_within_{t:g}', 0.0):.1f}"
                if sim
                else "-",
                _pct(sim.p_abandon) if sim else "-",
                "/".join(_secs(v) for v in sim.wait_percentiles.values()) if sim else "-",
            ]
        )
    return header, rows


def coverage_rows(report: PlanningReport) -> tuple[list[str], list[list[str]]]:
    header = ["calendar", "hours", "open h/week", "eligible calls in hours", "share", "added vs baseline"]
    rows = [
        [
            p.option.name,
            p.option.description,
            f"{p.coverage.open_hours_per_week:.1f}",
            f"{p.coverage.covered:,.0f} of {p.coverage.eligible_calls:,}",
            _pct(p.coverage.share),
            "baseline"
            if i == 0
            else f"{p.coverage.added_calls:+,.0f} ({100 * p.coverage.added_share:+.1f} pts)",
        ]
        for i, p in enumerate(report.calendars)
    ]
    return header, rows


def format_report(report: PlanningReport) -> str:
    """The report as plain text for a terminal (tables of coverage, staffing, repeats)."""
    a = report.assumptions
    weeks = report.demand_rates.weeks
    lines = [
        f"Planning report: {report.center_name or report.center} ({report.center}), "
        f"{report.first_date} .. {report.last_date} ({weeks:.1f} weeks), local time {report.timezone}",
        f"Calls {report.calls:,}; eligible {report.eligible:,} "
        f"(in scope {sum(r.in_scope for r in report.hour_of_week.rows):,}, "
        f"conditional {sum(r.conditional for r in report.hour_of_week.rows):,})"
        + (f" = {report.eligible / report.calls:.1%} of calls" if report.calls else ""),
        "",
        "Eligible calls by month",
    ]
    lines += _table(
        ["month", "calls", "eligible", "in scope", "conditional"],
        [
            [
                f"{m.year}-{m.month:02d}",
                f"{m.calls:,}",
                f"{m.eligible:,}",
                f"{m.in_scope:,}",
                f"{m.conditional:,}",
            ]
            for m in report.by_month.rows
        ],
    )
    rates = [r.rate_per_hour for r in report.demand_rates.rows]
    digits = 0 if max(rates, default=0) >= 10 else 1
    lines += ["", "Eligible calls per hour by hour of week (local time; average over the period)"]
    lines += _table(
        ["", *(f"{h:02d}" for h in range(24))],
        [
            [WEEKDAYS[d].capitalize(), *(f"{rates[d * 24 + h]:.{digits}f}" for h in range(24))]
            for d in range(7)
        ],
    )
    lines += [
        "",
        f"Coverage of eligible calls (hours on the {report.coverage.zone}'s clock; open h/week over the period's dates,"
        " holidays closed; the first calendar is the baseline)",
    ]
    lines += _table(*coverage_rows(report), left=2)
    handle = f"{a.handle_minutes:.3g} min {a.handle_distribution}" + (
        f" (CV {a.handle_cv:g})" if a.handle_distribution == "lognormal" else ""
    )
    if a.handle_samples_minutes:
        handle += f" ({len(a.handle_samples_minutes):,} observed times resampled)"
    lines += [
        "",
        f"Staffing. Assumptions: handle time {handle}; fallback after {a.patience_seconds:g} s unclaimed "
        f"({a.patience_model}); {a.transfer_share:.0%} of eligible calls in hours become transfers.",
        "  C = Erlang C (no fallback), A = Erlang A (exponential patience), D = claim deadline (M/M/c+D): closed",
        "  forms at the calendar's mean rate. sim = simulation of "
        f"{a.sim_days} days x {a.replications} replications at the hour-of-week rates,",
        f"  patience {a.patience_model}; ± is the 95% interval; p50/p90/p95 = seconds to claim of answered transfers.",
    ]
    for plan in report.calendars:
        lines += [
            "",
            f"{plan.option.name} ({plan.option.description}): {plan.transfers_per_week:.1f} transfers/week in "
            f"{plan.open_hours_per_week:.1f} open h/week = {plan.mean_rate_per_hour:.2f}/h "
            f"(busiest {_slot(plan.busiest_hour_of_week)}: {plan.busiest_rate_per_hour:.2f}/h); "
            f"offered load {plan.mean_rate_per_hour * a.handle_minutes / 60:.2f} Erlangs",
        ]
        lines += _table(*staffing_rows(plan, a.answer_within_seconds))
    lines += ["", "Repeats within the same center"]
    for rep in report.repeats:
        what = "locations (address key)" if rep.key == "address" else "callers (caller key)"
        if rep.calls == 0:
            lines.append(
                f"  repeat {what}: not measurable here ({rep.calls_without_key:,} eligible calls without a key)"
            )
            continue
        lines.append(
            f"  repeat {what} within {rep.days} days: {rep.repeat_calls:,} of {rep.calls:,} eligible calls "
            f"({rep.repeat_share:.1%}) followed an eligible call with the same key; {rep.repeat_keys:,} of "
            f"{rep.distinct_keys:,} keys repeat"
        )
        lines.append(
            "    calls per key: "
            + ", ".join(f"{b.calls_per_key}: {b.keys:,} keys" for b in rep.buckets if b.keys)
        )
    if report.notes:
        lines += ["", "Notes", *(f"  - {n}" for n in report.notes)]
    return "\n".join(lines) + "\n"
