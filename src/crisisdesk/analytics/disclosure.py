"""Disclosure control for published counts: small-cell suppression with complementary suppression.

The rule (CMS cell size suppression policy, DESIGN.md security baseline): no published number may be
a count of 1 to 10, and none may allow a count of 1 to 10 to be worked out from other published
numbers (totals, other cells, percentages). Zero may be published.

A publication is modelled as a `CellSystem`: named counts (cells, margins and totals alike) plus the
additive relations between them (`Equation`: total = sum of parts). Tables that share a total (the
calls answered are the total of the language table, the neighbourhood table and a funnel step) share
the cell, so one suppression decision holds in every table that prints it.

- `suppress` marks every count of 1..10 (primary suppression), then withholds further published
  counts (complementary suppression, smallest values first) until `audit` finds nothing derivable.
- `audit` (disclosure_audit.py) works from the published numbers only and proves, by exact linear
  programming over the non-negative solutions of the relations, that no withheld count is pinned.

Percentages and medians built from a withheld count are withheld too (`share_shown`, `stat_shown`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from crisisdesk.analytics.disclosure_audit import Finding, audit, is_disclosed

SMALL_CELL_MAX = 10
# One mark for every withheld number: a separate mark for complementary cells would tell a reader
# that they are 0 or above 10, which is information the audit would then have to model.
SUPPRESSED = "*"
LEGEND = (
    "* = withheld: a count of 1 to 10, or a count withheld so that a count of 1 to 10 cannot be "
    "worked out from the totals. Zero is shown."
)

Key = tuple[str, ...]


@dataclass(frozen=True)
class Equation:
    """`total` = sum of `parts`: a relation any reader of the publication can use."""

    total: Key
    parts: tuple[Key, ...]


@dataclass
class CellSystem:
    """The true counts of everything a publication prints, and the sums that tie them together."""

    counts: dict[Key, int] = field(default_factory=dict)
    equations: list[Equation] = field(default_factory=list)

    def add(self, key: Key, n: int) -> Key:
        if n < 0:
            raise ValueError(f"a count cannot be negative: {key} = {n}")
        if key in self.counts and self.counts[key] != n:
            raise ValueError(f"{key} is printed twice with different values")
        self.counts[key] = int(n)
        return key

    def relate(self, total: Key, parts: Sequence[Key]) -> None:
        missing = [k for k in (total, *parts) if k not in self.counts]
        if missing:
            raise KeyError(f"add the cells before relating them: {missing}")
        if sum(self.counts[p] for p in parts) != self.counts[total]:
            raise ValueError(f"{total} is not the sum of its parts")
        self.equations.append(Equation(total, tuple(parts)))

    def one_way(self, name: str, counts: Mapping[str, int], total: Key | None = None) -> Key:
        """A breakdown of `total` (default `(name, "total")`) into categories; returns the total's key."""
        total = total or (name, "total")
        self.add(total, sum(counts.values()))
        parts = [self.add((name, str(k)), v) for k, v in counts.items()]
        if parts:
            self.relate(total, parts)
        return total

    def two_way(
        self,
        name: str,
        counts: Mapping[tuple[str, str], int],
        rows: Sequence[str],
        cols: Sequence[str],
        *,
        row_totals: Mapping[str, Key] | None = None,
        col_totals: Mapping[str, Key] | None = None,
        grand: Key | None = None,
    ) -> Key:
        """A rows x cols table with its margins; margins may be cells of another table (shared)."""
        row_totals = dict(row_totals or {})
        col_totals = dict(col_totals or {})
        grand = grand or (name, "*", "*")
        for r in rows:
            row_totals.setdefault(r, (name, r, "*"))
        for c in cols:
            col_totals.setdefault(c, (name, "*", c))
        for r in rows:
            for c in cols:
                self.add((name, r, c), counts.get((r, c), 0))
        for r in rows:
            self.add(row_totals[r], sum(counts.get((r, c), 0) for c in cols))
            self.relate(row_totals[r], [(name, r, c) for c in cols])
        for c in cols:
            self.add(col_totals[c], sum(counts.get((r, c), 0) for r in rows))
            self.relate(col_totals[c], [(name, r, c) for r in rows])
        self.add(grand, sum(counts.values()))
        self.relate(grand, [row_totals[r] for r in rows])
        self.relate(grand, [col_totals[c] for c in cols])
        return grand


@dataclass(frozen=True)
class Suppression:
    """The outcome of `suppress`: which counts are withheld, and why (primary or complementary)."""

    system: CellSystem
    primary: frozenset[Key]
    complementary: frozenset[Key]
    small_max: int = SMALL_CELL_MAX

    @property
    def withheld(self) -> frozenset[Key]:
        return self.primary | self.complementary

    def published(self) -> dict[Key, int | None]:
        """What a reader sees: the count, or None where it is withheld."""
        hidden = self.withheld
        return {k: (None if k in hidden else v) for k, v in self.system.counts.items()}

    def shown(self, key: Key) -> str:
        return SUPPRESSED if key in self.withheld else str(self.system.counts[key])

    def value(self, key: Key) -> int | None:
        return None if key in self.withheld else self.system.counts[key]


def _is_small(n: int, small_max: int) -> bool:
    return 0 < n <= small_max


def _simple_findings(
    system: CellSystem, hidden: set[Key], small_max: int
) -> list[tuple[Equation, Key | None]]:
    """Relations that give a withheld count away without any algebra (a fast path before the LP).

    A relation whose total is printed and that has exactly one withheld member pins that member; one
    whose withheld members add up to 1..10 gives away their sum (e.g. "the other languages: 7").
    """
    out: list[tuple[Equation, Key | None]] = []
    for eq in system.equations:
        members = (eq.total, *eq.parts)
        gone = [k for k in members if k in hidden]
        if not gone:
            continue
        if len(gone) == 1 and system.counts[gone[0]] > 0:
            out.append((eq, gone[0]))
            continue
        if eq.total not in hidden:
            rest = sum(system.counts[p] for p in eq.parts if p in hidden)
            if _is_small(rest, small_max):
                out.append((eq, None))
    return out


def _candidates(system: CellSystem, hidden: set[Key], equations: Iterable[Equation]) -> list[Key]:
    seen = {k for eq in equations for k in (eq.total, *eq.parts)}
    return [k for k in seen if k not in hidden and system.counts[k] > 0]


def _smallest(
    system: CellSystem, keys: Iterable[Key], hidden: set[Key], by_key: Mapping[Key, list[Equation]]
) -> Key | None:
    """Smallest value first (least information lost); among equal values, the count whose other
    relations already have a withheld member (it closes a cycle instead of opening a new line);
    then a stable order so the output is reproducible."""

    def rank(k: Key) -> tuple[int, int, Key]:
        touching = sum(any(m in hidden for m in (eq.total, *eq.parts)) for eq in by_key.get(k, []))
        return system.counts[k], -touching, k

    ordered = sorted(keys, key=rank)
    return ordered[0] if ordered else None


def _complement(
    system: CellSystem, hidden: set[Key], by_key: Mapping[Key, list[Equation]], target: Key | Equation
) -> Key | None:
    """The published count to withhold next to protect `target` (a withheld cell or a relation)."""
    equations = [target] if isinstance(target, Equation) else by_key.get(target, [])
    pick = _smallest(system, _candidates(system, hidden, equations), hidden, by_key)
    if pick is not None:
        return pick
    # Nothing left to withhold in its own relations: widen to relations of the withheld neighbours,
    # and in the end to any printed count, so every round makes progress.
    near = {e for eq in equations for k in (eq.total, *eq.parts) if k in hidden for e in by_key.get(k, [])}
    pick = _smallest(system, _candidates(system, hidden, near), hidden, by_key)
    if pick is not None:
        return pick
    return _smallest(
        system, (k for k, v in system.counts.items() if k not in hidden and v > 0), hidden, by_key
    )


def suppress(system: CellSystem, small_max: int = SMALL_CELL_MAX) -> Suppression:
    """Primary suppression of 1..small_max, then complementary suppression until `audit` passes.

    Terminates: every round withholds at least one more count, and once every non-zero count is
    withheld nothing can be pinned (all-zero is then a solution, so every lower bound is zero).
    """
    primary = {k for k, v in system.counts.items() if _is_small(v, small_max)}
    hidden = set(primary)
    by_key: dict[Key, list[Equation]] = defaultdict(list)
    for eq in system.equations:
        for k in (eq.total, *eq.parts):
            by_key[k].append(eq)
    while True:
        # The fast path first, one finding at a time (each pick may settle the next finding too).
        while simple := _simple_findings(system, hidden, small_max):
            pick = _complement(system, hidden, by_key, simple[0][0])
            if pick is None:
                break
            hidden.add(pick)
        findings = audit(_published(system, hidden), system.equations, small_max=small_max)
        if not findings:
            break
        progressed = False
        for f in findings:
            target: Key | Equation | None = f.key if f.equation is None else f.equation
            assert target is not None
            pick = _complement(system, hidden, by_key, target)
            if pick is not None and pick not in hidden:
                hidden.add(pick)
                progressed = True
        if not progressed:  # cannot happen by the argument above; never loop forever on a bug
            raise RuntimeError(f"suppression made no progress: {findings}")
    return Suppression(system, frozenset(primary), frozenset(hidden - primary), small_max)


def _published(system: CellSystem, hidden: set[Key]) -> dict[Key, int | None]:
    return {k: (None if k in hidden else v) for k, v in system.counts.items()}


def share_shown(part: int | None, whole: int | None, digits: int = 0) -> str:
    """A percentage, withheld ("*") when either count is withheld: it would give the count away."""
    if part is None or whole is None:
        return SUPPRESSED
    if whole == 0:
        return ""
    return f"{100 * part / whole:.{digits}f}%"


def stat_shown(value: float | None, n: int, small_max: int = SMALL_CELL_MAX, unit: str = " s") -> str:
    """A median or percentile of `n` values: withheld for 1..10 values (with one value, it is that
    person's value)."""
    if _is_small(n, small_max):
        return SUPPRESSED
    return "no data" if value is None else f"{value:.0f}{unit}"


__all__ = [
    "LEGEND",
    "SMALL_CELL_MAX",
    "SUPPRESSED",
    "CellSystem",
    "Equation",
    "Finding",
    "Key",
    "Suppression",
    "audit",
    "is_disclosed",
    "share_shown",
    "stat_shown",
    "suppress",
]
