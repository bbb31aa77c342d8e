"""The evaluation as it may be published: every count through one suppression (analytics.disclosure).

`publish(ev)` puts every count a page, report, chart or CSV prints into one `CellSystem`, with the
relations a reader can use between them: the funnel's nesting (calls = screened + not screened, ...),
the breakdowns of the calls answered (language, neighbourhood, neighbourhood x period, resolved or
not), escalations by responder, the comparison group by reason, dispositions, follow-ups, referrals
and the repeat-call windows. Shared totals are one cell, so a count withheld in one table is
withheld wherever it appears. Percentages and medians built on a withheld count are withheld too.

`today_published(agg)` does the same for today's numbers (calls.queries.today_aggregates).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crisisdesk.analytics.disclosure import (
    SMALL_CELL_MAX,
    SUPPRESSED,
    CellSystem,
    Key,
    Suppression,
    share_shown,
    stat_shown,
    suppress,
)
from crisisdesk.analytics.evaluation import Evaluation
from crisisdesk.analytics.safe_harbor import check_columns, policy

CSV_HEADER = (
    "table",
    "unit",
    "dimension_1",
    "category_1",
    "dimension_2",
    "category_2",
    "value",
    "suppressed",
)
FUNNEL = ("calls", "screened", "in_scope", "transferred", "answered")
OUTCOMES = ("transfer", "dispatch", "fallback", "not_eligible")


@dataclass(frozen=True)
class Table:
    """A published table: its dimensions and, per category tuple, the key of its cell."""

    name: str
    unit: str
    dims: tuple[str, ...]
    cells: tuple[tuple[tuple[str, ...], Key], ...]


@dataclass(frozen=True)
class Published:
    """Suppressed counts and the statistics that may be shown with them."""

    suppression: Suppression
    tables: tuple[Table, ...]
    stats: Mapping[str, str]  # median and p90 times, shown or "*"
    shares: Mapping[Key, str]  # percentages keyed by their numerator's cell

    def shown(self, key: Key) -> str:
        return self.suppression.shown(key)

    def value(self, key: Key) -> int | None:
        return self.suppression.value(key)

    def breakdown(self, table: str) -> dict[str, str]:
        """category -> shown, for a one-way table (charts and pages)."""
        t = next(t for t in self.tables if t.name == table)
        return {cats[0]: self.shown(key) for cats, key in t.cells}

    def csv_rows(self) -> Iterator[list[str]]:
        """The aggregate export: one row per published number, withheld ones with no value."""
        for t in self.tables:
            for cats, key in t.cells:
                value = self.value(key)
                dims = [*t.dims, "", ""][:2]
                values = [*cats, "", ""][:2]
                yield [
                    t.name, t.unit, dims[0], values[0], dims[1], values[1],
                    "" if value is None else str(value), "1" if value is None else "0",
                ]  # fmt: skip
        for name, shown in self.stats.items():
            withheld = shown == SUPPRESSED
            text = "" if withheld or shown == "no data" else shown.removesuffix(" s")
            yield ["times", "seconds", "measure", name, "", "", text, "1" if withheld else "0"]
        for share_key, shown in self.shares.items():
            withheld = shown == SUPPRESSED
            text = "" if withheld else shown.removesuffix("%")
            yield ["repeat_share", "percent", "group", share_key[1], "window_days", share_key[2], text,
                   "1" if withheld else "0"]  # fmt: skip

    def check(self) -> None:
        """The Safe Harbor column check for the aggregate export (raises ExportRefused)."""
        dims = {d for t in self.tables for d in t.dims}
        check_columns([*CSV_HEADER, *sorted(dims)], "aggregate")


class _Builder:
    def __init__(self) -> None:
        self.system = CellSystem()
        self.tables: list[Table] = []

    def table(
        self, name: str, unit: str, dims: Sequence[str], cells: Sequence[tuple[tuple[str, ...], Key]]
    ) -> None:
        self.tables.append(Table(name, unit, tuple(dims), tuple(cells)))


def publish(ev: Evaluation, small_max: int | None = None) -> Published:
    small = small_max if small_max is not None else policy().small_cell_max
    b = _Builder()
    s = b.system
    f = ev.funnel
    for step in FUNNEL:
        s.add(("funnel", step), f[step])
    # A reader can subtract any two nested counts, so the difference is a published cell too.
    s.add(("funnel", "not_screened"), f["calls"] - f["screened"])
    s.relate(("funnel", "calls"), [("funnel", "screened"), ("funnel", "not_screened")])
    s.add(("funnel", "not_in_scope"), f["calls"] - f["in_scope"])
    s.relate(("funnel", "calls"), [("funnel", "in_scope"), ("funnel", "not_in_scope")])
    s.add(("funnel", "transferred_not_answered"), f["transferred"] - f["answered"])
    s.relate(("funnel", "transferred"), [("funnel", "answered"), ("funnel", "transferred_not_answered")])
    s.add(("funnel", "timed_out_or_declined"), f["timed_out_or_declined"])
    outcomes = {o: ev.by_outcome.get(o, 0) for o in OUTCOMES} | dict(ev.by_outcome)
    s.one_way("outcome", outcomes, total=("funnel", "screened"))
    b.table(
        "funnel",
        "calls",
        ["measure"],
        [((k,), ("funnel", k)) for k in (*FUNNEL, "not_screened", "not_in_scope", "transferred_not_answered",
                                          "timed_out_or_declined")],
    )  # fmt: skip
    b.table("calls_by_outcome", "calls", ["outcome"], [((o,), ("outcome", o)) for o in outcomes])

    answered = ("funnel", "answered")
    s.one_way("language", ev.by_language, total=answered)
    b.table("answered_by_language", "calls", ["language"], [((k,), ("language", k)) for k in ev.by_language])
    places = list(ev.by_neighbourhood)
    per = list(ev.periods)
    s.two_way(
        "place_period",
        ev.answered_by_neighbourhood_period,
        places,
        per,
        row_totals={p: ("neighbourhood", p) for p in places},
        col_totals={p: ("answered_by_period", p) for p in per},
        grand=answered,
    )
    b.table(
        "answered_by_neighbourhood",
        "calls",
        ["neighbourhood"],
        [((p,), ("neighbourhood", p)) for p in places],
    )
    b.table("answered_by_period", "calls", ["period"], [((p,), ("answered_by_period", p)) for p in per])
    b.table(
        "answered_by_neighbourhood_and_period",
        "calls",
        ["neighbourhood", "period"],
        [((n, p), ("place_period", n, p)) for n in places for p in per],
    )
    s.one_way("calls_by_period", ev.calls_by_period, total=("funnel", "calls"))
    b.table(
        "calls_by_period", "calls", ["period"], [((p,), ("calls_by_period", p)) for p in ev.calls_by_period]
    )

    o = ev.outcomes
    resolved = o["resolved_without_police_or_ems"]
    s.add(("outcomes", "resolved_without_police_or_ems"), resolved)
    s.add(("outcomes", "not_resolved_without_police_or_ems"), f["answered"] - resolved)
    s.relate(
        answered,
        [("outcomes", "resolved_without_police_or_ems"), ("outcomes", "not_resolved_without_police_or_ems")],
    )
    responders = {k.removeprefix("escalations_"): v for k, v in o.items() if k.startswith("escalations_")}
    s.one_way("escalations_by_responder", responders, total=("outcomes", "escalations"))
    b.table(
        "outcomes",
        "calls",
        ["measure"],
        [((k,), ("outcomes", k)) for k in ("resolved_without_police_or_ems", "not_resolved_without_police_or_ems",
                                            "escalations")],
    )  # fmt: skip
    b.table("escalations_by_responder", "escalations", ["responder"],
            [((k,), ("escalations_by_responder", k)) for k in responders])  # fmt: skip

    s.add(("comparison", "calls"), ev.comparison.calls)
    s.one_way("comparison_by_reason", ev.comparison_by_reason, total=("comparison", "calls"))
    b.table("comparison_group", "calls", ["comparison_reason"],
            [(("all",), ("comparison", "calls"))]
            + [((k,), ("comparison_by_reason", k)) for k in ev.comparison_by_reason])  # fmt: skip
    s.one_way("disposition", ev.dispositions)
    b.table("cases_by_disposition", "cases", ["disposition"],
            [(("all",), ("disposition", "total"))] + [((k,), ("disposition", k)) for k in ev.dispositions])  # fmt: skip

    fu = ev.follow_ups
    s.add(("follow_ups", "planned"), fu["planned"])
    s.add(("follow_ups", "done"), fu["done"])
    s.add(("follow_ups", "pending"), fu["planned"] - fu["done"])
    s.relate(("follow_ups", "planned"), [("follow_ups", "done"), ("follow_ups", "pending")])
    s.add(("follow_ups", "reached"), fu["reached"])
    s.add(("follow_ups", "not_reached"), fu["done"] - fu["reached"])
    s.relate(("follow_ups", "done"), [("follow_ups", "reached"), ("follow_ups", "not_reached")])
    b.table("follow_ups", "follow-ups", ["measure"],
            [((k,), ("follow_ups", k)) for k in ("planned", "done", "pending", "reached", "not_reached")])  # fmt: skip
    r = ev.referrals
    s.add(("referrals", "made"), r["made"])
    s.add(("referrals", "completed"), r["completed"])
    s.add(("referrals", "failed"), r["failed"])
    s.add(("referrals", "other"), r["made"] - r["completed"] - r["failed"])
    s.relate(
        ("referrals", "made"), [("referrals", "completed"), ("referrals", "failed"), ("referrals", "other")]
    )
    b.table("referrals", "referrals", ["measure"],
            [((k,), ("referrals", k)) for k in ("made", "completed", "failed", "other")])  # fmt: skip

    measures = ("eligible", "with_repeat", "without_repeat")
    repeat_cells: dict[str, list[tuple[tuple[str, ...], Key]]] = {m: [] for m in measures}
    for key, group in (("program", ev.program), ("comparison", ev.comparison)):
        for rr in group.repeats:
            d = str(rr.days)
            s.add(("repeat", key, d, "eligible"), rr.eligible)
            s.add(("repeat", key, d, "with_repeat"), rr.with_repeat)
            s.add(("repeat", key, d, "without_repeat"), rr.eligible - rr.with_repeat)
            s.relate(
                ("repeat", key, d, "eligible"),
                [("repeat", key, d, "with_repeat"), ("repeat", key, d, "without_repeat")],
            )
            for m in measures:
                repeat_cells[m].append(((key, d), ("repeat", key, d, m)))
    for m in measures:
        b.table(f"repeat_calls_{m}", "calls", ["group", "window_days"], repeat_cells[m])

    sup = suppress(s, small)
    shares: dict[Key, str] = {}
    for key, group in (("program", ev.program), ("comparison", ev.comparison)):
        for rr in group.repeats:
            d = str(rr.days)
            part, whole = (
                sup.value(("repeat", key, d, "with_repeat")),
                sup.value(("repeat", key, d, "eligible")),
            )
            shares[("repeat", key, d)] = share_shown(part, whole) if rr.eligible else ""
    stats = {
        "median_seconds_to_answer": stat_shown(ev.seconds_to_answer["median"], ev.answer_times, small),
        "p90_seconds_to_answer": stat_shown(ev.seconds_to_answer["p90"], ev.answer_times, small),
        "median_seconds_to_acknowledge": stat_shown(ev.seconds_to_acknowledge["median"], ev.acknowledge_times, small),
        "p90_seconds_to_acknowledge": stat_shown(ev.seconds_to_acknowledge["p90"], ev.acknowledge_times, small),
    }  # fmt: skip
    return Published(sup, tuple(b.tables), stats, shares)


CLAIMED_STATUSES = ("claimed", "escalated", "completed")  # a transfer in these was claimed


def today_published(agg: Mapping[str, Any], small_max: int | None = None) -> Published:
    """Today's numbers (calls.queries.today_aggregates) through the same suppression."""
    small = small_max if small_max is not None else policy().small_cell_max
    s = CellSystem()
    tables = []
    s.one_way(
        "outcome", {o: agg["decisions_by_outcome"].get(o, 0) for o in OUTCOMES}, total=("decisions", "total")
    )
    tables.append(Table("decisions_by_outcome", "decisions", ("outcome",),
                        tuple(((o,), ("outcome", o)) for o in OUTCOMES)))  # fmt: skip
    s.one_way("status", dict(agg["transfers_by_status"]), total=("transfers", "total"))
    tables.append(Table("transfers_by_status", "transfers", ("transfer_status",),
                        tuple(((k,), ("status", k)) for k in agg["transfers_by_status"])))  # fmt: skip
    # A decision can give several reasons, so reasons are not a breakdown of the decisions: each is a
    # count on its own (primary suppression; they add up to no published total).
    for code, n in agg["reasons"].items():
        s.add(("reason", code), n)
    tables.append(
        Table("reasons", "decisions", ("reason",), tuple(((k,), ("reason", k)) for k in agg["reasons"]))
    )
    s.one_way("fallback", dict(agg["fallbacks_by_option"]))
    tables.append(Table("fallbacks_by_option", "fallbacks", ("fallback_option",),
                        tuple(((k,), ("fallback", k)) for k in agg["fallbacks_by_option"])))  # fmt: skip
    s.one_way("escalation", dict(agg["escalations_by_responder"]))
    tables.append(Table("escalations_by_responder", "escalations", ("responder",),
                        tuple(((k,), ("escalation", k)) for k in agg["escalations_by_responder"])))  # fmt: skip
    sup = suppress(s, small)
    claimed = sum(agg["transfers_by_status"].get(k, 0) for k in CLAIMED_STATUSES)
    stats = {"median_seconds_to_claim": stat_shown(agg["median_seconds_to_claim"], claimed, small)}
    return Published(sup, tuple(tables), stats, {})


__all__ = ["CSV_HEADER", "SMALL_CELL_MAX", "Published", "Table", "publish", "today_published"]
