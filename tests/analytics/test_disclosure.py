"""Disclosure control without a database: suppression, the auditor, Safe Harbor checks, CSV cells."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.analytics.disclosure import CellSystem, audit, share_shown, stat_shown, suppress
from crisisdesk.analytics.disclosure_audit import interval
from crisisdesk.analytics.safe_harbor import (
    GRAINS,
    ExportRefused,
    check_columns,
    coarsen,
    neutralise,
    periods,
    policy,
    scan_cells,
    write_csv,
)
from crisisdesk.config import EXPORT_DATE_GRAINS

pytestmark = pytest.mark.analytics
CHICAGO = ZoneInfo("America/Chicago")


def naive(system: CellSystem) -> dict[tuple[str, ...], int | None]:
    """Primary suppression only: what the pages did before."""
    return {k: (None if 0 < v <= 10 else v) for k, v in system.counts.items()}


def test_naive_suppression_of_a_one_way_table_fails_the_auditor() -> None:
    s = CellSystem()
    s.one_way("language", {"English": 11, "Somali": 3}, total=("funnel", "answered"))
    (finding,) = audit(naive(s), s.equations)
    assert finding.key == ("language", "Somali") and (finding.lo, finding.hi) == (3, 3)
    result = suppress(s)
    assert result.primary == {("language", "Somali")}
    assert result.complementary == {("language", "English")}  # the smallest other cell, not the total
    assert audit(result.published(), s.equations) == []
    assert result.shown(("funnel", "answered")) == "14"


def test_two_small_cells_that_add_up_to_a_small_count_need_a_third() -> None:
    # Somali 3 + Spanish 4 withheld, English printed: "the other languages: 7" is a small count.
    s = CellSystem()
    s.one_way("language", {"English": 150, "Somali": 3, "Spanish": 4})
    findings = audit(naive(s), s.equations)
    assert [(f.equation is not None, f.lo, f.hi) for f in findings] == [(True, 7, 7)]
    result = suppress(s)
    assert ("language", "English") in result.withheld
    assert audit(result.published(), s.equations) == []


def test_the_auditor_finds_a_cell_pinned_only_by_combining_rows_and_columns() -> None:
    # Two 2x2 blocks of withheld cells joined by one small cell: every row and column has two
    # withheld cells (the naive "never one alone" rule passes), yet rows r1+r2 minus columns c1+c2
    # give the bridge cell exactly.
    rows, cols = ["r1", "r2", "r3", "r4"], ["c1", "c2", "c3", "c4"]
    counts = {(r, c): 20 for r in rows for c in cols} | {("r2", "c3"): 4}
    s = CellSystem()
    s.two_way("t", counts, rows, cols)
    block = [("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2")]
    block += [("r3", "c3"), ("r3", "c4"), ("r4", "c3"), ("r4", "c4"), ("r2", "c3")]
    hidden = {("t", r, c) for r, c in block}
    published = {k: (None if k in hidden else v) for k, v in s.counts.items()}
    assert [(f.key, f.lo, f.hi) for f in audit(published, s.equations)] == [(("t", "r2", "c3"), 4, 4)]
    assert interval(published, s.equations, ("t", "r1", "c1")) == (0, 40)
    result = suppress(s)
    assert audit(result.published(), s.equations) == []
    assert len(result.complementary) == 3  # one rectangle closes it


def test_a_small_margin_is_protected_from_the_grand_total() -> None:
    s = CellSystem()
    s.two_way("t", {("a", "x"): 3, ("a", "y"): 2, ("b", "x"): 40, ("b", "y"): 50}, ["a", "b"], ["x", "y"])
    result = suppress(s)
    assert ("t", "a", "*") in result.primary  # the row total 5 is itself small
    assert audit(result.published(), s.equations) == []


@pytest.mark.parametrize("seed", range(4))
def test_suppression_always_passes_the_auditor_on_random_tables(seed: int) -> None:
    rng = random.Random(seed)
    values = [0, 0, 1, 2, 3, 5, 7, 10, 11, 12, 15, 25, 60, 200]
    for _ in range(25):
        n_rows, n_cols = rng.randint(1, 5), rng.randint(1, 5)
        rows = [f"r{i}" for i in range(n_rows)]
        cols = [f"c{j}" for j in range(n_cols)]
        counts = {(r, c): rng.choice(values) for r in rows for c in cols}
        s = CellSystem()
        s.two_way("t", counts, rows, cols)
        if rng.random() < 0.5:  # and a one-way table sharing the grand total, like the funnel
            s.one_way("other", {"p": s.counts[("t", "*", "*")]}, total=("t", "*", "*"))
        result = suppress(s)
        published = result.published()
        assert audit(published, s.equations) == [], counts
        for key, v in published.items():
            assert v is None or not 0 < v <= 10, (key, counts)  # no small count printed
        for key in result.withheld:  # the true value is always inside the range the reader gets
            lo, hi = interval(published, s.equations, key)
            assert lo <= s.counts[key] and (hi is None or s.counts[key] <= hi)


def test_zero_is_published_and_percentages_of_withheld_counts_are_withheld() -> None:
    s = CellSystem()
    s.one_way("t", {"a": 0, "b": 40})
    assert suppress(s).withheld == frozenset()
    assert share_shown(None, 40) == "*" and share_shown(3, None) == "*" and share_shown(20, 40) == "50%"
    assert stat_shown(12.0, 3) == "*" and stat_shown(12.0, 11) == "12 s" and stat_shown(None, 0) == "no data"


def test_a_relation_must_add_up() -> None:
    s = CellSystem()
    s.add(("a",), 3)
    s.add(("b",), 2)
    with pytest.raises(ValueError, match="sum"):
        s.relate(("a",), [("b",)])


# --- Safe Harbor ----------------------------------------------------------------------------------


def test_the_policy_lists_the_18_identifier_kinds_and_the_grains_agree() -> None:
    p = policy()
    assert sorted(p.identifiers) == list(range(1, 19)) and p.small_cell_max == 10
    assert GRAINS == EXPORT_DATE_GRAINS


@pytest.mark.parametrize("column", ["call_id", "caller_key", "received_at", "narrative", "callback_number"])
def test_identifier_columns_are_refused_at_every_level(column: str) -> None:
    for level in ("row", "aggregate"):
        with pytest.raises(ExportRefused, match=column):
            check_columns(["outcome", column], level)  # type: ignore[arg-type]


def test_neighbourhood_only_aggregated_and_unknown_columns_refused() -> None:
    check_columns(["neighbourhood", "period", "language"], "aggregate")
    with pytest.raises(ExportRefused, match="Safe Harbor identifier 2"):
        check_columns(["neighbourhood"], "row")
    with pytest.raises(ExportRefused, match="not on the export allow-list"):
        check_columns(["favourite_colour"], "aggregate")


def test_cells_that_look_like_contact_details_are_found() -> None:
    rows = [["Whittier", "612-555-0142"], ["a@b.org", "10.0.0.1"], ["see https://x.test", "English"]]
    hits = scan_cells(rows, ["category_1", "category_2"])
    assert len(hits) == 4 and "telephone" in hits[0] and "URL" in hits[3]
    assert scan_cells([["2026-11", "2026-W45", "2026-Q4", "resolved_by_phone", "311"]]) == []


def test_dates_are_coarsened_to_the_grain_in_chicago() -> None:
    # 03:30 UTC on 1 Jan is still 31 Dec in Chicago: the local date decides the period.
    at = datetime(2027, 1, 1, 3, 30, tzinfo=UTC)
    assert [coarsen(at, g, CHICAGO) for g in GRAINS] == ["2026", "2026-Q4", "2026-12", "2026-W53"]
    with pytest.raises(ValueError, match="naive"):
        coarsen(datetime(2026, 1, 1), "month", CHICAGO)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="grain"):
        coarsen(at, "day", CHICAGO)
    start, end = datetime(2026, 11, 1, tzinfo=CHICAGO), datetime(2027, 1, 1, tzinfo=CHICAGO)
    assert periods(start, end, "month", CHICAGO) == ["2026-11", "2026-12"]
    assert periods(start, end, "quarter", CHICAGO) == ["2026-Q4"]


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("evil","x")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1:A2)", "\t=1", "\r=1"]
)
def test_formula_cells_are_neutralised(value: str) -> None:
    assert neutralise(value) == "'" + value
    out = io.StringIO()
    write_csv(out, ["category_1", "value"], [[value, 12]])
    (_, row) = list(csv.reader(io.StringIO(out.getvalue())))
    assert row == ["'" + value, "12"]


def test_plain_cells_are_left_alone() -> None:
    assert neutralise("Somali") == "Somali" and neutralise(12) == "12" and neutralise(None) == ""
