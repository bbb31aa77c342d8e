"""Chart specs and the report sections of the program evaluation (plotly), one spec for every output.

The dashboard page draws `figure_spec(...)` of these figures with plotly.js; the monthly report
embeds the very same figures in its HTML, which Chromium prints to PDF. Suppressed cells (1..10) are
never drawn as numbers: their bar is left out and the label says "<11".
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from crisisdesk.analytics.charts import TEMPLATE, Section, html_table
from crisisdesk.analytics.evaluation import Evaluation

PROGRAM_COLOUR, COMPARISON_COLOUR = "#1f77b4", "#7f7f7f"
FUNNEL_STEPS = (
    ("calls", "911 calls"),
    ("screened", "screened"),
    ("in_scope", "in scope"),
    ("transferred", "transferred"),
    ("answered", "answered by the social worker"),
)


def funnel(ev: Evaluation) -> go.Figure:
    labels = [label for _, label in FUNNEL_STEPS]
    values = [ev.funnel[key] for key, _ in FUNNEL_STEPS]
    fig = go.Figure(go.Funnel(y=labels, x=values, textinfo="value+percent initial"))
    fig.update_layout(template=TEMPLATE, title="From 911 call to the social worker", height=360)
    return fig


def repeat_rates(ev: Evaluation) -> go.Figure:
    """Share of calls followed by another 911 call from the same number within N days, by group."""
    fig = go.Figure()
    for group, colour in ((ev.program, PROGRAM_COLOUR), (ev.comparison, COMPARISON_COLOUR)):
        days = [f"{r.days} days" for r in group.repeats]
        rates = [None if r.rate is None else 100 * r.rate for r in group.repeats]
        text = [
            f"{r.with_repeat} of {r.eligible}" if r.eligible else "window not passed" for r in group.repeats
        ]
        fig.add_bar(name=group.name, x=days, y=rates, text=text, textposition="outside", marker_color=colour)
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        title="Repeat 911 calls from the same number",
        yaxis_title="% of calls with a repeat call",
        yaxis_rangemode="tozero",
        height=380,
    )
    return fig


def breakdown(title: str, cells: dict[str, str]) -> go.Figure:
    """A bar per category; suppressed categories ("<11") are named but not drawn."""
    shown = {k: int(v) for k, v in cells.items() if v.isdigit()}
    hidden = sorted(k for k, v in cells.items() if not v.isdigit())
    fig = go.Figure(
        go.Bar(x=list(shown.values()), y=list(shown.keys()), orientation="h", marker_color=PROGRAM_COLOUR)
    )
    note = f"Fewer than 11 calls (not drawn): {', '.join(hidden)}" if hidden else ""
    fig.update_layout(
        template=TEMPLATE, title=title, height=200 + 28 * max(1, len(shown)), xaxis_title="calls"
    )
    if note:
        fig.add_annotation(text=note, xref="paper", yref="paper", x=0, y=-0.25, showarrow=False, align="left")
    return fig


def figures(ev: Evaluation) -> dict[str, go.Figure]:
    d = ev.as_dict()
    return {
        "funnel": funnel(ev),
        "repeats": repeat_rates(ev),
        "language": breakdown("Calls answered, by language", d["by_language"]),
        "neighbourhood": breakdown("Calls answered, by neighbourhood", d["by_neighbourhood"]),
    }


def _fmt_seconds(value: float | None) -> str:
    return "no data" if value is None else f"{value:.0f} s"


def report_sections(ev: Evaluation) -> list[Section]:
    """The monthly report's sections: tables, charts and the caveats, in reading order."""
    figs = figures(ev)
    f, o = ev.funnel, ev.outcomes
    measures = [
        ("911 calls received", f["calls"]),
        ("screened by a telecommunicator", f["screened"]),
        ("in scope for the social worker", f["in_scope"]),
        ("transferred to the social worker", f["transferred"]),
        ("answered by the social worker", f["answered"]),
        ("median time to answer", _fmt_seconds(ev.seconds_to_answer["median"])),
        ("90th percentile time to answer", _fmt_seconds(ev.seconds_to_answer["p90"])),
        ("resolved without police or EMS", o["resolved_without_police_or_ems"]),
        ("escalated back to 911", o["escalations"]),
        ("median time for 911 to acknowledge an escalation", _fmt_seconds(ev.seconds_to_acknowledge["median"])),
        ("follow-ups planned / done / person reached", f"{ev.follow_ups['planned']} / {ev.follow_ups['done']} / {ev.follow_ups['reached']}"),
        ("referrals made / completed / did not work out", f"{ev.referrals['made']} / {ev.referrals['completed']} / {ev.referrals['failed']}"),
    ]  # fmt: skip
    repeats = [
        (g.name, r.days, r.eligible, r.with_repeat, "" if r.rate is None else f"{100 * r.rate:.0f}%")
        for g in (ev.program, ev.comparison)
        for r in g.repeats
    ]
    caveats = "<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in (*ev.caveats, *ev.notes)) + "</ul>"
    reasons = html_table(
        ["why the call was not transferred", "calls"], sorted(ev.comparison_by_reason.items())
    )
    dispositions = html_table(
        ["disposition", "cases"], [(k.replace("_", " "), v) for k, v in ev.dispositions.items()]
    )
    return [
        ("Measures", html_table(["measure", "value"], measures)),
        ("Calls to the social worker", figs["funnel"]),
        ("Repeat 911 calls: program and comparison group", figs["repeats"]),
        (
            "Repeat calls (table)",
            html_table(["group", "days", "calls counted", "with a repeat", "share"], repeats),
        ),
        ("Comparison group", reasons),
        ("How cases ended", dispositions),
        ("By language", figs["language"]),
        ("By neighbourhood", figs["neighbourhood"]),
        ("Read these numbers with care", caveats),
    ]
