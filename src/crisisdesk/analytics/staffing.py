"""Closed-form staffing of the social worker's desk: Erlang C, Erlang A and the claim-deadline queue.

The desk is a queue. Transfers from the telecommunicators are the arrivals (Poisson, rate `lam`),
the social workers on shift are the `servers`, and a social worker is busy with a transfer for its
handle time (the call plus the notes; exponential with mean `handle`). A transfer waits, first come
first served, until a social worker claims it.

Three models differ only in how long a telecommunicator holds a transfer before giving up on it
(the fallback: mobile crisis, 988, a callback):

* `erlang_c`  (M/M/c): nobody ever gives up. The textbook model, and an upper bound on waiting.
* `erlang_a`  (M/M/c+M): each transfer gives up after an exponential patience with mean `patience`.
  Solved exactly from the birth-death chain of the number of transfers at the desk.
* `deadline`  (M/M/c+D): every transfer gives up after exactly `patience`. This is the MECC rule (an
  unclaimed transfer times out after `transfer_timeout_seconds` and the fallback is offered), so it
  is the model to plan with; Erlang A is its customary exponential stand-in.

All three return a `QueueMetrics`. Times are in any one unit, the caller's choice: rates per that
unit, waits and thresholds in that unit (planning uses minutes). "Wait" is the time from the
transfer to its claim; for a transfer that falls back it is the time until it fell back.

Service levels use the offered-wait ("virtual waiting time") result of Baccelli and Hebuterne (1981)
for M/M/c+G, as presented by Zeltyn and Mandelbaum (2005): all servers are busy while the offered
wait V is positive, and its density is f(x) = lam * p[c-1] * exp(lam * H(x) - c * mu * x), where
p[c-1] is the probability that exactly c-1 servers are busy and H(x) = integral_0^x P(patience > u) du.
A transfer is answered within t exactly when V <= t and V <= its patience.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.legendre import leggauss

# Quadrature for the service level of Erlang A: Gauss-Legendre on sub-intervals. The integrand is
# smooth (a product of exponentials), so a few panels of 32 nodes give ~1e-12 relative accuracy.
_GL_NODES, _GL_WEIGHTS = leggauss(32)
# The birth-death chain is cut where the stationary probabilities fall below exp(-_LOG_CUTOFF) of
# their peak; the probability mass beyond the cut is far below double precision.
_LOG_CUTOFF = 45.0
_MAX_STATES = 5_000_000


@dataclass(frozen=True)
class QueueMetrics:
    """Long-run measures of one staffing level; probabilities are shares of all transfers.

    `answered_within` maps a threshold t to the share of transfers claimed within t (a transfer that
    falls back is never "answered within"). `mean_wait` is over all transfers (for a fallback, the
    time until it fell back); `mean_wait_answered` only over the claimed ones. `utilisation` is the
    share of the social workers' time spent on transfers. `stable` is False only for Erlang C with
    an offered load at or above the number of servers: the queue then grows without bound, waits
    are infinite and nothing is answered within any finite time.
    """

    model: str
    servers: int
    arrival_rate: float
    handle: float
    patience: float  # math.inf for Erlang C
    offered_load: float  # Erlangs: arrival_rate * handle
    p_wait: float  # P(a transfer is not claimed at once)
    p_abandon: float  # P(a transfer falls back before a claim)
    mean_wait: float
    mean_wait_answered: float
    utilisation: float
    answered_within: dict[float, float]
    stable: bool = True


def _check(lam: float, handle: float, servers: int) -> None:
    if servers < 1 or int(servers) != servers:
        raise ValueError("servers must be a positive whole number")
    if not (lam >= 0 and math.isfinite(lam)):
        raise ValueError("the arrival rate must be finite and non-negative")
    if not (handle > 0 and math.isfinite(handle)):
        raise ValueError("the mean handle time must be positive and finite")


def _no_transfers(
    model: str, servers: int, handle: float, patience: float, within: tuple[float, ...]
) -> QueueMetrics:
    """A period with no transfers: nobody waits (kept explicit so rates of zero need no special case)."""
    return QueueMetrics(
        model=model,
        servers=servers,
        arrival_rate=0.0,
        handle=handle,
        patience=patience,
        offered_load=0.0,
        p_wait=0.0,
        p_abandon=0.0,
        mean_wait=0.0,
        mean_wait_answered=0.0,
        utilisation=0.0,
        answered_within=dict.fromkeys(within, 1.0),
    )


def erlang_b(servers: int, load: float) -> float:
    """Erlang B: blocking probability of c servers with `load` Erlangs (stable recursion)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(
    lam: float, handle: float, servers: int, within: tuple[float, ...] = (), patience: float = math.inf
) -> QueueMetrics:
    """M/M/c: probability of waiting C(c, a), mean wait C / (c mu - lam), P(W <= t) = 1 - C e^{-(c mu - lam) t}.

    `patience` is ignored (reported as infinite); it is a parameter only so that the three models
    share one signature.
    """
    _check(lam, handle, servers)
    a = lam * handle
    mu = 1.0 / handle
    if a >= servers:
        return QueueMetrics(
            model="erlang_c",
            servers=servers,
            arrival_rate=lam,
            handle=handle,
            patience=math.inf,
            offered_load=a,
            p_wait=1.0,
            p_abandon=0.0,
            mean_wait=math.inf,
            mean_wait_answered=math.inf,
            utilisation=1.0,
            answered_within=dict.fromkeys(within, 0.0),
            stable=False,
        )
    b = erlang_b(servers, a)
    rho = a / servers
    c_prob = b / (1.0 - rho * (1.0 - b))
    drain = servers * mu - lam
    mean_wait = c_prob / drain
    return QueueMetrics(
        model="erlang_c",
        servers=servers,
        arrival_rate=lam,
        handle=handle,
        patience=math.inf,
        offered_load=a,
        p_wait=c_prob,
        p_abandon=0.0,
        mean_wait=mean_wait,
        mean_wait_answered=mean_wait,
        utilisation=rho,
        answered_within={t: 1.0 - c_prob * math.exp(-drain * t) for t in within},
    )


def _log_stationary(lam: float, mu: float, theta: float, servers: int) -> np.ndarray:
    """log of the unnormalised stationary distribution of the M/M/c+M chain, states 0..N.

    Birth rate lam; death rate n*mu below c and c*mu + (n-c)*theta from c on. Above c the ratio
    pi[n+1]/pi[n] = lam / (c mu + (n+1-c) theta) eventually drops below 1 and keeps falling, so the
    tail is cut once it is exp(-_LOG_CUTOFF) below the peak.
    """
    n = np.arange(servers + 1)
    # log(a^n / n!) for n = 0..c (lam > 0).
    low = n * math.log(lam / mu) - np.array([math.lgamma(k + 1) for k in n])
    # Queue part: k waiting transfers, k = 1..K.
    k_turn = max(0.0, (lam - servers * mu) / theta)  # beyond this the terms decrease
    k_max = int(k_turn) + 64
    while True:
        if k_max > _MAX_STATES:
            raise ValueError("patience too long for the overload: the queue would hold millions of transfers")
        k = np.arange(1, k_max + 1)
        steps = np.log(lam / (servers * mu + k * theta))
        queue = low[-1] + np.cumsum(steps)
        peak = max(float(low.max()), float(queue.max()))
        if queue[-1] < peak - _LOG_CUTOFF and steps[-1] < 0:
            return np.concatenate([low, queue])
        k_max *= 2


def erlang_a(
    lam: float, handle: float, servers: int, patience: float, within: tuple[float, ...] = ()
) -> QueueMetrics:
    """M/M/c+M (Palm's Erlang A), exact: stationary distribution of the birth-death chain.

    By PASTA an arriving transfer sees the stationary state: P(wait) = P(N >= c). Abandonment by
    Little's law on the queue: P(abandon) = theta E[Q] / lam and mean wait over all transfers
    E[Q] / lam. Answered-within-t integrates the offered-wait density (module docstring) against the
    transfer's own survival exp(-theta x). A very long patience tends to Erlang C when that is stable.
    """
    _check(lam, handle, servers)
    if not patience > 0:
        raise ValueError("the mean patience must be positive (use erlang_c for no abandonment)")
    if math.isinf(patience):
        return erlang_c(lam, handle, servers, within)
    mu, theta = 1.0 / handle, 1.0 / patience
    if lam == 0:
        return _no_transfers("erlang_a", servers, handle, patience, within)
    logp = _log_stationary(lam, mu, theta, servers)
    log_norm = float(np.logaddexp.reduce(logp))
    p = np.exp(logp - log_norm)
    queue_len = np.maximum(np.arange(p.size) - servers, 0)
    p_wait = float(p[servers:].sum())
    mean_q = float((queue_len * p).sum())
    p_abandon = theta * mean_q / lam
    mean_wait = mean_q / lam
    p_answered = 1.0 - p_abandon
    log_head = math.log(lam) + float(logp[servers - 1]) - log_norm  # log(lam p[c-1])

    def log_density(x: np.ndarray) -> np.ndarray:
        """log of f(x) e^{-theta x}: offered wait x, and the transfer still holding at x."""
        return log_head + lam * (-np.expm1(-theta * x)) / theta - (servers * mu + theta) * x

    def density(x: np.ndarray) -> np.ndarray:
        return np.exp(log_density(x))

    # The log-density is concave with its peak at x_peak; past it, it falls at least at rate
    # (c mu + theta) - lam e^{-theta x}. Integrate up to where the rest is below e^-50.
    decay = servers * mu + theta
    x_peak = math.log(lam / decay) / theta if lam > decay else 0.0
    step = 1.0 / decay
    hi = x_peak + step
    while float(log_density(np.array([hi]))[0]) - math.log(decay) > -50.0:
        step *= 2.0
        hi = x_peak + step
    # Two routes to P(answered) must agree: the chain's 1 - P(abandon), and P(no wait) plus the
    # integral of the density. Refine the quadrature until they do (a narrow peak far out needs it).
    panels = 64
    while abs((1.0 - p_wait) + _integrate(density, 0.0, hi, panels) - p_answered) > 1e-10 and panels < 2**16:
        panels *= 4
    # E[V ; answered] = integral of x f(x) e^{-theta x}; the answered share within t likewise.
    wait_answered = _integrate(lambda x: x * density(x), 0.0, hi, panels)
    answered = {t: (1.0 - p_wait) + _integrate(density, 0.0, min(t, hi), panels) for t in within}
    busy = lam * p_answered * handle
    return QueueMetrics(
        model="erlang_a",
        servers=servers,
        arrival_rate=lam,
        handle=handle,
        patience=patience,
        offered_load=lam * handle,
        p_wait=p_wait,
        p_abandon=p_abandon,
        mean_wait=mean_wait,
        mean_wait_answered=wait_answered / p_answered if p_answered > 0 else math.inf,
        utilisation=busy / servers,
        answered_within={t: min(1.0, v) for t, v in answered.items()},
    )


def _integrate(func: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, panels: int = 64) -> float:
    """Composite Gauss-Legendre quadrature of a vectorised smooth function on [lo, hi]."""
    if hi <= lo:
        return 0.0
    edges = np.linspace(lo, hi, panels + 1)
    mid = (edges[1:] + edges[:-1]) / 2.0
    half = (edges[1:] - edges[:-1]) / 2.0
    x = mid[:, None] + half[:, None] * _GL_NODES[None, :]
    return float((func(x) * _GL_WEIGHTS[None, :] * half[:, None]).sum())


def deadline(
    lam: float, handle: float, servers: int, patience: float, within: tuple[float, ...] = ()
) -> QueueMetrics:
    """M/M/c+D: every transfer falls back after exactly `patience` without a claim (the MECC timeout).

    With delta = lam - c mu and the offered-wait density f(x) = lam p[c-1] e^{delta x} for x < D and
    lam p[c-1] e^{delta D - c mu (x - D)} beyond, everything is closed form:
    P(wait) = lam p[c-1] J, J = g(D) + e^{delta D} / (c mu), g(y) = (e^{delta y} - 1) / delta;
    P(abandon) = P(V > D) = lam p[c-1] e^{delta D} / (c mu);
    answered within t = P(V = 0) + lam p[c-1] g(min(t, D)).
    p[c-1] follows from normalisation with p[j] proportional to a^j / j! for j < c.
    """
    _check(lam, handle, servers)
    if not patience > 0:
        raise ValueError("the claim deadline must be positive")
    if math.isinf(patience):
        return erlang_c(lam, handle, servers, within)
    if lam == 0:
        return _no_transfers("deadline", servers, handle, patience, within)
    mu = 1.0 / handle
    a = lam * handle
    c, d = servers, patience
    delta = lam - c * mu
    # Work relative to p[c-1] to avoid overflow: r[j] = p[j] / p[c-1] = (c-1)! / j! * a^(j-c+1).
    j = np.arange(c)
    log_r = (j - (c - 1)) * math.log(a) + math.lgamma(c) - np.array([math.lgamma(k + 1) for k in j])
    # Scale everything by e^{-max(delta D, 0)} so the exponentials stay below 1.
    shift = max(delta * d, 0.0)
    r_sum = float(np.exp(log_r - shift).sum())  # sum_j r[j], scaled
    g_d = _g(delta, d, shift)  # g(D) * e^{-shift}
    tail = math.exp(delta * d - shift) / (c * mu)  # e^{delta D} / (c mu), scaled
    norm = r_sum + lam * (g_d + tail)  # (sum_j p[j] + P(V > 0)) / p[c-1], scaled
    p_wait = lam * (g_d + tail) / norm
    p_abandon = lam * tail / norm
    # E[min(V, D)] = integral_0^D P(V > x) dx, P(V > x) = lam p[c-1] (e^{delta D}/(c mu) + g(D) - g(x)).
    int_g = _int_g(delta, d, shift)  # integral_0^D g(x) dx, scaled
    mean_wait = lam * (d * (tail + g_d) - int_g) / norm
    # E[V ; V <= D] = integral_0^D x f(x) dx = lam p[c-1] * (D g(D) - integral_0^D g).
    wait_answered_total = lam * (d * g_d - int_g) / norm
    p_answered = 1.0 - p_abandon
    answered = {t: (1.0 - p_wait) + lam * _g(delta, min(t, d), shift) / norm for t in within}
    return QueueMetrics(
        model="deadline",
        servers=servers,
        arrival_rate=lam,
        handle=handle,
        patience=patience,
        offered_load=a,
        p_wait=p_wait,
        p_abandon=p_abandon,
        mean_wait=mean_wait,
        mean_wait_answered=wait_answered_total / p_answered if p_answered > 0 else math.inf,
        utilisation=lam * p_answered * handle / c,
        answered_within=answered,
    )


def _g(delta: float, y: float, shift: float) -> float:
    """(e^{delta y} - 1) / delta times e^{-shift}; y at the delta -> 0 limit."""
    z = delta * y
    if abs(z) < 1e-8:
        return y * (1.0 + z / 2.0) * math.exp(-shift)
    return (math.exp(z - shift) - math.exp(-shift)) / delta


def _int_g(delta: float, d: float, shift: float) -> float:
    """integral_0^D (e^{delta x} - 1) / delta dx = (e^{delta D} - 1 - delta D) / delta^2, times e^{-shift}."""
    z = delta * d
    if abs(z) < 1e-4:
        return d * d * (0.5 + z / 6.0 + z * z / 24.0) * math.exp(-shift)
    return (math.exp(z - shift) - math.exp(-shift) * (1.0 + z)) / (delta * delta)


MODELS: dict[str, Callable[..., QueueMetrics]] = {
    "erlang_c": erlang_c,
    "erlang_a": erlang_a,
    "deadline": deadline,
}


def servers_for_target(
    lam: float,
    handle: float,
    target_within: float,
    target_share: float,
    model: str = "erlang_c",
    patience: float = math.inf,
    max_servers: int = 100,
) -> int:
    """The fewest social workers for which at least `target_share` of transfers are answered within
    `target_within` under `model` (e.g. 80% within 1 minute). Raises ValueError if `max_servers` is
    not enough."""
    func = MODELS[model]
    for c in range(1, max_servers + 1):
        m = func(lam, handle, c, patience=patience, within=(target_within,))
        if m.stable and m.answered_within[target_within] >= target_share:
            return c
    raise ValueError(f"more than {max_servers} servers would be needed")
