"""Chart specs and the report sections of the program evaluation (plotly), one spec for every output.

The dashboard page draws `figure_spec(...)` of these figures with plotly.js; the monthly report
embeds the very same figures in its HTML, which Chromium prints to PDF. Every number comes from the
published (suppressed) evaluation, never from the raw counts: a withheld count is not drawn, its
label says "*", and a percentage built on it is withheld too.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from crisisdesk.analytics.charts import TEMPLATE, Section, html_table
from crisisdesk.analytics.disclosure import LEGEND, SUPPRESSED
from crisisdesk.analytics.evaluation import Evaluation
from crisisdesk.analytics.evaluation_published import Published

PROGRAM_COLOUR, COMPARISON_COLOUR = "#1f77b4", "#7f7f7f"
FUNNEL_STEPS = (
    ("calls", "911 calls"),
    ("screened", "screened"),
    ("in_scope", "in scope"),
    ("transferred", "transferred"),
    ("answered", "answered by the social worker"),
)


def funnel(pub: Published) -> go.Figure:
    """The funnel's published counts; a withheld step has no bar and no percentage."""
    labels = [label for _, label in FUNNEL_STEPS]
    values = [pub.value(("funnel", key)) for key, _ in FUNNEL_STEPS]
    text = [pub.shown(("funnel", key)) for key, _ in FUNNEL_STEPS]
    fig = go.Figure(go.Funnel(y=labels, x=values, text=text, textinfo="text"))
    fig.update_layout(template=TEMPLATE, title="From 911 call to the social worker", height=360)
    return fig


def repeat_rates(ev: Evaluation, pub: Published) -> go.Figure:
    """Share of calls followed by another 911 call from the same number within N days, by group."""
    fig = go.Figure()
    for key, group, colour in (
        ("program", ev.program, PROGRAM_COLOUR),
        ("comparison", ev.comparison, COMPARISON_COLOUR),
    ):
        days = [f"{r.days} days" for r in group.repeats]
        shares = [pub.shares[("repeat", key, str(r.days))] for r in group.repeats]
        rates = [float(v.removesuffix("%")) if v.endswith("%") else None for v in shares]
        text = [
            f"{pub.shown(('repeat', key, str(r.days), 'with_repeat'))} of "
            f"{pub.shown(('repeat', key, str(r.days), 'eligible'))}"
            if r.eligible
            else "window not passed"
            for r in group.repeats
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
    """A bar per category; withheld categories ("*") are named but not drawn."""
    shown = {k: int(v) for k, v in cells.items() if v.isdigit()}
    hidden = sorted(k for k, v in cells.items() if v == SUPPRESSED)
    fig = go.Figure(
        go.Bar(x=list(shown.values()), y=list(shown.keys()), orientation="h", marker_color=PROGRAM_COLOUR)
    )
    note = f"Withheld (not drawn): {', '.join(hidden)}" if hidden else ""
    fig.update_layout(
        template=TEMPLATE, title=title, height=200 + 28 * max(1, len(shown)), xaxis_title="calls"
    )
    if note:
        fig.add_annotation(text=note, xref="paper", yref="paper", x=0, y=-0.25, showarrow=False, align="left")
    return fig


def figures(ev: Evaluation, pub: Published) -> dict[str, go.Figure]:
    return {
        "funnel": funnel(pub),
        "repeats": repeat_rates(ev, pub),
        "language": breakdown("Calls answered, by language", pub.breakdown("answered_by_language")),
        "neighbourhood": breakdown(
            "Calls answered, by neighbourhood", pub.breakdown("answered_by_neighbourhood")
        ),
    }


def measure_rows(pub: Published) -> list[tuple[str, str]]:
    """The headline measures as printed (withheld ones as "*"): the report table and the page tiles."""
    s, t = pub.shown, pub.stats
    return [
        ("911 calls received", s(("funnel", "calls"))),
        ("screened by a telecommunicator", s(("funnel", "screened"))),
        ("in scope for the social worker", s(("funnel", "in_scope"))),
        ("transferred to the social worker", s(("funnel", "transferred"))),
        ("answered by the social worker", s(("funnel", "answered"))),
        ("median time to answer", t["median_seconds_to_answer"]),
        ("90th percentile time to answer", t["p90_seconds_to_answer"]),
        ("resolved without police or EMS", s(("outcomes", "resolved_without_police_or_ems"))),
        ("escalated back to 911", s(("outcomes", "escalations"))),
        ("median time for 911 to acknowledge an escalation", t["median_seconds_to_acknowledge"]),
        ("follow-ups planned / done / person reached", " / ".join(s(("follow_ups", k)) for k in ("planned", "done", "reached"))),
        ("referrals made / completed / did not work out", " / ".join(s(("referrals", k)) for k in ("made", "completed", "failed"))),
    ]  # fmt: skip


def repeat_rows(ev: Evaluation, pub: Published) -> list[tuple[str, int, str, str, str]]:
    out = []
    for key, g in (("program", ev.program), ("comparison", ev.comparison)):
        for r in g.repeats:
            d = str(r.days)
            out.append(
                (
                    g.name,
                    r.days,
                    pub.shown(("repeat", key, d, "eligible")),
                    pub.shown(("repeat", key, d, "with_repeat")),
                    pub.shares[("repeat", key, d)],
                )
            )
    return out


def report_sections(ev: Evaluation, pub: Published) -> list[Section]:
    """The monthly report's sections: tables, charts and the caveats, in reading order."""
    figs = figures(ev, pub)
    measures = measure_rows(pub)
    repeats = repeat_rows(ev, pub)
    notes = (*ev.caveats, *ev.notes, LEGEND)
    caveats = "<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in notes) + "</ul>"
    reasons = html_table(
        ["why the call was not transferred", "calls"],
        sorted(pub.breakdown("comparison_group").items()),
    )
    dispositions = html_table(
        ["disposition", "cases"],
        [(k.replace("_", " "), v) for k, v in pub.breakdown("cases_by_disposition").items()],
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
