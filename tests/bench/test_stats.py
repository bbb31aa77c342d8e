"""The benchmark's statistics: percentiles interpolate like numpy's default (linear)."""

from __future__ import annotations

import pytest
from bench.run import percentile, summary


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [([1.0], 99, 1.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.5), ([0.0, 10.0], 95, 9.5), (list(range(101)), 99, 99.0)],
)
def test_percentile(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == pytest.approx(expected)


def test_summary_in_milliseconds() -> None:
    s = summary([0.010, 0.020, 0.030])
    assert (s["n"], s["p50_ms"], s["max_ms"]) == (3, 20.0, 30.0)
    assert summary([])["p99_ms"] is None
