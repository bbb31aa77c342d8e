"""Program evaluation: the pilot's measures from de-identified call rows, with a comparison group.

Input: rows as built by `crisisdesk.evaluation.dataset.evaluation_rows` (one per call; no names,
numbers or narratives) plus the later calls of the same caller keys. Output: an `Evaluation` with
the measures the City and County asked for, a comparison group, breakdowns with small cells
suppressed, and the caveats that must be printed beside the numbers.

Definitions (kept here, in one place, so the dashboard, the monthly report and any re-analysis agree):
- in scope: the call type's scope in the protocol is `in_scope`;
- program group: calls the social worker answered (a transfer was claimed);
- comparison group: in-scope calls screened clear of every safety exclusion that could not be
  transferred for capacity or hours: decision reasons outside_service_hours, holiday,
  social_worker_unavailable, or a transfer that timed out or was declined;
- resolved without police or EMS: an answered call that was not escalated and whose case did not
  close with police, EMS or fire requested;
- referrals: made = sent to an agency (drafts never sent do not count), from any case of the call;
  completed = the agency or the person reported the service delivered; failed = it did not lead to
  the service (rejected and withdrawn referrals are neither);
- repeat 911 call within N days: another call from the same caller key within N days after the index
  call. Only index calls whose N-day window has fully passed at `as_of` count (no censoring bias),
  and calls without a usable caller number are left out of that measure (and counted).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from crisisdesk.analytics.safe_harbor import coarsen, periods

EVALUATION_VERSION = "evaluation/1"
WINDOWS = (30, 90, 180)
SMALL_CELL_MAX = 10  # cells of 1..10 are withheld (analytics.disclosure; DESIGN.md baseline)
CHICAGO = ZoneInfo("America/Chicago")
CAPACITY_REASONS = frozenset({"outside_service_hours", "holiday", "social_worker_unavailable"})
RESPONDER_DISPOSITIONS = frozenset({"police_requested", "ems_requested", "fire_requested"})

CAVEATS = (
    "The comparison group is not randomised. Calls outside the service hours differ from calls inside "
    "them (time of day, day of week, who calls), so differences are associations, not effects.",
    "Repeat calls are counted by the caller's phone number (a keyed hash): people who call from another "
    "number are missed, and people who share a phone are counted together.",
    "A repeat-call window counts only when it has fully passed; recent months have fewer calls in the "
    "longer windows.",
    "Counts of 1 to 10 are withheld (shown as '*'), and so are the counts that would let one be "
    "worked out from the totals, so that no person can be recognised in a breakdown.",
)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class RepeatRate:
    days: int
    eligible: int  # index calls whose window has passed and that have a caller key
    with_repeat: int

    @property
    def rate(self) -> float | None:
        return share(self.with_repeat, self.eligible)


@dataclass(frozen=True)
class Group:
    name: str
    calls: int
    repeats: tuple[RepeatRate, ...]
    no_caller_key: int


@dataclass(frozen=True)
class Evaluation:
    start: datetime
    end: datetime
    as_of: datetime
    version: str
    funnel: dict[str, int]  # calls, screened, in scope, transferred, answered, ...
    seconds_to_answer: dict[str, float | None]  # median, p90
    outcomes: dict[str, int]  # resolved without police/EMS, escalations by responder, ...
    seconds_to_acknowledge: dict[str, float | None]
    follow_ups: dict[str, int]
    referrals: dict[str, int]  # made (sent to the agency), completed, failed
    dispositions: dict[str, int]
    program: Group
    comparison: Group
    by_language: dict[str, int]  # answered calls; raw: publish through evaluation_published
    by_neighbourhood: dict[str, int]
    comparison_by_reason: dict[str, int]
    by_outcome: dict[str, int] = field(default_factory=dict)  # screened calls by decision outcome
    grain: str = "month"  # the date grain of the period breakdowns (CRISISDESK_EXPORT_DATE_GRAIN)
    periods: tuple[str, ...] = ()
    calls_by_period: dict[str, int] = field(default_factory=dict)
    answered_by_neighbourhood_period: dict[tuple[str, str], int] = field(default_factory=dict)
    answer_times: int = 0  # how many values the time-to-answer statistics summarise
    acknowledge_times: int = 0
    caveats: tuple[str, ...] = CAVEATS
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """The raw measures (unsuppressed): for analysis code, never for a page or an export."""
        out = asdict(self)
        out["answered_by_neighbourhood_period"] = {
            f"{n}|{p}": v for (n, p), v in self.answered_by_neighbourhood_period.items()
        }
        for g in ("program", "comparison"):
            for r, rr in zip(out[g]["repeats"], getattr(self, g).repeats, strict=True):
                r["rate"] = rr.rate
        return out


def _percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(1, -(-len(ordered) * p // 100))  # ceil
    return float(ordered[int(k) - 1])


def in_program(row: Mapping[str, Any]) -> bool:
    return bool(row["answered"])


def in_comparison(row: Mapping[str, Any]) -> bool:
    if row["scope"] != "in_scope" or row["answered"]:
        return False
    capacity = bool(CAPACITY_REASONS & set(row["reasons"]))
    unclaimed = row["transfer_status"] in ("timed_out", "declined")
    return capacity or unclaimed


def comparison_reason(row: Mapping[str, Any]) -> str:
    if row["transfer_status"] in ("timed_out", "declined"):
        return f"transfer {row['transfer_status'].replace('_', ' ')}"
    for code in ("holiday", "outside_service_hours", "social_worker_unavailable"):
        if code in row["reasons"]:
            return code.replace("_", " ")
    return "other"


def _repeat_group(
    name: str,
    rows: Sequence[Mapping[str, Any]],
    later: Mapping[str, Sequence[datetime]],
    as_of: datetime,
    windows: Sequence[int],
) -> Group:
    keyed = [r for r in rows if r["caller_key"]]
    repeats = []
    for days in windows:
        span = timedelta(days=days)
        eligible = [r for r in keyed if r["received_at"] + span <= as_of]
        hit = 0
        for r in eligible:
            times = later.get(r["caller_key"], ())
            lo = bisect_right(times, r["received_at"])  # strictly after the index call
            hi = bisect_right(times, r["received_at"] + span)
            hit += hi > lo
        repeats.append(RepeatRate(days, len(eligible), hit))
    return Group(name, len(rows), tuple(repeats), len(rows) - len(keyed))


def evaluate(
    rows: Iterable[Mapping[str, Any]],
    later_calls: Iterable[tuple[str, datetime]],
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    windows: Sequence[int] = WINDOWS,
    grain: str = "month",
    tz: ZoneInfo = CHICAGO,
) -> Evaluation:
    """The program's measures for the calls in `rows` (received in [start, end)).

    `later_calls`: (caller key, received time) of calls from the same keys, up to `as_of`, used to
    count repeats. `grain`: the local period (year, quarter, month, week) of the time breakdowns.
    Deterministic; no I/O. The counts are raw: `evaluation_published.publish` withholds small ones.
    """
    data = list(rows)
    later: dict[str, list[datetime]] = defaultdict(list)
    for key, at in later_calls:
        if key:
            later[key].append(at)
    for times in later.values():
        times.sort()

    answered = [r for r in data if r["answered"]]
    waits = [float(r["seconds_to_answer"]) for r in answered if r["seconds_to_answer"] is not None]
    acks = [float(r["seconds_to_acknowledge"]) for r in data if r["seconds_to_acknowledge"] is not None]
    resolved = [r for r in answered if not r["escalated"] and r["disposition"] not in RESPONDER_DISPOSITIONS]
    funnel = {
        "calls": len(data),
        "screened": sum(r["screened"] for r in data),
        "in_scope": sum(r["scope"] == "in_scope" for r in data),
        "decided_transfer": sum(r["outcome"] == "transfer" for r in data),
        "transferred": sum(r["transferred"] for r in data),
        "answered": len(answered),
        "timed_out_or_declined": sum(r["transfer_status"] in ("timed_out", "declined") for r in data),
        "fallback": sum(r["outcome"] == "fallback" for r in data),
        "kept_with_police_fire_ems": sum(r["outcome"] == "dispatch" for r in data),
    }
    responders = Counter(r["escalation_responder"] for r in data if r["escalated"])
    outcomes = {
        "resolved_without_police_or_ems": len(resolved),
        "escalations": sum(responders.values()),
        **{f"escalations_{k}": v for k, v in sorted(responders.items())},
        "cases_closed": sum(r["case_status"] == "closed" for r in data),
        "cases_open": sum(r["case_status"] in ("open", "escalated") for r in data),
        "interpreter_used": sum(r["interpreter_used"] for r in data),
    }
    follow = {
        "planned": sum(r["follow_ups"] for r in data),
        "done": sum(r["follow_ups_done"] for r in data),
        "reached": sum(r["follow_ups_reached"] for r in data),
    }
    comparison_rows = [r for r in data if in_comparison(r)]
    program = _repeat_group("answered by the social worker", answered, later, as_of, windows)
    comparison = _repeat_group(
        "in scope, not transferred (hours or capacity)", comparison_rows, later, as_of, windows
    )
    languages = Counter((r["language"] or "not recorded") for r in answered)
    places = Counter((r["neighbourhood"] or "not recorded") for r in answered)
    labels = periods(start, end, grain, tz) if end > start else []
    by_period = Counter(coarsen(r["received_at"], grain, tz) for r in data)
    place_period = Counter(
        ((r["neighbourhood"] or "not recorded"), coarsen(r["received_at"], grain, tz)) for r in answered
    )
    labels += sorted(set(by_period) - set(labels))  # a row outside [start, end) still adds up
    return Evaluation(
        start=start,
        end=end,
        as_of=as_of,
        version=EVALUATION_VERSION,
        funnel=funnel,
        seconds_to_answer={"median": median(waits) if waits else None, "p90": _percentile(waits, 90)},
        outcomes=outcomes,
        seconds_to_acknowledge={"median": median(acks) if acks else None, "p90": _percentile(acks, 90)},
        follow_ups=follow,
        referrals={
            "made": sum(r["referrals"] for r in data),
            "completed": sum(r["referrals_completed"] for r in data),
            "failed": sum(r["referrals_failed"] for r in data),
        },
        dispositions=dict(sorted(Counter(r["disposition"] for r in data if r["disposition"]).items())),
        program=program,
        comparison=comparison,
        by_language=dict(sorted(languages.items())),
        by_neighbourhood=dict(sorted(places.items())),
        comparison_by_reason=dict(sorted(Counter(comparison_reason(r) for r in comparison_rows).items())),
        by_outcome=dict(sorted(Counter(r["outcome"] for r in data if r["screened"]).items())),
        grain=grain,
        periods=tuple(labels),
        calls_by_period={p: by_period.get(p, 0) for p in labels},
        answered_by_neighbourhood_period=dict(sorted(place_period.items())),
        answer_times=len(waits),
        acknowledge_times=len(acks),
    )


def month_bounds(year: int, month: int, tz: Any) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of a local calendar month."""
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


__all__ = [
    "CAVEATS",
    "Evaluation",
    "evaluate",
    "in_comparison",
    "in_program",
    "month_bounds",
]
