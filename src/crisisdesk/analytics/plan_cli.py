"""`crisisdesk plan`: the planning report of one center, as tables on the terminal and an HTML page.

    crisisdesk plan [FILES...] --profile PROFILE [--store DIR] [--center ID] [--call-map MAP]
                    [--calendar PROTOCOL.yaml] [--calendar-name NAME] [--zone center|calendar]
                    [--what-if "NAME=[+]DAYS HH:MM-HH:MM[; ...]"]... [--what-if-file YAML]
                    [--servers 1-4] [--handle-minutes 20] [--handle-distribution exponential|lognormal]
                    [--handle-cv 1] [--handle-samples FILE] [--patience-seconds S] [--patience-model deadline|exponential|none]
                    [--transfer-share 1] [--answer-within 60] [--replications 100] [--seed 0]
                    [--sim-days 365] [--repeat-days 30] [--out DIR] [--plotlyjs inline|beside] [--no-html]

With FILES the CAD export is imported first: into --store when given (the linkage key comes from
CRISISDESK_LINKAGE_KEY, as for `crisisdesk cad import`), otherwise into a temporary store with a
one-off random linkage key (repeats still link within the run; nothing is kept). Without FILES the
report reads --store (default $CRISISDESK_DATA_DIR/analytics).

The current service hours come from the protocol file (--calendar, default the shipped MECC protocol),
and so does the default patience: the protocol's transfer_timeout_seconds. With --zone center (the
default) the hours are read on each center's own clock (MECC's 12:00-20:30 applied to San Diego means
12:00-20:30 in San Diego).

Output: the report on standard output; <out>/plan.html (charts and tables, works offline) and
<out>/plan.json (every number of the report). Default out: $CRISISDESK_DATA_DIR/plans/<center>.
Exit codes: 0 done; 2 bad input (profile, store, calendar, what-if, options) or a failed import.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import math
import secrets
import sys
import tempfile
from collections.abc import Sequence
from datetime import date, time
from pathlib import Path
from typing import Any

import yaml

from crisisdesk.analytics import charts
from crisisdesk.analytics.demand import DemandError
from crisisdesk.analytics.planning import (
    Assumptions,
    CalendarOption,
    PlanningError,
    PlanningReport,
    build_report,
    coverage_rows,
    format_report,
    staffing_rows,
    what_if,
)
from crisisdesk.analytics.store import StoreError, default_store_dir
from crisisdesk.domain.protocol import CalendarSpec, ProtocolError

FAILED = 2


def _servers(text: str) -> tuple[int, ...]:
    """`1-4` or `1,2,5`."""
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            out += range(int(lo), int(hi or lo) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write staffing levels as 1-4 or 1,2,5") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError("staffing levels are whole numbers from 1")
    return tuple(sorted(set(out)))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="crisisdesk plan",
        description="Coverage and staffing of the social worker's desk from CAD history.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="*", type=Path, help="CAD export files to import first (optional)")
    p.add_argument(
        "--profile", default=None, help="import profile (san_diego, milwaukee, toronto, generic or a path)"
    )
    p.add_argument(
        "--store", type=Path, default=None, help=f"analytics store (default {default_store_dir()})"
    )
    p.add_argument("--center", default=None, help="center id in the store (default: the profile's)")
    p.add_argument("--call-map", default=None, help="call-type map for the import (default: the profile's)")
    p.add_argument(
        "--calendar", type=Path, default=None, help="protocol YAML whose service hours are the baseline"
    )
    p.add_argument("--calendar-name", default="Current hours", help="name of the baseline calendar")
    p.add_argument(
        "--zone", choices=("center", "calendar"), default="center", help="whose clock the hours are on"
    )
    p.add_argument("--what-if", action="append", default=[], metavar="NAME=SPEC", help="a what-if calendar")
    p.add_argument(
        "--what-if-file", type=Path, default=None, help="YAML list of NAME=SPEC strings or {name, hours}"
    )
    p.add_argument("--servers", type=_servers, default=(1, 2, 3, 4), help="staffing levels (default 1-4)")
    p.add_argument(
        "--handle-minutes", type=float, default=20.0, help="mean handle time per transfer (default 20)"
    )
    p.add_argument(
        "--handle-distribution", choices=("exponential", "lognormal", "fixed"), default="exponential"
    )
    p.add_argument("--handle-cv", type=float, default=1.0, help="coefficient of variation (lognormal)")
    p.add_argument(
        "--handle-samples",
        type=Path,
        default=None,
        help="observed handle times in minutes, one per line: resampled by the simulation",
    )
    p.add_argument(
        "--patience-seconds", type=float, default=None, help="default: the protocol's transfer timeout"
    )
    p.add_argument("--patience-model", choices=("deadline", "exponential", "none"), default="deadline")
    p.add_argument("--transfer-share", type=float, default=1.0, help="share of eligible calls transferred")
    p.add_argument("--answer-within", type=float, default=60.0, help="service-level threshold, seconds")
    p.add_argument(
        "--replications", type=int, default=100, help="simulated years per calendar (0: no simulation)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sim-days", type=int, default=365, help="days simulated per replication")
    p.add_argument("--repeat-days", type=int, default=30)
    p.add_argument("--out", type=Path, default=None, help="folder for plan.html and plan.json")
    p.add_argument(
        "--plotlyjs", choices=("inline", "beside"), default="inline", help="plotly.js in or beside the page"
    )
    p.add_argument("--no-html", action="store_true", help="print only (no plan.html / plan.json)")
    return p


def _calendars(args: argparse.Namespace) -> tuple[list[CalendarOption], int]:
    from crisisdesk.protocols import DEFAULT_PROTOCOL, load_protocol

    protocol = load_protocol(args.calendar or DEFAULT_PROTOCOL)
    base: CalendarSpec = protocol.calendar
    options = [CalendarOption(args.calendar_name, base)]
    texts = list(args.what_if)
    if args.what_if_file:
        doc = yaml.safe_load(args.what_if_file.read_text(encoding="utf-8"))
        if not isinstance(doc, list):
            raise PlanningError(f"{args.what_if_file}: expected a list of what-if calendars")
        for item in doc:
            if isinstance(item, dict) and {"name", "hours"} <= item.keys():
                texts.append(f"{item['name']}={item['hours']}")
            elif isinstance(item, str):
                texts.append(item)
            else:
                raise PlanningError(f"{args.what_if_file}: {item!r}: use 'NAME=HOURS' or {{name, hours}}")
    options += [what_if(base, t) for t in texts]
    return options, protocol.transfer_timeout_seconds


def _assumptions(args: argparse.Namespace, timeout: int) -> Assumptions:
    for name, value, ok in (
        ("--handle-minutes", args.handle_minutes, args.handle_minutes > 0),
        ("--handle-cv", args.handle_cv, args.handle_cv > 0),
        ("--transfer-share", args.transfer_share, 0 <= args.transfer_share <= 1),
        ("--answer-within", args.answer_within, args.answer_within >= 0),
        ("--replications", args.replications, args.replications >= 0),
        ("--sim-days", args.sim_days, 1 <= args.sim_days <= 3660),
        ("--repeat-days", args.repeat_days, args.repeat_days >= 1),
    ):
        if not ok:
            raise PlanningError(f"{name} {value}: out of range")
    patience = float(args.patience_seconds if args.patience_seconds is not None else timeout)
    if args.patience_model == "none":
        patience = math.inf
    elif not patience > 0:
        raise PlanningError("--patience-seconds must be positive")
    samples: tuple[float, ...] = ()
    if args.handle_samples:
        try:
            lines = args.handle_samples.read_text(encoding="utf-8").split()
            samples = tuple(float(x) for x in lines)
        except ValueError as exc:
            raise PlanningError(f"{args.handle_samples}: one number of minutes per line ({exc})") from None
        if not samples:
            raise PlanningError(f"{args.handle_samples}: no handle times")
    return Assumptions(
        handle_samples_minutes=samples,
        handle_minutes=args.handle_minutes,
        handle_distribution=args.handle_distribution,
        handle_cv=args.handle_cv,
        patience_seconds=patience,
        patience_model=args.patience_model,
        transfer_share=args.transfer_share,
        answer_within_seconds=args.answer_within,
        servers=args.servers,
        replications=args.replications,
        seed=args.seed,
        sim_days=args.sim_days,
    )


def _import(args: argparse.Namespace, store: Path, linkage_key: bytes | None) -> str:
    """Import FILES into `store`; returns the center id. Raises on a failed import."""
    from crisisdesk.analytics.importer import import_files, reason_summary

    report = import_files(args.files, args.profile, store, call_map=args.call_map, linkage_key=linkage_key)
    target = "a temporary store" if linkage_key is not None else str(store)
    line = f"imported {report.rows_stored:,} of {report.rows_read:,} rows into {target} ({report.callmap or 'no call map'})"
    if report.rows_rejected:
        where = (
            report.rejects_path
            if linkage_key is None
            else "see crisisdesk cad import to keep the rejects file"
        )
        line += f"; {report.rows_rejected:,} rejected ({reason_summary(report.rejected_by_reason)}; {where})"
    print(line, file=sys.stderr)
    return report.center


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    from crisisdesk.analytics.callmap import CallMapError
    from crisisdesk.analytics.importer import CadImportError
    from crisisdesk.analytics.keys import LinkageKeyError
    from crisisdesk.analytics.profiles import ProfileError, load_profile

    expected = (
        PlanningError,
        ProtocolError,
        ProfileError,
        StoreError,
        DemandError,
        CadImportError,
        CallMapError,
        LinkageKeyError,
        OSError,
        yaml.YAMLError,
    )
    with tempfile.TemporaryDirectory(prefix="crisisdesk-plan-") as tmp:
        try:
            calendars, timeout = _calendars(args)
            assumptions = _assumptions(args, timeout)
            if args.files and not args.profile:
                raise PlanningError("importing FILES needs --profile")
            center = args.center or (load_profile(args.profile).center if args.profile else None)
            store: Path = args.store or default_store_dir()
            if args.files:
                key = None
                if args.store is None:
                    store, key = Path(tmp) / "analytics", secrets.token_hex(32).encode()
                center = _import(args, store, key)
            if center is None:
                raise PlanningError("say which center: --center ID or --profile PROFILE")
            report = build_report(
                store, center, calendars, assumptions, zone=args.zone, repeat_days=args.repeat_days
            )
        except expected as exc:
            print(f"crisisdesk plan: {exc}", file=sys.stderr)
            return FAILED
    text = format_report(report)
    if not args.no_html:
        # Files first: a reader that stops early (| head) must not cost the charts.
        out = args.out or default_store_dir().parent / "plans" / report.center
        try:
            page = write_outputs(report, out, plotlyjs=args.plotlyjs)
        except OSError as exc:
            print(f"crisisdesk plan: cannot write to {out}: {exc}", file=sys.stderr)
            return FAILED
        text += f"\nwrote {page} and {out / 'plan.json'}\n"
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stderr.close()  # the reader left; nothing more to say
    return 0


# --- outputs ---------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """Dataclasses to JSON: dict keys as strings, dates ISO, NaN and infinity as null; a calendar
    as its name, hours (what-if syntax) and zone."""
    if isinstance(value, CalendarOption):
        return {"name": value.name, "hours": value.description, "timezone": value.spec.timezone}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _hours(t: time) -> float:
    """A wall-clock time as decimal hours; the protocol stores 24:00 as 23:59:59.999999."""
    return 24.0 if t >= time(23, 59, 59) else t.hour + t.minute / 60


def report_figures(report: PlanningReport) -> dict[str, Any]:
    """Every chart of the report by name (plotly figures, pure functions of the report's numbers)."""
    base = report.calendars[0].option.spec
    blocks = [charts.Block(d, _hours(b.opens), _hours(b.closes)) for b in base.hours for d in sorted(b.days)]
    rates = [r.rate_per_hour for r in report.demand_rates.rows]
    figures: dict[str, Any] = {
        "hour_of_week": charts.hour_of_week_heatmap(
            [rates[d * 24 : d * 24 + 24] for d in range(7)],
            title=f"Eligible calls per hour, by local hour of week (outlined: {report.calendars[0].option.name})",
            value_label="calls/hour",
            blocks=blocks,
        ),
        "by_month": charts.monthly_demand(
            [f"{m.year}-{m.month:02d}" for m in report.by_month.rows],
            {
                "in scope": [m.in_scope for m in report.by_month.rows],
                "conditional": [m.conditional for m in report.by_month.rows],
            },
        ),
        "coverage": charts.coverage_bars(
            [p.option.name for p in report.calendars],
            [p.coverage.share for p in report.calendars],
            [round(p.coverage.open_hours_per_week, 1) for p in report.calendars],
            title="Share of eligible calls inside each calendar's hours",
        ),
    }
    t = report.assumptions.answer_within_seconds
    for i, plan in enumerate(report.calendars):
        servers = [lv.servers for lv in plan.levels]
        answered = {
            "erlang_c": [lv.erlang_c.answered_within[t] for lv in plan.levels],
            "erlang_a": [lv.erlang_a.answered_within[t] for lv in plan.levels],
            "deadline": [lv.deadline.answered_within[t] for lv in plan.levels],
        }
        fallback = {
            "erlang_a": [lv.erlang_a.p_abandon for lv in plan.levels],
            "deadline": [lv.deadline.p_abandon for lv in plan.levels],
        }
        sims = [lv.simulation for lv in plan.levels]
        if all(sims):
            answered["simulation"] = [s.answered_within[t] for s in sims if s]
            fallback["simulation"] = [s.p_abandon for s in sims if s]
            figures[f"waits_{i}"] = charts.wait_percentiles(
                servers,
                {q: [s.wait_percentiles[q] for s in sims if s] for q in sims[0].wait_percentiles}
                if sims[0]
                else {},
                title=f"{plan.option.name}: simulated seconds to claim (answered transfers)",
            )
        figures[f"staffing_{i}"] = charts.staffing_curves(
            servers,
            answered,
            fallback,
            within_seconds=t,
            title=f"{plan.option.name}: {plan.option.description}",
        )
    return figures


def write_outputs(report: PlanningReport, out: Path, *, plotlyjs: str = "inline") -> Path:
    """plan.json (the whole report) and plan.html (charts and tables) in `out`; returns the page."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.json").write_text(json.dumps(_jsonable(report), indent=1) + "\n", encoding="utf-8")
    figs = report_figures(report)
    a = report.assumptions
    intro = charts.html_table(
        ["", ""],
        [
            [
                "center",
                f"{report.center_name or report.center} ({report.center}), local time {report.timezone}",
            ],
            ["period", f"{report.first_date} .. {report.last_date} ({report.demand_rates.weeks:.1f} weeks)"],
            ["calls / eligible", f"{report.calls:,} / {report.eligible:,}"],
            ["handle time", f"{a.handle_minutes:g} min, {a.handle_distribution}"],
            ["fallback after", f"{a.patience_seconds:g} s unclaimed ({a.patience_model})"],
            ["transfers", f"{a.transfer_share:.0%} of eligible calls in the hours"],
            ["simulation", f"{a.sim_days} days x {a.replications} replications, seed {a.seed}"],
        ],
    )
    sections: list[charts.Section] = [
        ("Demand by hour of week", figs["hour_of_week"]),
        ("Demand by month", figs["by_month"]),
        ("Coverage", figs["coverage"]),
        ("Coverage table", charts.html_table(*coverage_rows(report))),
    ]
    for i, plan in enumerate(report.calendars):
        sections.append((f"Staffing: {plan.option.name}", figs[f"staffing_{i}"]))
        if f"waits_{i}" in figs:
            sections.append((f"Time to claim: {plan.option.name}", figs[f"waits_{i}"]))
        sections.append(
            (
                f"Staffing table: {plan.option.name}",
                charts.html_table(*staffing_rows(plan, a.answer_within_seconds)),
            )
        )
    rep_rows = [
        [
            r.key,
            r.days,
            f"{r.calls:,}",
            f"{r.repeat_calls:,}",
            f"{r.repeat_share:.1%}",
            f"{r.repeat_keys:,} of {r.distinct_keys:,}",
        ]
        for r in report.repeats
    ]
    sections.append(
        (
            "Repeats",
            charts.html_table(
                ["key", "days", "eligible calls with a key", "repeat calls", "share", "keys that repeat"],
                rep_rows,
            ),
        )
    )
    if report.notes:
        sections.append(
            ("Notes", "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report.notes) + "</ul>")
        )
    return charts.render_html(
        f"Planning: {report.center_name or report.center}",
        sections,
        out / "plan.html",
        plotlyjs="beside" if plotlyjs == "beside" else "inline",
        intro=intro,
    )
