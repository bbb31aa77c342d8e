"""Chart builders are pure functions of data; the HTML report works offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from crisisdesk.analytics import charts

pytestmark = pytest.mark.analytics


def _week(value: float = 1.0) -> list[list[float]]:
    return [[value * (d * 24 + h) for h in range(24)] for d in range(7)]


def test_heatmap_draws_the_table_and_outlines_the_hours() -> None:
    blocks = [charts.Block(d, 12.0, 20.5) for d in range(5)]
    fig = charts.hour_of_week_heatmap(_week(), blocks=blocks)
    heat = fig.data[0]
    assert list(heat.y) == list(charts.DAY_LABELS)
    assert heat.z[1][13] == 37.0  # Tuesday 13:00
    assert len(fig.layout.shapes) == 5
    assert (fig.layout.shapes[0].x0, fig.layout.shapes[0].x1) == (11.5, 20.0)  # cells are centred on the hour
    with pytest.raises(ValueError):
        charts.hour_of_week_heatmap([[0.0] * 24] * 6)


def test_builders_are_pure_and_serialisable() -> None:
    args = (
        [1, 2, 3],
        {"erlang_c": [0.1, 0.6, 0.9], "simulation": [0.2, 0.7, 0.95]},
        {"simulation": [0.6, 0.3, 0.1]},
    )
    first = charts.figure_spec(charts.staffing_curves(*args, within_seconds=60))
    second = charts.figure_spec(charts.staffing_curves(*args, within_seconds=60))
    assert first == second
    json.dumps(first)  # plain JSON for a dashboard page
    names = [t["name"] for t in first["data"]]
    assert names.count(charts.MODEL_LABELS["simulation"]) == 2  # both panels
    assert sum(1 for t in first["data"] if t.get("showlegend")) == 2  # one legend entry per model
    with pytest.raises(ValueError):
        charts.staffing_curves([1, 2], {"erlang_c": [0.5]}, {}, within_seconds=60)


def test_monthly_and_coverage_charts() -> None:
    fig = charts.monthly_demand(["2023-01", "2023-02"], {"in scope": [3, 4], "conditional": [5, 6]})
    assert [t.name for t in fig.data] == ["in scope", "conditional"]
    assert fig.layout.barmode == "stack" and fig.layout.xaxis.type == "category"
    cov = charts.coverage_bars(["MECC", "Add Saturday"], [0.31, 0.357], [42.5, 51.0])
    assert list(cov.data[0].text) == ["31.0% (42.5 h/week)", "35.7% (51 h/week)"]
    with pytest.raises(ValueError):
        charts.monthly_demand(["2023-01"], {"x": [1, 2]})
    waits = charts.wait_percentiles([1, 2], {90.0: [20.0, 0.0], 50.0: [0.0, 0.0]})
    assert [t.name for t in waits.data] == ["p50", "p90"]


def test_render_html_inline_is_one_offline_file(tmp_path: Path) -> None:
    fig = charts.coverage_bars(["A"], [0.5], [10.0])
    table = charts.html_table(["name", "value"], [["<script>alert(1)</script>", 1]])
    page = charts.render_html("Plan <test>", [("Coverage", fig), ("Table", table)], tmp_path / "plan.html")
    text = page.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert(1)" not in text
    assert "<title>Plan &lt;test&gt;</title>" in text
    assert get_plotlyjs() in text  # plotly.js embedded once ...
    page_only = text.replace(get_plotlyjs(), "")
    assert "<script src=" not in page_only and "http" not in page_only  # ... and nothing is fetched
    assert page_only.count("Plotly.newPlot") == 1
    assert not (tmp_path / "plotly.min.js").exists()
