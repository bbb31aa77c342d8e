"""The disclosure auditor: can a withheld count be worked out from what a publication prints?

Input: the published numbers (None where withheld) and the additive relations a reader knows
(total = sum of parts). Unknowns are the withheld counts; they are non-negative integers satisfying
every relation. For each withheld count, and for the sum of the withheld members of each relation
(e.g. "all the other languages together"), the auditor computes the exact range of values consistent
with everything published, by linear programming in exact rational arithmetic (no floating point,
no dependency).

Why LP gives the integer range exactly here: the relations of one-way tables, two-way tables with
their margins, and nested (laminar) totals form a totally unimodular matrix, so every vertex of the
feasible region is integral and the LP optimum is attained at an integer solution. For relations
outside those shapes (several totals shared between tables) the optimum may be fractional; the
auditor then reports the count as not proven safe, and the suppressor withholds more, so a pass is
always a proof for integer counts.

A withheld count is disclosed when its range is a single non-zero value, or lies inside 1..10
(the reader learns it is a small count and roughly which). The sum of the withheld members of a
relation is disclosed when its range lies inside 1..10 ("the other languages: 7 calls").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crisisdesk.analytics.disclosure import Equation, Key

SMALL_CELL_MAX = 10


@dataclass(frozen=True)
class Finding:
    """A withheld count (key) or the withheld part of a relation (equation) a reader can work out."""

    key: Key | None
    equation: Equation | None
    lo: int
    hi: int | None  # None: no upper bound
    exact: bool = True  # False: the LP range was fractional, so safety is not proven

    def __str__(self) -> str:
        what = self.key if self.key is not None else f"withheld part of {self.equation}"
        span = f"exactly {self.lo}" if self.lo == self.hi else f"between {self.lo} and {self.hi}"
        if not self.exact:
            return f"{what}: not proven safe (fractional LP range {self.lo}..{self.hi})"
        return f"{what} can be worked out: {span}"


def is_disclosed(lo: int, hi: int | None, small_max: int = SMALL_CELL_MAX) -> bool:
    """A withheld count with this range is given away: exactly known (and not zero), or small."""
    if hi is not None and lo == hi and lo > 0:
        return True
    return is_small_range(lo, hi, small_max)


def is_small_range(lo: int, hi: int | None, small_max: int = SMALL_CELL_MAX) -> bool:
    """The reader learns the value is a count of 1..small_max (a sum of withheld parts that is
    exactly 25 is fine: it is the publishable "everything else")."""
    return lo >= 1 and hi is not None and hi <= small_max


class Infeasible(ValueError):
    """The published numbers contradict the relations (a bug in building the publication)."""


class _LP:
    """max c.x subject to A x = b, x >= 0, by the two-phase simplex method with Bland's rule.

    Phase one runs once; every objective then starts from the same feasible basis.
    """

    def __init__(self, a: list[list[Fraction]], b: list[Fraction], n: int):
        self.n = n
        rows = []
        for coeffs, rhs in zip(a, b, strict=True):
            sign = -1 if rhs < 0 else 1
            rows.append([sign * c for c in coeffs] + [sign * rhs])
        m = len(rows)
        # Artificial variables n..n+m-1 give a first basis.
        tableau = [r[:n] + [Fraction(int(i == j)) for j in range(m)] + [r[n]] for i, r in enumerate(rows)]
        basis = [n + i for i in range(m)]
        cost = [Fraction(0)] * n + [Fraction(-1)] * m
        self._run(tableau, basis, cost)
        if sum(tableau[i][-1] for i, v in enumerate(basis) if v >= n) != 0:
            raise Infeasible("the published numbers do not satisfy their relations")
        # Drive artificials out of the basis; a row where that is impossible is redundant.
        keep = []
        for i, v in enumerate(basis):
            if v >= n:
                col = next((j for j in range(n) if tableau[i][j] != 0), None)
                if col is None:
                    continue
                self._pivot(tableau, basis, i, col)
            keep.append(i)
        self.tableau = [tableau[i][:n] + [tableau[i][-1]] for i in keep]
        self.basis = [basis[i] for i in keep]

    @staticmethod
    def _pivot(t: list[list[Fraction]], basis: list[int], row: int, col: int) -> None:
        p = t[row][col]
        t[row] = [v / p for v in t[row]]
        pr = t[row]
        for i, r in enumerate(t):
            if i != row and r[col] != 0:
                f = r[col]
                t[i] = [v - f * w for v, w in zip(r, pr, strict=True)]
        basis[row] = col

    def _run(self, t: list[list[Fraction]], basis: list[int], cost: Sequence[Fraction]) -> bool:
        """Maximise; False when unbounded."""
        width = len(t[0]) - 1 if t else 0
        while True:
            entering = None
            for j in range(width):
                if j in basis:
                    continue
                reduced = cost[j] - sum(cost[basis[i]] * t[i][j] for i in range(len(t)) if t[i][j] != 0)
                if reduced > 0:
                    entering = j
                    break
            if entering is None:
                return True
            best: tuple[Fraction, int, int] | None = None
            for i, r in enumerate(t):
                if r[entering] > 0:
                    candidate = (r[-1] / r[entering], basis[i], i)
                    if best is None or candidate[:2] < best[:2]:
                        best = candidate
            if best is None:
                return False
            self._pivot(t, basis, best[2], entering)

    def maximise(self, c: Sequence[Fraction]) -> tuple[Fraction | None, bool]:
        """(the maximum or None when unbounded, whether the optimal vertex found is integral)."""
        if not self.tableau:  # no relation left: every unknown is free
            return (Fraction(0), True) if all(v <= 0 for v in c) else (None, True)
        t = [list(r) for r in self.tableau]
        basis = list(self.basis)
        if not self._run(t, basis, c):
            return None, True
        integral = all(r[-1].denominator == 1 for r in t)
        return sum((c[v] * t[i][-1] for i, v in enumerate(basis)), Fraction(0)), integral


def _floor(x: Fraction) -> int:
    return x.numerator // x.denominator


def _ceil(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


class _Reader:
    """What a reader of the publication can solve for: the withheld counts under the relations."""

    def __init__(self, published: Mapping[Key, int | None], equations: Sequence[Equation]):
        self.unknown = sorted(k for k, v in published.items() if v is None)
        self.index = {k: i for i, k in enumerate(self.unknown)}
        n = len(self.unknown)
        a: list[list[Fraction]] = []
        b: list[Fraction] = []
        self.used: list[Equation] = []
        for eq in equations:
            row = [Fraction(0)] * n
            rhs = Fraction(0)
            for k, sign in [(eq.total, -1)] + [(p, 1) for p in eq.parts]:
                value = published[k]
                if value is None:
                    row[self.index[k]] += sign
                else:
                    rhs -= sign * value
            if any(row):
                a.append(row)
                b.append(rhs)
                self.used.append(eq)
            elif rhs != 0:
                raise Infeasible(f"{eq} does not add up")
        self.lp = _LP(a, b, n)

    def span(self, keys: Sequence[Key]) -> tuple[int, int | None, bool]:
        """The range of the sum of these withheld counts, and whether it is exact for integers.

        Exact when both optima are attained at integral vertices (always so for the table shapes
        in the module docstring); otherwise the integer range may be narrower than the one given.
        """
        coeffs = [Fraction(0)] * len(self.unknown)
        for k in keys:
            coeffs[self.index[k]] += 1
        hi, hi_exact = self.lp.maximise(coeffs)
        neg_lo, lo_exact = self.lp.maximise([-c for c in coeffs])
        assert neg_lo is not None  # non-negative unknowns: the minimum is bounded below
        return _ceil(-neg_lo), None if hi is None else _floor(hi), hi_exact and lo_exact


def audit(
    published: Mapping[Key, int | None],
    equations: Sequence[Equation],
    *,
    small_max: int = SMALL_CELL_MAX,
) -> list[Finding]:
    """Every withheld count, and every relation's withheld part, that the publication gives away.

    Uses only `published` and `equations`; an empty list is the proof that nothing is derivable.
    """
    if all(v is not None for v in published.values()):
        return []
    reader = _Reader(published, equations)
    findings = []
    for k in reader.unknown:
        lo, hi, exact = reader.span([k])
        if is_disclosed(lo, hi, small_max) or not exact:
            findings.append(Finding(k, None, lo, hi, exact))
    for eq in reader.used:
        # The withheld parts together ("the other languages"); a single one is covered above.
        parts = [p for p in eq.parts if published[p] is None]
        if len(parts) < 2:
            continue
        lo, hi, exact = reader.span(parts)
        if is_small_range(lo, hi, small_max) or not exact:
            findings.append(Finding(None, eq, lo, hi, exact))
    return findings


def interval(
    published: Mapping[Key, int | None], equations: Sequence[Equation], key: Key
) -> tuple[int, int | None]:
    """The range of values of one count consistent with the publication (a printed one is exact)."""
    value = published[key]
    if value is not None:
        return value, value
    lo, hi, _ = _Reader(published, equations).span([key])
    return lo, hi
