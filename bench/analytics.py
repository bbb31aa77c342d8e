"""`python -m bench.analytics`: the demand analysis on 10 million synthetic CAD rows, against baselines.

What runs (each variant in its own process, so each has its own peak RSS, ru_maxrss):
- import: `crisisdesk.analytics.importer.import_files` of the raw Parquet into a store (validation,
  time zones, classification, keyed hashes): done once per data set and code version, then reused.
- ours: the demand API on the store: hour_of_week, by_month, coverage of three calendars (MECC
  Mon-Fri 12:00-20:30 with US federal holidays; + Saturday; to 22:00), arrival_rates under MECC,
  repeats within 30 days by address and by caller.
- duckdb_sql: a plain DuckDB SQL version of the same analysis straight from the raw Parquet
  (classification join, DuckDB's own time-zone conversion, range joins, lag windows).
- pandas: a straightforward pandas version from the raw Parquet (merge, to_datetime + tz_localize,
  groupby, merge_asof for coverage, sort + groupby.shift for repeats): the baseline.
- floor: DuckDB scanning every store column the analysis reads (one aggregate per column).
- end_to_end: import + ours in one process, from the raw Parquet into a fresh store each run: what a
  one-off analysis costs with our design, against pandas (which always starts from the raw file).
Every variant's answers (168 hour-of-week counts, month counts, covered calls per calendar, open-time
calls per slot, repeat counts) must be identical, or the benchmark fails.

Results: bench/results/analytics.{json,md}. Data: bench/synth_cad.py, cached under
var/bench/analytics/<rows>-<seed>/. `--rows` makes a smaller run (the default is 10,000,000).
"""

# ruff: noqa: S608 - benchmark SQL built from file paths and constants of this script.

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "var" / "bench" / "analytics"
CENTER, ZONE = "bench", "America/Chicago"
BENCH_KEY = "bench-linkage-key-not-a-secret-0123"
VARIANTS = ("ours", "duckdb_sql", "pandas", "floor", "end_to_end")
# Seconds of the two steps of each end_to_end run (import, analysis), filled by run_end_to_end.
E2E_PARTS: list[tuple[float, float]] = []


@lru_cache(maxsize=1)
def calendars() -> dict[str, Any]:
    """The three calendars (loaded once per process, before any timed run)."""
    import dataclasses

    from crisisdesk.protocols import load_protocol

    mecc = load_protocol().calendar
    block = mecc.hours[0]
    return {
        "MECC": mecc,
        "MECC + Saturday": dataclasses.replace(
            mecc, hours=(block, dataclasses.replace(block, days=frozenset({5})))
        ),
        "MECC to 22:00": dataclasses.replace(mecc, hours=(dataclasses.replace(block, closes=dtime(22, 0)),)),
    }


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- variants (run inside a worker process) -------------------------------------------------------------


def run_ours(store: Path, data: Path, cmap: Path) -> dict[str, Any]:
    from crisisdesk.analytics import demand
    from crisisdesk.analytics.store import DuckDBEngine

    eng = DuckDBEngine()
    cals = calendars()
    how = demand.hour_of_week(store, engine=eng)
    months = demand.by_month(store, engine=eng)
    cov = demand.coverage(store, cals, engine=eng)
    rates = demand.arrival_rates(store, cals["MECC"], center=CENTER, engine=eng)
    reps = {k: demand.repeats(store, 30, key=k, engine=eng) for k in ("address", "caller")}  # type: ignore[call-overload]
    eng.close()
    return {
        "eligible": cov.rows[0].eligible_calls,
        "how": how.eligible_counts(),
        "months": [[m.year, m.month, m.calls, m.eligible] for m in months.rows],
        "coverage": {r.calendar: r.covered_exact for r in cov.rows},
        "rate_calls": [int(r.calls) for r in rates.rows],
        "repeats": {k: [r.calls, r.repeat_calls, r.repeat_keys, r.distinct_keys] for k, r in reps.items()},
    }


def _intervals(first: Any, last: Any) -> dict[str, list[tuple[int, int]]]:
    from crisisdesk.analytics.calendars import open_intervals

    return {n: open_intervals(spec, first, last) for n, spec in calendars().items()}


def run_duckdb_sql(store: Path, data: Path, cmap: Path) -> dict[str, Any]:
    import duckdb
    import pyarrow as pa

    from crisisdesk.analytics.callmap import load_call_map

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    m = load_call_map(cmap)
    con.register(
        "cm", pa.table({"code": list(m.entries), "bh": [e.bh_class.value for e in m.entries.values()]})
    )
    con.execute(
        f"""CREATE TEMP TABLE c AS
        SELECT r.incident_id, strptime(r.received_at, '%Y-%m-%d %H:%M:%S') AS lt,
               epoch_us(timezone('{ZONE}', strptime(r.received_at, '%Y-%m-%d %H:%M:%S'))) AS us,
               coalesce(cm.bh IN ('in_scope', 'conditional'), false) AS eligible, r.address, r.caller
        FROM read_parquet('{data}') r LEFT JOIN cm ON cm.code = upper(trim(r.call_type))"""
    )
    (eligible,) = con.execute("SELECT count(*) FROM c WHERE eligible").fetchall()[0]
    how = dict(
        con.execute(
            "SELECT (isodow(lt) - 1) * 24 + hour(lt), count(*) FROM c WHERE eligible GROUP BY 1"
        ).fetchall()
    )
    months = con.execute(
        "SELECT year(lt), month(lt), count(*), sum(CASE WHEN eligible THEN 1 ELSE 0 END) FROM c GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    first, last = con.execute("SELECT min(lt)::DATE, max(lt)::DATE FROM c").fetchall()[0]
    ivs = _intervals(first - timedelta(days=1), last + timedelta(days=1))
    coverage, rate_calls = {}, [0] * 168
    for name, iv in ivs.items():
        con.register("iv", pa.table({"s": [a for a, _ in iv], "e": [b for _, b in iv]}))
        rows = con.execute(
            "SELECT (isodow(lt) - 1) * 24 + hour(lt), count(*) FROM c JOIN iv ON c.us >= iv.s AND c.us < iv.e "
            "WHERE eligible GROUP BY 1"
        ).fetchall()
        coverage[name] = sum(n for _, n in rows)
        if name == "MECC":
            for slot, n in rows:
                rate_calls[slot] = n
        con.unregister("iv")
    reps = {}
    for key in ("address", "caller"):
        reps[key] = list(
            con.execute(
                f"""WITH w AS (SELECT {key} AS k, us - lag(us) OVER (PARTITION BY {key} ORDER BY us) AS gap
                             FROM c WHERE eligible AND {key} IS NOT NULL),
                     per AS (SELECT k, count(*) n, sum(CASE WHEN gap <= {30 * 86_400_000_000} THEN 1 ELSE 0 END) r
                             FROM w GROUP BY k)
                SELECT sum(n), sum(r), sum(CASE WHEN r > 0 THEN 1 ELSE 0 END), count(*) FROM per"""
            ).fetchall()[0]
        )
    return {
        "eligible": eligible,
        "how": [how.get(i, 0) for i in range(168)],
        "months": [list(r) for r in months],
        "coverage": coverage,
        "rate_calls": rate_calls,
        "repeats": {k: [int(x) for x in v] for k, v in reps.items()},
    }


def run_pandas(store: Path, data: Path, cmap: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from crisisdesk.analytics.callmap import load_call_map

    m = load_call_map(cmap)
    df = pd.read_parquet(data, columns=["incident_id", "received_at", "call_type", "address", "caller"])
    cm = pd.DataFrame({"code": list(m.entries), "bh": [e.bh_class.value for e in m.entries.values()]})
    df["code"] = df["call_type"].str.strip().str.upper()
    df = df.merge(cm, on="code", how="left")
    df["eligible"] = df["bh"].isin(["in_scope", "conditional"])
    local = pd.to_datetime(df["received_at"], format="%Y-%m-%d %H:%M:%S")
    # fold=0 reading of wall-clock times: a repeated time is its first (DST) occurrence, a time in
    # the gap moves forward by the gap.
    utc = local.dt.tz_localize(
        ZONE, ambiguous=np.ones(len(df), dtype=bool), nonexistent=pd.Timedelta(hours=1)
    )
    df["us"] = (utc.dt.tz_convert("UTC") - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(
        microseconds=1
    )
    loc = utc.dt  # local fields of the instant
    df["how"] = loc.dayofweek * 24 + loc.hour
    df["year"], df["month"] = loc.year, loc.month
    e = df[df["eligible"]]
    how = e.groupby("how").size()
    months = (
        df.groupby(["year", "month"])
        .agg(calls=("eligible", "size"), eligible=("eligible", "sum"))
        .reset_index()
    )
    first, last = local.min().date(), local.max().date()
    coverage, rate_calls = {}, [0] * 168
    es = e.sort_values("us")
    for name, iv in _intervals(first - timedelta(days=1), last + timedelta(days=1)).items():
        ivd = pd.DataFrame({"s": [a for a, _ in iv], "e": [b for _, b in iv]})
        j = pd.merge_asof(es, ivd, left_on="us", right_on="s")
        inside = j[j["us"] < j["e"]]
        coverage[name] = len(inside)
        if name == "MECC":
            for slot, n in inside.groupby("how").size().items():
                rate_calls[int(slot)] = int(n)
    reps = {}
    for key in ("address", "caller"):
        k = e[e[key].notna()].sort_values([key, "us"])
        gap = k["us"] - k.groupby(key)["us"].shift()
        k = k.assign(rep=(gap <= 30 * 86_400_000_000))
        per = k.groupby(key)["rep"].agg(["size", "sum"])
        reps[key] = [int(per["size"].sum()), int(per["sum"].sum()), int((per["sum"] > 0).sum()), len(per)]
    return {
        "eligible": int(len(e)),
        "how": [int(how.get(i, 0)) for i in range(168)],
        "months": [[int(r.year), int(r.month), int(r.calls), int(r.eligible)] for r in months.itertuples()],
        "coverage": coverage,
        "rate_calls": rate_calls,
        "repeats": reps,
    }


def run_floor(store: Path, data: Path, cmap: Path) -> dict[str, Any]:
    import duckdb

    from crisisdesk.analytics.store import open_store

    files = [str(p) for p in open_store(store).all_files()]
    con = duckdb.connect()
    con.execute(
        "SELECT count(center), sum(local_dow), sum(local_hour), sum(local_year), sum(local_month), count(local_date), "
        "sum(epoch_us(received_utc)), sum(CASE WHEN eligible THEN 1 ELSE 0 END), count(bh_class), "
        "sum(address_key % 1000), sum(caller_key % 1000), max(length(incident_id)) FROM read_parquet(?)",
        [files],
    ).fetchall()
    return {}


def run_import(store: Path, data: Path, cmap: Path) -> dict[str, Any]:
    from crisisdesk.analytics.importer import import_files
    from crisisdesk.analytics.profiles import load_profile

    if store.exists():
        shutil.rmtree(store)
    report = import_files(
        [data],
        load_profile("generic").with_center(CENTER, ZONE),
        store,
        call_map=cmap,
        linkage_key=BENCH_KEY.encode(),
        progress=False,
    )
    return {"rows_read": report.rows_read, "rows_stored": report.rows_stored, "by_class": report.by_class}


def run_end_to_end(store: Path, data: Path, cmap: Path) -> dict[str, Any]:
    """Import the raw Parquet into a fresh store beside the cached one, then the same analysis."""
    fresh = store.with_name("store-e2e")
    t0 = time.perf_counter()
    run_import(fresh, data, cmap)
    t1 = time.perf_counter()
    answers = run_ours(fresh, data, cmap)
    E2E_PARTS.append((t1 - t0, time.perf_counter() - t1))
    return answers


RUNNERS = {
    "ours": run_ours,
    "duckdb_sql": run_duckdb_sql,
    "pandas": run_pandas,
    "floor": run_floor,
    "import": run_import,
    "end_to_end": run_end_to_end,
}


def worker(variant: str, runs: int, store: Path, data: Path, cmap: Path, budget_s: float) -> None:
    """Runs one variant `runs` times (fewer when over budget_s); prints one JSON line."""
    times: list[float] = []
    answers: Any = None
    calendars()  # reading the protocol file is setup, not analysis
    for _ in range(runs):
        t0 = time.perf_counter()
        answers = RUNNERS[variant](store, data, cmap)
        times.append(time.perf_counter() - t0)
        if sum(times) > budget_s:
            break
    out = {"variant": variant, "times": times, "rss_mb": rss_mb(), "answers": answers}
    if E2E_PARTS:
        out["parts"] = E2E_PARTS
    print(json.dumps(out))


# --- orchestration -------------------------------------------------------------------------------------------


def code_version() -> str:
    h = hashlib.sha256()
    for p in sorted((ROOT / "src" / "crisisdesk" / "analytics").rglob("*")):
        if p.is_file() and p.suffix in {".py", ".yaml"}:
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


def spawn(variant: str, runs: int, store: Path, data: Path, cmap: Path, budget_s: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.analytics", "--worker", variant, "--runs", str(runs), "--store", str(store),
           "--data", str(data), "--callmap", str(cmap), "--budget", str(budget_s)]  # fmt: skip
    print(f"  {variant}: {runs} run(s) ...", flush=True)
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"{variant} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"  {variant}: {', '.join(f'{t:.2f}' for t in result['times'])} s; peak RSS {result['rss_mb']:.0f} MB",
        flush=True,
    )
    return result


def stats(times: list[float]) -> dict[str, float]:
    warm = times[1:] or times
    return {
        "first_s": times[0],
        "median_warm_s": statistics.median(warm),
        "min_s": min(times),
        "max_s": max(times),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--runs", type=int, default=5, help="runs of ours, duckdb_sql and floor (pandas: --pandas-runs)"
    )
    ap.add_argument("--pandas-runs", type=int, default=3)
    ap.add_argument("--e2e-runs", type=int, default=2, help="runs of end_to_end (import + analysis)")
    ap.add_argument(
        "--reimport", action="store_true", help="import again even if the cached store is current"
    )
    ap.add_argument("--worker", choices=[*VARIANTS, "import"], help=argparse.SUPPRESS)
    ap.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--callmap", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=float, default=600, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.runs, args.store, args.data, args.callmap, args.budget)
        return 0

    from bench.synth_cad import generate

    started = time.perf_counter()
    folder = CACHE / f"{args.rows}-{args.seed}"
    print(f"data: {args.rows:,} rows, seed {args.seed} ({folder})", flush=True)
    t0 = time.perf_counter()
    data, cmap = generate(args.rows, args.seed, folder)
    gen_s = time.perf_counter() - t0
    store = folder / "store"
    stamp = folder / "store.json"
    version = code_version()
    previous = json.loads(stamp.read_text()) if stamp.exists() else {}
    if args.reimport or previous.get("code") != version or not store.exists():
        imp = spawn("import", 1, store, data, cmap, 900)
        previous = {"code": version, "import": imp, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        stamp.write_text(json.dumps(previous))
    else:
        print(f"  import: reusing the store built {previous['at']} ({previous['import']['times'][0]:.1f} s)")
    results = {}
    for variant in ("floor", "ours", "duckdb_sql", "pandas", "end_to_end"):
        runs = {"pandas": args.pandas_runs, "end_to_end": args.e2e_runs}.get(variant, args.runs)
        results[variant] = spawn(
            variant, runs, store, data, cmap, budget_s=240 if variant in {"pandas", "end_to_end"} else 120
        )
    shutil.rmtree(store.with_name("store-e2e"), ignore_errors=True)
    reference = results["pandas"]["answers"]
    mismatch = [v for v in ("ours", "duckdb_sql", "end_to_end") if results[v]["answers"] != reference]
    summary = {
        v: {**stats(r["times"]), "peak_rss_mb": r["rss_mb"], "runs": len(r["times"])}
        for v, r in results.items()
    }
    e2e = summary["end_to_end"]
    # Every end_to_end run builds a new store, so all runs count (the Parquet file is cached by then).
    e2e["median_s"] = statistics.median(results["end_to_end"]["times"])
    e2e["import_s"] = [round(a, 2) for a, _ in results["end_to_end"]["parts"]]
    e2e["analysis_s"] = [round(b, 2) for _, b in results["end_to_end"]["parts"]]
    imp = previous["import"]
    summary["import"] = {
        **stats(imp["times"]),
        "peak_rss_mb": imp["rss_mb"],
        "runs": 1,
        "built_at": previous["at"],
    }
    ours = summary["ours"]["median_warm_s"]
    ratios = {
        "pandas / ours": summary["pandas"]["median_warm_s"] / ours,
        "pandas / end_to_end (import + ours)": summary["pandas"]["median_warm_s"] / e2e["median_s"],
        "ours / floor": ours / summary["floor"]["median_warm_s"],
        "ours / duckdb_sql": ours / summary["duckdb_sql"]["median_warm_s"],
    }
    doc = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; Python {platform.python_version()}",
        "rows": args.rows,
        "seed": args.seed,
        "eligible_calls": reference["eligible"],
        "answers_identical": not mismatch,
        "generate_s": gen_s,
        "variants": summary,
        "ratios": ratios,
        "answers": reference,
        "wall_s": time.perf_counter() - started,
    }
    write_results(doc)
    if mismatch:
        print(f"ANSWERS DIFFER: {', '.join(mismatch)} vs pandas", file=sys.stderr)
        return 1
    return 0


def write_results(doc: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "analytics.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    v = doc["variants"]
    e2e, pandas, r = v["end_to_end"], v["pandas"], doc["ratios"]
    lines = [
        f"# Analytics benchmark {doc['at']}",
        "",
        f"Machine: {doc['machine']}. Data: {doc['rows']:,} synthetic CAD rows (bench/synth_cad.py, seed {doc['seed']}), "
        f"{doc['eligible_calls']:,} eligible. Command: `python -m bench.analytics --rows {doc['rows']}`.",
        "Analysis: hour of week, months, coverage of 3 calendars, MECC arrival rates, 30-day repeats by address "
        "and by caller. Each variant in its own process; times are the median of warm runs (run 2 onwards).",
        f"Answers identical across ours, end to end, plain DuckDB SQL and pandas: "
        f"**{'yes' if doc['answers_identical'] else 'NO'}**.",
        "",
        f"**End to end** (import of the raw Parquet + the analysis, one process): median {e2e['median_s']:.2f} s "
        f"(import {', '.join(f'{x:.2f}' for x in e2e['import_s'])} s + analysis "
        f"{', '.join(f'{x:.2f}' for x in e2e['analysis_s'])} s), peak RSS {e2e['peak_rss_mb']:,.0f} MB; "
        f"pandas {pandas['median_warm_s']:.2f} s, {pandas['peak_rss_mb']:,.0f} MB: "
        f"**pandas / end to end = {r['pandas / end_to_end (import + ours)']:.2f}x**. "
        f"On the stored data (import done once): **pandas / ours = {r['pandas / ours']:.2f}x**.",
        "",
        "| variant | median warm s | first run s | runs | peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    for name in ("ours", "end_to_end", "floor", "duckdb_sql", "pandas", "import"):
        s = v[name]
        median = s.get("median_s", s["median_warm_s"])
        lines.append(f"| {name} | {median:.2f} | {s['first_s']:.2f} | {s['runs']} | {s['peak_rss_mb']:.0f} |")
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {x:.2f}x |" for k, x in r.items()]
    lines += [
        "",
        "ours: the demand API on the imported store (classification, local hour and keyed hashes computed once at "
        "import, as DESIGN.md prescribes). end_to_end: a fresh import of the raw Parquet and the same analysis in "
        "one process (median of all its runs: each builds a new store). import: one run, when the cached store was "
        f"built ({v['import']['built_at']}). floor: DuckDB scanning every store column the analysis reads. "
        "duckdb_sql and pandas start from the raw Parquet and classify on the way. The machine is shared with "
        "other work: expect some spread between runs.",
    ]
    (RESULTS / "analytics.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
