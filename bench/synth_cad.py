"""Synthetic CAD history shaped like the real exports, for the analytics benchmark.

`generate(rows, seed, folder)` writes `cad.parquet` (columns of the generic profile: incident_id,
received_at as local wall-clock text like San Diego's and Milwaukee's date_time, call_type, priority,
disposition, area, address, caller) and `callmap.yaml` (250 call types; 8 rare ones left unmapped so
unknown types are exercised), once per (rows, seed): later calls reuse the files.

Shape (after performance.md section 1): 3 years 2023-01-01..2025-12-31 in America/Chicago; seasonal
(+-15 %), weekday and diurnal intensity; 250 call types with a Zipf-like mix (s = 1.05); about 14 % of
calls eligible (in_scope or conditional); 400,000 addresses with heavy-tailed popularity (repeat
locations are common); callers: 3 % empty, about 4 % of distinct callers call more than once.
Local times inside a DST gap or fold (01:00-03:00 on change days) are not generated, so that every
variant of the benchmark, including the plain-SQL one that uses DuckDB's own time-zone conversion,
reads every time the same way; DST handling is tested in tests/analytics, not timed here.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crisisdesk.analytics.callmap import BhClass, CallMap, CallTypeEntry, dump_call_map

START = date(2023, 1, 1)
END = date(2025, 12, 31)
ZONE = "America/Chicago"
N_TYPES = 250
N_UNMAPPED = 8
N_ADDRESSES = 400_000
CHUNK = 1_000_000
DIURNAL = np.array(
    [
        3.0,
        2.4,
        2.0,
        1.7,
        1.5,
        1.6,
        2.2,
        3.2,
        4.2,
        4.8,
        5.2,
        5.5,
        5.7,
        5.8,
        5.9,
        6.0,
        6.2,
        6.3,
        6.1,
        5.8,
        5.4,
        4.9,
        4.3,
        3.6,
    ]
)
WEEKDAY = np.array([1.0, 0.98, 0.98, 1.0, 1.08, 1.05, 0.95])
STREETS = ["MAIN", "OAK", "LAKE", "PARK", "HENNEPIN", "NICOLLET", "CEDAR", "FRANKLIN", "LYNDALE", "CHICAGO",
           "PORTLAND", "BLOOMINGTON", "CENTRAL", "UNIVERSITY", "WASHINGTON", "BROADWAY", "LOWRY", "PLYMOUTH"]  # fmt: skip
SUFFIXES = ["AVE S", "AVE N", "ST NE", "ST SE", "BLVD", "AVE"]


def call_types(rng: np.random.Generator) -> tuple[list[str], np.ndarray, CallMap]:
    codes = [f"T{i:03d}" for i in range(N_TYPES)]
    weights = 1.0 / np.arange(1, N_TYPES + 1) ** 1.05
    weights /= weights.sum()
    # Classes: the busiest types are police business; behavioural-health types sit in the middle of
    # the ranking, as in real CADs (welfare checks and "mental case" are common but not the commonest).
    classes = np.full(N_TYPES, BhClass.NOT_IN_SCOPE.value, dtype=object)
    ranks = rng.permutation(np.arange(3, 120))
    classes[ranks[:8]] = BhClass.IN_SCOPE.value
    classes[ranks[8:20]] = BhClass.CONDITIONAL.value
    classes[ranks[20:40]] = BhClass.EMERGENCY_ONLY.value
    entries = {
        code: CallTypeEntry(
            code=code, text=f"CALL TYPE {i}", apco=f"APCO{i % 40:02d}", bh_class=BhClass(classes[i])
        )
        for i, code in enumerate(codes[: N_TYPES - N_UNMAPPED])
    }
    return codes, weights, CallMap(center="bench", version="synthetic.1", entries=entries)


def _day_weights() -> tuple[np.ndarray, list[date]]:
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    doy = np.array([d.timetuple().tm_yday for d in days])
    season = 1 + 0.15 * np.cos(2 * np.pi * (doy - 200) / 365.25)
    w = season * WEEKDAY[[d.weekday() for d in days]]
    return w / w.sum(), days


def _dst_days() -> set[date]:
    tz = ZoneInfo(ZONE)
    out = set()
    d = START
    while d <= END:
        if (
            datetime(d.year, d.month, d.day, tzinfo=tz).utcoffset()
            != datetime(  # noqa: DTZ001
                d.year, d.month, d.day, 23, tzinfo=tz
            ).utcoffset()
        ):
            out.add(d)
        d += timedelta(days=1)
    return out


def generate(rows: int, seed: int, folder: Path) -> tuple[Path, Path]:
    """Write (or reuse) cad.parquet and callmap.yaml under folder; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    data, cmap_path, meta = folder / "cad.parquet", folder / "callmap.yaml", folder / "meta.json"
    wanted = {"rows": rows, "seed": seed, "version": 2}
    if data.exists() and cmap_path.exists() and meta.exists() and json.loads(meta.read_text()) == wanted:
        return data, cmap_path
    rng = np.random.default_rng(seed)
    codes, type_w, cmap = call_types(rng)
    cmap_path.write_text(dump_call_map(cmap), encoding="utf-8")
    day_w, days = _day_weights()
    day_us = np.array([(d - date(1970, 1, 1)).days for d in days], dtype=np.int64) * 86_400_000_000
    dst = np.array([d in _dst_days() for d in days])
    hour_w = DIURNAL / DIURNAL.sum()
    addr_pop = rng.lognormal(0, 1.6, N_ADDRESSES)
    addr_cum = np.cumsum(addr_pop / addr_pop.sum())
    addresses = pa.array(
        [
            f"{int(n)} {STREETS[i % len(STREETS)]} {SUFFIXES[i % len(SUFFIXES)]}"
            for i, n in enumerate(rng.integers(1, 9999, N_ADDRESSES))
        ]
    )
    # Callers: repeaters draw from a small pool with heavy-tailed propensity, the rest are fresh numbers.
    n_repeaters = 300_000
    propensity = rng.lognormal(0, 1.2, n_repeaters)
    rep_cum = np.cumsum(propensity) / propensity.sum()
    code_arr = pa.array(codes)
    dispositions = pa.array([f"D{i:02d}" for i in range(12)])
    tmp = data.with_suffix(".tmp")
    writer = None
    next_id = 0
    fresh = 0
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        day_idx = rng.choice(len(days), n, p=day_w)
        hour = rng.choice(24, n, p=hour_w)
        # No wall-clock times in 01:00-03:00 on DST change days (see the module docstring).
        bad = dst[day_idx] & (hour >= 1) & (hour < 3)
        hour[bad] = hour[bad] + 3
        us = day_us[day_idx] + hour * 3_600_000_000 + rng.integers(0, 3_600, n) * 1_000_000
        order = np.argsort(us, kind="stable")
        us = us[order]
        ts = pa.array(us // 1_000_000, pa.timestamp("s"))
        received = pc.strftime(ts, format="%Y-%m-%d %H:%M:%S")
        ids = pc.binary_join_element_wise(
            "E", pc.cast(pa.array(np.arange(next_id, next_id + n) + 10_000_000), pa.string()), ""
        )
        next_id += n
        types = code_arr.take(pa.array(np.searchsorted(np.cumsum(type_w), rng.random(n))))
        addr = addresses.take(pa.array(np.minimum(np.searchsorted(addr_cum, rng.random(n)), N_ADDRESSES - 1)))
        repeat = rng.random(n) < 0.29
        caller_num = np.where(
            repeat,
            np.minimum(np.searchsorted(rep_cum, rng.random(n)), n_repeaters - 1),
            n_repeaters + fresh + np.arange(n),
        )
        fresh += n
        caller = pc.cast(pa.array(6_120_000_000 + caller_num), pa.string())
        caller = pc.if_else(pa.array(rng.random(n) < 0.03), pa.scalar(None, pa.string()), caller)
        table = pa.table(
            {
                "incident_id": ids,
                "received_at": received,
                "call_type": types,
                "priority": pc.cast(pa.array(rng.integers(1, 6, n)), pa.string()),
                "disposition": dispositions.take(pa.array(rng.integers(0, 12, n))),
                "area": pc.binary_join_element_wise(
                    "D", pc.cast(pa.array(rng.integers(1, 8, n)), pa.string()), ""
                ),
                "address": addr,
                "caller": caller,
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=CHUNK)
    assert writer is not None
    writer.close()
    tmp.replace(data)
    meta.write_text(json.dumps(wanted))
    return data, cmap_path
