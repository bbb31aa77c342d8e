"""Closed-form staffing: Erlang C against textbook values, Erlang A and the claim-deadline queue
against independent computations and their limiting cases."""

from __future__ import annotations

import math

import pytest

from crisisdesk.analytics.staffing import (
    deadline,
    erlang_a,
    erlang_b,
    erlang_c,
    servers_for_target,
)

pytestmark = pytest.mark.analytics


def test_erlang_b_table_value() -> None:
    # Erlang B tables: 10 Erlangs on 10 trunks block 21.46% of calls.
    assert erlang_b(10, 10.0) == pytest.approx(0.21458, abs=5e-5)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_erlang_c_call_centre_textbook_example() -> None:
    # The classic call-centre example: 100 calls per 30 minutes, 180 s handle time = 10 Erlangs,
    # 11 agents: P(wait) = 68.21%, average speed of answer C * AHT / (N - A) = 122.8 s, and
    # 1 - C exp(-(N - A) t / AHT) = 38.96% answered within 20 s.
    m = erlang_c(lam=100 / 1800, handle=180.0, servers=11, within=(20.0,))
    assert m.offered_load == pytest.approx(10.0)
    assert m.p_wait == pytest.approx(0.6821, abs=1e-4)
    assert m.mean_wait == pytest.approx(122.8, abs=0.1)
    assert m.answered_within[20.0] == pytest.approx(0.3896, abs=1e-4)
    assert m.utilisation == pytest.approx(10 / 11)


def test_erlang_c_single_and_two_servers_by_hand() -> None:
    # M/M/1: P(wait) = rho, mean wait = rho / (mu - lam). lam = 3/h, 15 min: rho = 0.75, W = 0.75 h.
    m1 = erlang_c(lam=3.0, handle=0.25, servers=1)
    assert m1.p_wait == pytest.approx(0.75)
    assert m1.mean_wait == pytest.approx(0.75 / (4 - 3))
    # M/M/2: C = 2 rho^2 / (1 + rho). a = 1.5 Erlangs, rho = 0.75: C = 1.125 / 1.75.
    m2 = erlang_c(lam=6.0, handle=0.25, servers=2)
    assert m2.p_wait == pytest.approx(1.125 / 1.75)
    assert m2.mean_wait == pytest.approx((1.125 / 1.75) / (8 - 6))


def test_erlang_c_overload_is_unstable_not_an_error() -> None:
    m = erlang_c(lam=5.0, handle=0.25, servers=1, within=(0.1,))
    assert not m.stable
    assert m.mean_wait == math.inf
    assert m.answered_within == {0.1: 0.0}


def _erlang_a_by_products(
    lam: float, mu: float, theta: float, c: int, states: int = 4000
) -> tuple[float, float]:
    """P(wait), P(abandon) of M/M/c+M by summing the birth-death products in plain Python."""
    weights = [1.0]
    for n in range(1, states):
        death = min(n, c) * mu + max(n - c, 0) * theta
        weights.append(weights[-1] * lam / death)
    total = sum(weights)
    p = [w / total for w in weights]
    p_wait = sum(p[c:])
    mean_q = sum((n - c) * pn for n, pn in enumerate(p) if n > c)
    return p_wait, theta * mean_q / lam


@pytest.mark.parametrize(
    ("lam", "handle", "c", "patience"), [(0.0588, 15.0, 1, 10.0), (0.2, 15.0, 2, 1.5), (1.0, 2.0, 3, 4.0)]
)
def test_erlang_a_matches_the_chain_summed_by_hand(
    lam: float, handle: float, c: int, patience: float
) -> None:
    m = erlang_a(lam, handle, c, patience)
    p_wait, p_abandon = _erlang_a_by_products(lam, 1 / handle, 1 / patience, c)
    assert m.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert m.p_abandon == pytest.approx(p_abandon, rel=1e-9)


def test_erlang_a_published_reference_values() -> None:
    # reference/performance.md section 4: 30 transfers per 8.5 h, 15 min handle, 10 min mean patience.
    lam = 30 / 510
    expected = {1: (0.5604, 0.3648, 3.648), 2: (0.2123, 0.1003, 1.003), 3: (0.0583, 0.0214, 0.214)}
    for c, (p_wait, p_abandon, mean_wait) in expected.items():
        m = erlang_a(lam, 15.0, c, 10.0)
        assert (m.p_wait, m.p_abandon, m.mean_wait) == pytest.approx((p_wait, p_abandon, mean_wait), abs=6e-4)


def test_erlang_a_with_patience_equal_to_handle_is_an_infinite_server_queue() -> None:
    # theta = mu makes every state's death rate n mu: the number at the desk is Poisson(a).
    lam, handle, c = 2.0, 1.0, 3
    m = erlang_a(lam, handle, c, patience=handle, within=(1e9,))
    poisson = [math.exp(-lam) * lam**n / math.factorial(n) for n in range(80)]
    assert m.p_wait == pytest.approx(sum(poisson[c:]), rel=1e-9)
    mean_q = sum((n - c) * p for n, p in enumerate(poisson) if n > c)
    assert m.p_abandon == pytest.approx(mean_q / lam, rel=1e-9)  # theta E[Q] / lam with theta = 1


def test_erlang_a_offered_wait_density_agrees_with_the_chain() -> None:
    # Two independent routes: P(answered) from the birth-death chain (1 - P(abandon)) and from
    # integrating the offered-wait density to infinity must coincide; likewise the overloaded case.
    for lam, c in ((0.0588, 1), (0.4, 2), (3.0, 2)):
        m = erlang_a(lam, 15.0 if lam < 1 else 1.0, c, patience=10.0 if lam < 1 else 0.5, within=(1e9,))
        assert m.answered_within[1e9] == pytest.approx(1 - m.p_abandon, abs=1e-9)


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    for c in (1, 2, 3):
        c_model = erlang_c(0.0588, 15.0, c, within=(5.0,))
        a_model = erlang_a(0.0588, 15.0, c, patience=1e11, within=(5.0,))
        assert a_model.p_wait == pytest.approx(c_model.p_wait, rel=1e-5)
        assert a_model.mean_wait == pytest.approx(c_model.mean_wait, rel=1e-5)
        assert a_model.answered_within[5.0] == pytest.approx(c_model.answered_within[5.0], rel=1e-5)
    assert erlang_a(0.0588, 15.0, 2, patience=math.inf) == erlang_c(0.0588, 15.0, 2)


def test_erlang_a_stays_finite_when_overloaded() -> None:
    # 3 Erlangs on one social worker: Erlang C has no steady state, abandonment keeps one.
    m = erlang_a(lam=0.2, handle=15.0, servers=1, patience=1.5, within=(1.0,))
    assert 0.6 < m.p_abandon < 1.0
    assert m.utilisation < 1.0
    assert m.utilisation == pytest.approx(0.2 * (1 - m.p_abandon) * 15.0)


def test_deadline_single_server_matches_barrer() -> None:
    # M/M/1 with a fixed deadline D (Barrer 1957): P(abandon) = (1 - rho) rho e^{-(mu - lam) D} /
    # (1 - rho^2 e^{-(mu - lam) D}).
    lam, mu, d = 3.0, 4.0, 0.25
    rho, e = lam / mu, math.exp(-(mu - lam) * d)
    m = deadline(lam, 1 / mu, 1, d, within=(d, 2 * d))
    assert m.p_abandon == pytest.approx((1 - rho) * rho * e / (1 - rho**2 * e), rel=1e-12)
    # Everyone not fallen back was answered within the deadline.
    assert m.answered_within[d] == pytest.approx(1 - m.p_abandon)
    assert m.answered_within[2 * d] == pytest.approx(1 - m.p_abandon)


def test_deadline_limits() -> None:
    # A deadline far beyond any wait is Erlang C; lam -> delta = 0 (c mu = lam) has no singularity.
    c_model = erlang_c(0.0588, 15.0, 2, within=(3.0,))
    d_model = deadline(0.0588, 15.0, 2, patience=1e5, within=(3.0,))
    assert d_model.p_wait == pytest.approx(c_model.p_wait, rel=1e-9)
    assert d_model.mean_wait == pytest.approx(c_model.mean_wait, rel=1e-9)
    assert d_model.answered_within[3.0] == pytest.approx(c_model.answered_within[3.0], rel=1e-9)
    near = deadline(2.0, 1.0, 2, patience=0.5)
    at = deadline(2.0 * (1 + 1e-10), 1.0, 2, patience=0.5)
    assert at.p_abandon == pytest.approx(near.p_abandon, rel=1e-6)
    assert at.mean_wait == pytest.approx(near.mean_wait, rel=1e-6)
    # However overloaded (15 Erlangs on one social worker), nobody waits longer than the deadline,
    # and every transfer not fallen back was answered within it.
    heavy = deadline(1.0, 15.0, 1, patience=1.5, within=(1.5,))
    assert heavy.mean_wait < 1.5 and heavy.mean_wait_answered < 1.5
    assert heavy.answered_within[1.5] == pytest.approx(1 - heavy.p_abandon)


def test_no_transfers_means_nobody_waits() -> None:
    for func in (erlang_a, deadline):
        m = func(0.0, 15.0, 1, 1.5, within=(1.0,))
        assert (m.p_wait, m.p_abandon, m.answered_within[1.0]) == (0.0, 0.0, 1.0)


def test_servers_for_target() -> None:
    # 10 Erlangs, 80% within 20 s with 180 s calls: the textbook answer is 14 agents (13 give 72%).
    assert servers_for_target(100 / 1800, 180.0, 20.0, 0.80) == 14
    assert erlang_c(100 / 1800, 180.0, 13, within=(20.0,)).answered_within[20.0] < 0.80


@pytest.mark.parametrize("bad", [{"servers": 0}, {"handle": 0.0}, {"lam": -1.0}])
def test_invalid_inputs_are_refused(bad: dict[str, float]) -> None:
    args: dict[str, float] = {"lam": 1.0, "handle": 1.0, "servers": 2}
    args.update(bad)
    with pytest.raises(ValueError):
        erlang_c(args["lam"], args["handle"], int(args["servers"]))
