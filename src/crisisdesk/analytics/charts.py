"""Chart specifications for planning (plotly), shared by the CLI report, the dashboard and the monthly report.

Every builder is a pure function of plain data (numbers, labels) returning a `plotly.graph_objects.Figure`;
nothing here reads files or knows where the data came from, so the same figure is drawn from a CAD
import today and from the operational database later. `figure_spec` gives the JSON a page hands to
plotly.js (served as a static file, as the CSP allows no CDN); `render_html` writes a report that works
offline, with plotly.js inside the file or beside it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TEMPLATE = "plotly_white"
# One colour per staffing model, the same in every chart.
MODEL_COLOURS = {"erlang_c": "#1f77b4", "erlang_a": "#ff7f0e", "deadline": "#2ca02c", "simulation": "#d62728"}
MODEL_LABELS = {
    "erlang_c": "Erlang C (no fallback)",
    "erlang_a": "Erlang A (exponential patience)",
    "deadline": "Claim deadline (M/M/c+D)",
    "simulation": "Simulation (hour-of-week rates)",
}


@dataclass(frozen=True)
class Block:
    """An opening block drawn on the hour-of-week heatmap: weekday 0 = Monday, hours as decimals."""

    weekday: int
    start_hour: float
    end_hour: float


def hour_of_week_heatmap(
    counts: Sequence[Sequence[float]],
    *,
    title: str = "Eligible calls by hour of week",
    value_label: str = "calls per week",
    blocks: Sequence[Block] = (),
) -> go.Figure:
    """Heatmap of a 7 x 24 table (rows Monday..Sunday, columns local hour 0..23), with the service
    hours outlined so the uncovered demand is visible at a glance."""
    if len(counts) != 7 or any(len(row) != 24 for row in counts):
        raise ValueError("the hour-of-week table must be 7 rows (Mon..Sun) of 24 hours")
    fig = go.Figure(
        go.Heatmap(
            z=[list(map(float, row)) for row in counts],
            x=list(range(24)),
            y=list(DAY_LABELS),
            colorscale="Blues",
            colorbar={"title": {"text": value_label}},
            hovertemplate="%{y} %{x}:00<br>%{z:.2f} " + value_label + "<extra></extra>",
        )
    )
    for b in blocks:
        fig.add_shape(
            type="rect",
            x0=b.start_hour - 0.5,
            x1=b.end_hour - 0.5,
            y0=b.weekday - 0.5,
            y1=b.weekday + 0.5,
            line={"color": "#d62728", "width": 2},
            fillcolor="rgba(0,0,0,0)",
        )
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        xaxis={"title": "local hour", "dtick": 2},
        yaxis={"autorange": "reversed"},
        height=360,
    )
    return fig


def monthly_demand(
    months: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str = "Eligible calls by month"
) -> go.Figure:
    """Stacked bars per month, one series per part (e.g. in scope / conditional, or inside / outside
    the service hours)."""
    for name, values in series.items():
        if len(values) != len(months):
            raise ValueError(f"{name}: one value per month is required")
    fig = go.Figure(
        [go.Bar(name=name, x=list(months), y=[float(v) for v in values]) for name, values in series.items()]
    )
    fig.update_layout(
        barmode="stack",
        title=title,
        template=TEMPLATE,
        xaxis={"type": "category"},  # "2023-01" is a month label, not a date to place on a time axis
        yaxis={"title": "calls"},
        height=360,
    )
    return fig


def coverage_bars(
    names: Sequence[str], shares: Sequence[float], hours_per_week: Sequence[float], *, title: str = "Coverage"
) -> go.Figure:
    """Share of eligible calls inside each calendar's hours (horizontal bars), labelled with the
    hours the desk is open per week so the cost of each option is next to its gain."""
    if not len(names) == len(shares) == len(hours_per_week):
        raise ValueError("names, shares and hours_per_week must have the same length")
    labels = [f"{s:.1%} ({h:g} h/week)" for s, h in zip(shares, hours_per_week, strict=True)]
    fig = go.Figure(
        go.Bar(
            x=list(shares),
            y=list(names),
            orientation="h",
            text=labels,
            textposition="auto",
            marker_color="#1f77b4",
        )
    )
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        xaxis={"title": "share of eligible calls", "tickformat": ".0%", "range": [0, 1]},
        yaxis={"autorange": "reversed"},
        height=120 + 40 * len(names),
    )
    return fig


def staffing_curves(
    servers: Sequence[int],
    answered: Mapping[str, Sequence[float]],
    fallback: Mapping[str, Sequence[float]],
    *,
    within_seconds: float,
    title: str = "Staffing",
) -> go.Figure:
    """Two panels against the number of social workers: the share of transfers answered within
    `within_seconds`, and the share that falls back unclaimed, one line per model (keys of
    MODEL_LABELS; a model may be missing)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(f"answered within {within_seconds:g} s", "fall back unclaimed"),
    )
    for col, series in ((1, answered), (2, fallback)):
        for model, values in series.items():
            if len(values) != len(servers):
                raise ValueError(f"{model}: one value per staffing level is required")
            fig.add_trace(
                go.Scatter(
                    x=list(servers),
                    y=list(values),
                    mode="lines+markers",
                    name=MODEL_LABELS.get(model, model),
                    legendgroup=model,
                    showlegend=col == 1,
                    line={"color": MODEL_COLOURS.get(model)},
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="social workers on shift", dtick=1)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", row=1, col=2)
    fig.update_layout(title=title, template=TEMPLATE, height=380, legend={"orientation": "h", "y": -0.25})
    return fig


def wait_percentiles(
    servers: Sequence[int], percentiles: Mapping[float, Sequence[float]], *, title: str = "Time to claim"
) -> go.Figure:
    """Grouped bars of simulated time-to-claim percentiles (seconds) of answered transfers per
    staffing level."""
    fig = go.Figure(
        [
            go.Bar(name=f"p{q:g}", x=[str(c) for c in servers], y=[float(v) for v in values])
            for q, values in sorted(percentiles.items())
        ]
    )
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        barmode="group",
        xaxis={"title": "social workers on shift"},
        yaxis={"title": "seconds to claim"},
        height=340,
    )
    return fig


def figure_spec(fig: go.Figure) -> dict[str, Any]:
    """The plain-JSON form of a figure ({data, layout}) for a page that draws it with plotly.js."""
    spec: dict[str, Any] = json.loads(pio.to_json(fig, validate=False))
    return spec


Section = tuple[str, go.Figure | str]  # (heading, figure or pre-rendered HTML fragment)


def render_html(
    title: str,
    sections: Sequence[Section],
    path: Path,
    *,
    plotlyjs: Literal["inline", "beside"] = "inline",
    intro: str = "",
) -> Path:
    """Write a report page to `path` that works offline: plotly.js is embedded once ("inline", one
    self-contained file) or written as plotly.min.js next to it ("beside"). Strings in `sections`
    are HTML fragments (callers escape their own text, e.g. with `html_table`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if plotlyjs == "inline":
        script = f"<script>{get_plotlyjs()}</script>"
    else:
        (path.parent / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
        script = '<script src="plotly.min.js"></script>'
    body = []
    for heading, content in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        if isinstance(content, go.Figure):
            body.append(pio.to_html(content, full_html=False, include_plotlyjs=False, default_width="100%"))
        else:
            body.append(content)
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>{script}"
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{intro}" + "\n".join(body) + "</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path


def html_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain HTML table with every cell escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
