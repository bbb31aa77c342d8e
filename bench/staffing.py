"""`python -m bench.staffing`: the transfer-queue simulation against SimPy and the closed forms.

The scenario is the one of reference/performance.md section 4, so the numbers compare with it:
Poisson transfers at 30 per 8.5-hour weekday shift, one year = 261 shifts back to back (about 7,830
transfers per replication), exponential handle time with mean 15 min, first come first served,
100 replications; c = 1, 2, 3 social workers; three patience models: none (Erlang C), exponential
with mean 10 min (Erlang A), and the MECC claim deadline of 90 s (M/M/c+D).

For each configuration:
* `numpy`: crisisdesk.analytics.simulation (draw once, replay for c = 1..3), median of 3 runs;
* `simpy`: a SimPy model of the same queue (`Resource` + `request | timeout(patience)`) replaying
  exactly the same random numbers, one run; its per-transfer waits must equal the numpy ones;
* the closed form (staffing.erlang_c / erlang_a / deadline) and the deviation of the simulated
  P(wait), P(abandon), mean wait and answered-within-60 s from it, in standard errors.

Targets (docs/DESIGN): one year x 100 replications well under 5 s; faster than SimPy; agreement
with the closed form within sampling error. Results: bench/results/staffing.{json,md}.
`--simpy-replications N` replays only the first N replications in SimPy (time scaled up to 100).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from crisisdesk.analytics.simulation import (
    HandleTime,
    Patience,
    SimInputs,
    draw_inputs,
    run_queue,
    stationary_slots,
    summarise,
)
from crisisdesk.analytics.staffing import MODELS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

RATE_PER_HOUR = 30 / 8.5
HOURS = 261 * 8.5
HANDLE_S = 15 * 60.0
WITHIN_S = 60.0
SERVERS = (1, 2, 3)
SCENARIOS = {
    "erlang_c": Patience("none"),
    "erlang_a": Patience("exponential", 600.0),
    "deadline": Patience("deadline", 90.0),
}


def simpy_replication(
    arrival: np.ndarray, handle: np.ndarray, patience: np.ndarray, servers: int
) -> np.ndarray:
    """Waits of one replication in SimPy: the time to the claim, or to the fallback (NaN-free)."""
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    n = int(np.isfinite(arrival).sum())
    waits = np.empty(n)

    def transfer(i: int) -> Any:
        with desk.request() as claim:
            if math.isinf(patience[i]):
                yield claim
            else:
                yield claim | env.timeout(patience[i])
            if claim.triggered:
                waits[i] = env.now - arrival[i]
                yield env.timeout(handle[i])
            else:
                waits[i] = patience[i]  # fell back; leaving the `with` withdraws the request

    def source() -> Any:
        for i in range(n):
            yield env.timeout(arrival[i] - env.now)
            env.process(transfer(i))

    env.process(source())
    env.run()
    return waits


def time_numpy(inputs: SimInputs, servers: int, repeats: int = 3) -> tuple[float, Any]:
    timings = []
    run = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        run = run_queue(inputs, servers)
        timings.append(time.perf_counter() - t0)
    return statistics.median(timings), run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.staffing", description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--simpy-replications", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    rows: list[dict[str, Any]] = []
    slots = stationary_slots(RATE_PER_HOUR, HOURS)
    for name, patience in SCENARIOS.items():
        t0 = time.perf_counter()
        inputs = draw_inputs(slots, HandleTime(HANDLE_S), patience, args.replications, seed=args.seed)
        draw_s = time.perf_counter() - t0
        for c in SERVERS:
            sim_s, run = time_numpy(inputs, c)
            res = summarise(run, inputs, within=(WITHIN_S,))
            model = MODELS[name](
                RATE_PER_HOUR / 3600, HANDLE_S, c, patience=patience.seconds, within=(WITHIN_S,)
            )
            n_simpy = min(args.simpy_replications, args.replications)
            t0 = time.perf_counter()
            simpy_waits = [
                simpy_replication(inputs.arrival[r], inputs.handle[r], inputs.patience[r], c)
                for r in range(n_simpy)
            ]
            simpy_s = (time.perf_counter() - t0) * args.replications / n_simpy
            max_diff = max(
                float(np.max(np.abs(w - run.wait[r, : w.size]), initial=0.0))
                for r, w in enumerate(simpy_waits)
            )
            deviations = {}
            for key, sim_v, exact in (
                ("p_wait", res.p_wait, model.p_wait),
                ("p_abandon", res.p_abandon, model.p_abandon),
                ("mean_wait", res.mean_wait, model.mean_wait),
                (
                    f"answered_within_{WITHIN_S:g}",
                    res.answered_within[WITHIN_S],
                    model.answered_within[WITHIN_S],
                ),
            ):
                se = res.ci95[key] / 1.96
                deviations[key] = {
                    "simulated": sim_v,
                    "ci95": res.ci95[key],
                    "closed_form": exact,
                    "z": (sim_v - exact) / se if se > 0 else 0.0,
                }
            rows.append(
                {
                    "model": name,
                    "patience_s": patience.seconds,
                    "servers": c,
                    "replications": args.replications,
                    "transfers_per_replication": res.transfers_per_replication,
                    "draw_s": draw_s,
                    "numpy_s": sim_s,
                    "simpy_s": simpy_s,
                    "simpy_replications_run": n_simpy,
                    "speedup": simpy_s / sim_s,
                    "max_wait_difference_s": max_diff,
                    "agreement": deviations,
                    "agrees": all(abs(d["z"]) <= 3.0 for d in deviations.values()),
                }
            )
            print(
                f"{name:9s} c={c} numpy {sim_s:6.3f}s simpy {simpy_s:6.2f}s ({simpy_s / sim_s:5.0f}x) "
                f"P(wait) {res.p_wait:.4f} vs {model.p_wait:.4f} mean wait {res.mean_wait / 60:7.2f} vs "
                f"{model.mean_wait / 60:7.2f} min  max |simpy-numpy| {max_diff:.1e}s",
                flush=True,
            )
    write_results(rows, args)
    year_s = max(r["numpy_s"] + r["draw_s"] for r in rows)
    ok = year_s < 5.0 and all(
        r["agrees"] and r["speedup"] > 1 and r["max_wait_difference_s"] < 1e-6 for r in rows
    )
    print(f"slowest year x {args.replications} replications (draw + run): {year_s:.3f} s; targets met: {ok}")
    return 0 if ok else 1


def write_results(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}",
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "scenario": {
            "transfers_per_hour": RATE_PER_HOUR,
            "open_hours": HOURS,
            "handle_minutes_mean": HANDLE_S / 60,
            "handle_distribution": "exponential",
            "replications": args.replications,
            "seed": args.seed,
        },
    }
    (RESULTS / "staffing.json").write_text(json.dumps({**meta, "results": rows}, indent=2) + "\n")
    lines = [
        f"# Staffing simulation benchmark {meta['when']}",
        "",
        f"Machine: {meta['machine']}; numpy {meta['numpy']}, SimPy {meta['simpy']}.",
        f"Scenario: {RATE_PER_HOUR:.3f} transfers/h for {HOURS:g} open hours (one year of weekday shifts), "
        f"exponential handle time {HANDLE_S / 60:g} min, {args.replications} replications, seed {args.seed}.",
        "Times are for all replications of one configuration (numpy: median of 3; SimPy: one run"
        + (
            f", {args.simpy_replications} replications scaled up)."
            if args.simpy_replications < args.replications
            else ")."
        ),
        "z = (simulated - closed form) / standard error across replications.",
        "",
        "| model | patience | c | numpy s | SimPy s | speed-up | P(wait) sim / exact (z) | P(abandon) sim / exact (z) "
        "| mean wait min sim / exact (z) | answered <= 60 s sim / exact (z) | same waits as SimPy |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        a = r["agreement"]

        def cell(key: str, scale: float = 1.0, digits: int = 4, a: dict[str, Any] = a) -> str:
            d = a[key]
            return (
                f"{d['simulated'] / scale:.{digits}f} / {d['closed_form'] / scale:.{digits}f} ({d['z']:+.1f})"
            )

        patience = "none" if math.isinf(r["patience_s"]) else f"{r['patience_s']:g} s"
        lines.append(
            f"| {r['model']} | {patience} | {r['servers']} | {r['numpy_s']:.3f} | {r['simpy_s']:.2f} | "
            f"{r['speedup']:.0f}x | {cell('p_wait')} | {cell('p_abandon')} | {cell('mean_wait', 60, 3)} | "
            f"{cell('answered_within_60')} | {'yes' if r['max_wait_difference_s'] < 1e-6 else 'NO'} |"
        )
    draw = {r["model"]: r["draw_s"] for r in rows}
    drawn = ", ".join(f"{k} {v:.3f} s" for k, v in draw.items())
    lines += ["", f"Drawing the random numbers (once per model, shared by c = 1..3): {drawn}."]
    (RESULTS / "staffing.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
