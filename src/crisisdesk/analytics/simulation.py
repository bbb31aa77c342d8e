"""Discrete-event simulation of the transfer queue at the social worker's desk, many replications at once.

The model is the one `staffing` solves in closed form, without its restrictions: arrivals may follow
any schedule (the desk's real opening hours, a rate for every hour of the week), handle times need
not be exponential, and the patience may be a fixed claim deadline. One experiment is:

1. `draw_inputs` draws every random number up front: for each replication r and each transfer i its
   arrival time, handle time and patience (seconds). Padding past the last arrival is +inf.
2. `run_queue` plays the queue for a number of social workers, first come first served. A transfer
   is claimed exactly when the wait it is offered on arrival (the time until a social worker is free
   for it) is at most its patience; a transfer that falls back never occupies a social worker. So the
   offered wait depends only on earlier transfers, and one pass over the transfers in arrival order
   simulates the queue exactly (Kiefer-Wolfowitz workload vector: the time each social worker is next
   free). The pass is vectorised across replications with numpy.
3. `summarise` turns the waits into the measures of `staffing.QueueMetrics` plus percentiles, with a
   95% confidence half-width from the spread between replications.

Drawing the inputs once and running them for 1, 2, 3 ... social workers (common random numbers)
makes the difference between staffing levels far less noisy than independent runs, and lets another
engine (the SimPy baseline in bench/staffing.py) replay exactly the same transfers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

HandleKind = Literal["exponential", "lognormal", "fixed", "empirical"]
PatienceKind = Literal["none", "deadline", "exponential"]


@dataclass(frozen=True)
class HandleTime:
    """How long a social worker is busy with one transfer (call plus notes), in seconds.

    `exponential` (the Erlang assumption), `lognormal` with coefficient of variation `cv` (call
    durations are typically right-skewed), `fixed`, or `empirical`: resampled from `samples`
    (e.g. claim-to-completion times from the operational database); `mean` is then ignored.
    """

    mean: float
    kind: HandleKind = "exponential"
    cv: float = 1.0
    samples: tuple[float, ...] = ()

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if self.kind == "empirical":
            if not self.samples:
                raise ValueError("an empirical handle time needs samples")
            return rng.choice(np.asarray(self.samples, dtype=float), size=shape)
        if not self.mean > 0:
            raise ValueError("the mean handle time must be positive")
        if self.kind == "exponential":
            return rng.exponential(self.mean, size=shape)
        if self.kind == "fixed":
            return np.full(shape, float(self.mean))
        if self.kind == "lognormal":
            sigma2 = math.log1p(self.cv**2)
            return rng.lognormal(math.log(self.mean) - sigma2 / 2.0, math.sqrt(sigma2), size=shape)
        raise ValueError(f"unknown handle-time distribution {self.kind!r}")

    @property
    def expected(self) -> float:
        return float(np.mean(self.samples)) if self.kind == "empirical" else float(self.mean)


@dataclass(frozen=True)
class Patience:
    """How long a transfer waits for a claim before it falls back, in seconds.

    `deadline`: exactly `seconds` (MECC: the transfer times out and the telecommunicator offers the
    fallback); `exponential`: mean `seconds` (Erlang A); `none`: waits for ever (Erlang C).
    """

    kind: PatienceKind = "deadline"
    seconds: float = math.inf

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if self.kind == "none" or math.isinf(self.seconds):
            return np.full(shape, np.inf)
        if not self.seconds > 0:
            raise ValueError("patience must be positive")
        if self.kind == "deadline":
            return np.full(shape, float(self.seconds))
        if self.kind == "exponential":
            return rng.exponential(self.seconds, size=shape)
        raise ValueError(f"unknown patience model {self.kind!r}")


@dataclass(frozen=True)
class Slot:
    """The desk is open from `start` to `end` (seconds from the start of the period) and transfers
    arrive at `rate_per_hour` (a Poisson process) meanwhile."""

    start: float
    end: float
    rate_per_hour: float


@dataclass(frozen=True)
class SimInputs:
    """Every random number of one experiment; rows are replications, columns transfers in arrival
    order, padded with +inf arrival times (and zero handle times) past each row's last transfer."""

    arrival: np.ndarray
    handle: np.ndarray
    patience: np.ndarray
    counts: np.ndarray  # transfers per replication
    open_seconds: float  # how long the desk is open in the period (for utilisation)

    @property
    def replications(self) -> int:
        return int(self.arrival.shape[0])


def poisson_arrivals(
    slots: Sequence[Slot], replications: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times of a Poisson process with a piecewise-constant rate: per slot a Poisson count,
    placed uniformly in the slot. Returns (times (R, N) sorted and +inf padded, counts (R,))."""
    if replications < 1:
        raise ValueError("at least one replication is needed")
    if not slots:
        return np.full((replications, 0), np.inf), np.zeros(replications, dtype=np.int64)
    starts = np.array([s.start for s in slots], dtype=float)
    lengths = np.array([s.end - s.start for s in slots], dtype=float)
    rates = np.array([s.rate_per_hour for s in slots], dtype=float) / 3600.0
    if (lengths < 0).any() or (rates < 0).any():
        raise ValueError("slots need end >= start and a non-negative rate")
    per_slot = rng.poisson(rates * lengths, size=(replications, len(slots)))
    counts = per_slot.sum(axis=1)
    width = int(counts.max()) if counts.size else 0
    times = np.full((replications, width), np.inf)
    flat_slot = np.repeat(np.tile(np.arange(len(slots)), replications), per_slot.ravel())
    flat_time = starts[flat_slot] + rng.random(flat_slot.size) * lengths[flat_slot]
    rows = np.repeat(np.arange(replications), counts)
    # Column of each transfer within its row: position after the row's start offset.
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    cols = np.arange(flat_slot.size) - np.repeat(offsets, counts)
    times[rows, cols] = flat_time
    times.sort(axis=1)  # +inf padding stays at the end
    return times, counts


def draw_inputs(
    slots: Sequence[Slot],
    handle: HandleTime,
    patience: Patience,
    replications: int,
    seed: int | np.random.Generator | None = 0,
    arrival_times: np.ndarray | None = None,
) -> SimInputs:
    """Draw one experiment. Arrivals come from `slots` (Poisson), or, when `arrival_times` is given
    (seconds, e.g. the real transfer times of a history), the same times in every replication; the
    slots then only give the open time."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if arrival_times is None:
        arrival, counts = poisson_arrivals(slots, replications, rng)
    else:
        one = np.sort(np.asarray(arrival_times, dtype=float))
        arrival = np.tile(one, (replications, 1))
        counts = np.full(replications, one.size, dtype=np.int64)
    shape = arrival.shape
    valid = np.isfinite(arrival)
    handle_s = np.where(valid, handle.draw(rng, shape), 0.0)
    patience_s = patience.draw(rng, shape)
    open_seconds = float(sum(s.end - s.start for s in slots))
    return SimInputs(arrival, handle_s, patience_s, counts, open_seconds)


@dataclass(frozen=True)
class QueueRun:
    """Outcome of each transfer: `wait` is the time to the claim, or to the fallback for a transfer
    that was never claimed (its patience); `answered` says which; NaN/False for padding."""

    servers: int
    wait: np.ndarray
    answered: np.ndarray
    valid: np.ndarray


def run_queue(inputs: SimInputs, servers: int) -> QueueRun:
    """Play the FCFS queue with reneging for `servers` social workers, all replications at once.

    free[r, k] is when social worker k of replication r is next free. Transfer i arriving at a is
    offered the wait w = max(0, min_k free - a); it is claimed iff w <= its patience, and then the
    earliest-free social worker is busy until a + w + handle.
    """
    if servers < 1:
        raise ValueError("at least one social worker is needed")
    arrival, handle, patience = inputs.arrival, inputs.handle, inputs.patience
    reps, n = arrival.shape
    offered = np.empty((reps, n))
    answered = np.zeros((reps, n), dtype=bool)
    free = np.zeros((reps, servers))
    rows = np.arange(reps)
    # Padding (+inf arrivals) gives inf - inf = NaN offered waits, which compare False: never claimed.
    with np.errstate(invalid="ignore"):
        if servers == 1:
            free1 = free[:, 0]
            for i in range(n):
                a = arrival[:, i]
                start = np.maximum(a, free1)
                w = start - a
                ok = w <= patience[:, i]
                free1 = np.where(ok, start + handle[:, i], free1)
                offered[:, i] = w
                answered[:, i] = ok
        else:
            for i in range(n):
                a = arrival[:, i]
                k = free.argmin(axis=1)
                first = free[rows, k]
                start = np.maximum(a, first)
                w = start - a
                ok = w <= patience[:, i]
                free[rows, k] = np.where(ok, start + handle[:, i], first)
                offered[:, i] = w
                answered[:, i] = ok
    valid = np.isfinite(arrival)
    wait = np.where(answered, offered, np.minimum(offered, patience))
    wait[~valid] = np.nan
    return QueueRun(servers, wait, answered, valid)


@dataclass(frozen=True)
class SimResult:
    """Measures over all replications (pooled), named as in `staffing.QueueMetrics`.

    `wait_percentiles` are of the time to claim of answered transfers (q -> seconds). `ci95` gives
    the 95% confidence half-width of p_wait, p_abandon, mean_wait and each answered-within share,
    from the spread of the per-replication values (t ~ 1.96; replications are independent).
    """

    servers: int
    replications: int
    transfers_per_replication: float
    p_wait: float
    p_abandon: float
    mean_wait: float
    mean_wait_answered: float
    utilisation: float
    answered_within: dict[float, float]
    wait_percentiles: dict[float, float]
    ci95: dict[str, float] = field(default_factory=dict)


def _half_width(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if values.size < 2:
        return math.nan
    return float(1.96 * values.std(ddof=1) / math.sqrt(values.size))


def summarise(
    run: QueueRun,
    inputs: SimInputs,
    within: Sequence[float] = (),
    percentiles: Sequence[float] = (50.0, 90.0, 95.0),
) -> SimResult:
    """Pool the replications of one run into a `SimResult` (waits in seconds)."""
    valid, answered, wait = run.valid, run.answered, run.wait
    n = valid.sum(axis=1).astype(float)
    total = float(n.sum())
    per_rep_n = np.where(n > 0, n, np.nan)  # a replication without transfers has no shares
    waited = valid & (np.nan_to_num(wait) > 0)
    fell_back = valid & ~answered
    wait0 = np.where(valid, wait, 0.0)
    answered_wait = np.where(answered, wait, 0.0)
    n_answered = float(answered.sum())
    busy = float(np.where(answered, inputs.handle, 0.0).sum())
    within_share = {}
    ci: dict[str, float] = {}
    for t in within:
        hits = answered & (np.where(answered, wait, np.inf) <= t)
        within_share[float(t)] = float(hits.sum()) / total if total else 1.0
        ci[f"answered_within_{t:g}"] = _half_width(hits.sum(axis=1) / per_rep_n)
    ci["p_wait"] = _half_width(waited.sum(axis=1) / per_rep_n)
    ci["p_abandon"] = _half_width(fell_back.sum(axis=1) / per_rep_n)
    ci["mean_wait"] = _half_width(wait0.sum(axis=1) / per_rep_n)
    answered_waits = wait[answered]
    pct = (
        dict(
            zip(
                map(float, percentiles),
                np.percentile(answered_waits, list(percentiles)).tolist(),
                strict=True,
            )
        )
        if answered_waits.size
        else {float(q): math.nan for q in percentiles}
    )
    capacity = run.servers * inputs.open_seconds * inputs.replications
    return SimResult(
        servers=run.servers,
        replications=inputs.replications,
        transfers_per_replication=total / inputs.replications,
        p_wait=float(waited.sum()) / total if total else 0.0,
        p_abandon=float(fell_back.sum()) / total if total else 0.0,
        mean_wait=float(wait0.sum()) / total if total else 0.0,
        mean_wait_answered=float(answered_wait.sum()) / n_answered if n_answered else math.nan,
        utilisation=busy / capacity if capacity > 0 else math.nan,
        answered_within=within_share,
        wait_percentiles=pct,
        ci95=ci,
    )


def simulate(
    slots: Sequence[Slot],
    handle: HandleTime,
    patience: Patience,
    servers: int | Sequence[int],
    replications: int = 100,
    seed: int | None = 0,
    within: Sequence[float] = (),
    percentiles: Sequence[float] = (50.0, 90.0, 95.0),
) -> list[SimResult]:
    """One experiment (common random numbers) played for each staffing level in `servers`."""
    levels = [servers] if isinstance(servers, int) else list(servers)
    inputs = draw_inputs(slots, handle, patience, replications, seed)
    return [summarise(run_queue(inputs, c), inputs, within, percentiles) for c in levels]


def stationary_slots(rate_per_hour: float, hours: float) -> list[Slot]:
    """One open period of `hours` at a constant rate: the setting where Erlang C/A apply."""
    return [Slot(0.0, hours * 3600.0, rate_per_hour)]
