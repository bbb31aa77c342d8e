"""`make bench`: latency of the operational API under concurrent load, and transfer-to-queue time.

What it does, all on this machine (loopback only, bounded in time):
1. a fresh database (SQLite in a temporary folder, or PostgreSQL database `crisisdesk_bench` when
   DATABASE_URL points at PostgreSQL), migrated, with benchmark users and an always-open protocol;
2. the real server: gunicorn serving crisisdesk.wsgi (2 workers x 4 threads);
3. N telecommunicator clients, each looping: CAD intake (POST /api/v1/calls with the integration
   token) -> screening (POST /api/v1/calls/{id}/screening, session) -> transfer (POST
   /api/v1/calls/{id}/transfers), with a short random think time;
4. M social-worker screens polling the queue partial (GET /queue/live/, the HTML the queue page
   polls every second) at the page's own 1 s interval; the first poll showing a new transfer gives
   its visibility time, measured from the moment the telecommunicator's transfer request was sent.
   Each screen then claims and completes what it saw (POST .../claim, .../complete).
Results: bench/results/latest.{json,md} and bench/results/<database>.{json,md} (milliseconds).
The load generator runs on the same machine as the server and the database, so on 2 cores the
figures include that contention.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from crisisdesk.protocols import load_protocol

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values_s: list[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": _r(percentile(ms, 50)),
        "p95_ms": _r(percentile(ms, 95)),
        "p99_ms": _r(percentile(ms, 99)),
        "max_ms": _r(max(ms) if ms else None),
        "mean_ms": _r(statistics.fmean(ms) if ms else None),
    }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.sent_at: dict[str, float] = {}  # incident id -> when its transfer request was sent
        self.seen_at: dict[str, float] = {}  # incident -> first sighting on any screen
        self.seen_by: dict[tuple[str, str], float] = {}  # (screen, incident) -> that screen's first sighting
        self.errors: list[str] = []

    def add(self, op: str, seconds: float, status: int) -> None:
        with self.lock:
            self.status[op][status] += 1
            if 200 <= status < 300:
                self.latency[op].append(seconds)


def totp_code(key_hex: str) -> str:
    """The code an authenticator app with this key shows now (RFC 6238, as django-otp checks it)."""
    from django_otp.oath import TOTP

    return f"{TOTP(bytes.fromhex(key_hex)).token():06d}"


def login(base: str, username: str, password: str, totp_key: str) -> httpx.Client:
    """Sign in as a person does: the password, then the TOTP code (setup_fixture gives each
    benchmark user a device with a known key)."""
    client = httpx.Client(base_url=base, timeout=30)
    client.get("/login/")
    token = client.cookies.get("csrftoken", "")
    resp = client.post(
        "/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/login/"},
    )
    if resp.status_code != 302 or not resp.headers.get("location", "").endswith("/login/verify/"):
        raise RuntimeError(f"login failed for {username} at the password: {resp.status_code}")
    resp = client.post(
        "/login/verify/",
        data={"code": totp_code(totp_key), "csrfmiddlewaretoken": client.cookies.get("csrftoken", "")},
        headers={"Referer": base + "/login/verify/"},
    )
    if resp.status_code != 302 or "sessionid" not in client.cookies:
        raise RuntimeError(f"login failed for {username} at the code: {resp.status_code}")
    client.headers["X-CSRFToken"] = client.cookies.get("csrftoken", "")
    client.headers["Referer"] = base + "/"
    return client


def timed(rec: Recorder, op: str, fn: Any, *args: Any, **kwargs: Any) -> httpx.Response:
    start = time.perf_counter()
    resp: httpx.Response = fn(*args, **kwargs)
    rec.add(op, time.perf_counter() - start, resp.status_code)
    return resp


def telecommunicator_loop(
    base: str, fx: dict[str, Any], who: str, stop: float, rec: Recorder, n: int, think: tuple[float, float]
) -> None:
    api = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {fx['token']}"})
    web = login(base, who, fx["password"], fx["totp_keys"][who])
    all_clear = load_protocol().all_clear_answers()
    i = 0
    while time.perf_counter() < stop:
        i += 1
        incident = f"BENCH-{n:02d}-{i:06d}"
        record = {
            "source": "bench-cad",
            "incident_id": incident,
            "call_type": random.choice(
                ["Emotionally Disturb Person", "Check the Welfare", "Drunk/Intoxicated Person"]
            ),
            "received_at": datetime.now(UTC).isoformat(),
            "location": {"address": f"{random.randint(100, 4999)} Nicollet Ave, Minneapolis, MN (fictional)"},
            "caller": {"phone": f"612555{random.randint(100, 199):04d}"},
        }
        resp = timed(rec, "intake", api.post, "/api/v1/calls", json=record)
        if resp.status_code != 201:
            rec.errors.append(f"intake {resp.status_code}: {resp.text[:200]}")
            continue
        call_id = resp.json()["id"]
        resp = timed(
            rec, "screening", web.post, f"/api/v1/calls/{call_id}/screening", json={"answers": all_clear}
        )
        if resp.status_code not in (200, 201) or resp.json().get("outcome") != "transfer":
            rec.errors.append(f"screening {resp.status_code}: {resp.text[:200]}")
            continue
        sent = time.perf_counter()
        with rec.lock:
            rec.sent_at[incident] = sent
        resp = timed(rec, "transfer", web.post, f"/api/v1/calls/{call_id}/transfers")
        if resp.status_code not in (200, 201):
            rec.errors.append(f"transfer {resp.status_code}: {resp.text[:200]}")
        time.sleep(random.uniform(*think))  # the telecommunicator talks to the caller


CLAIM_URL = re.compile(r"/queue/transfers/(\d+)/claim/")
INCIDENT = re.compile(r"BENCH-\d{2}-\d{6}")


def social_worker_loop(
    base: str, fx: dict[str, Any], who: str, stop: float, rec: Recorder, claims: bool = True
) -> None:
    web = login(base, who, fx["password"], fx["totp_keys"][who])
    time.sleep(random.uniform(0, 1))  # screens poll out of phase with each other
    next_poll = time.perf_counter()
    shown_before: set[str] = set()
    while time.perf_counter() < stop + 2:  # keep polling briefly so the last transfers are seen
        next_poll += 1.0  # the queue page's hx-trigger="every 1s"
        resp = timed(rec, "queue_poll", web.get, "/queue/live/")
        seen = time.perf_counter()
        html = resp.text
        with rec.lock:
            for incident in INCIDENT.findall(html):
                rec.seen_at.setdefault(incident, seen)
                rec.seen_by.setdefault((who, incident), seen)
        shown = CLAIM_URL.findall(html)
        # Like a person, claim what was already on screen at the previous poll: by then every other
        # screen (all poll every second) has had its chance to show it, so per-screen visibility
        # is not cut short by someone else's claim.
        ready = [t for t in shown if t in shown_before][:5] if claims else []
        shown_before = set(shown)
        for transfer_id in ready:
            claim = timed(rec, "claim", web.post, f"/api/v1/transfers/{transfer_id}/claim")
            if claim.status_code == 200:
                timed(rec, "complete", web.post, f"/api/v1/transfers/{transfer_id}/complete", json={})
        time.sleep(max(0.0, next_poll - time.perf_counter()))


def prepare_database(env: dict[str, str]) -> None:
    url = env.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        base, _, _ = url.rpartition("/")
        env["DATABASE_URL"] = f"{base}/crisisdesk_bench"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS crisisdesk_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE crisisdesk_bench")
    subprocess.run([str(BIN / "crisisdesk"), "migrate", "-v", "0"], env=env, check=True)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 30)))
    parser.add_argument("--telecommunicators", type=int, default=8)
    parser.add_argument("--social-workers", type=int, default=2)
    parser.add_argument("--think-min", type=float, default=0.2, help="seconds between a client's calls (min)")
    parser.add_argument("--think-max", type=float, default=1.0, help="seconds between a client's calls (max)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="crisisdesk-bench-"))
    env = dict(os.environ)
    env.update(
        CRISISDESK_DATA_DIR=str(workdir),
        DJANGO_SETTINGS_MODULE="crisisdesk.settings_test",
        CRISISDESK_DEBUG="0",
        CRISISDESK_SECRET_KEY="bench-only-secret-key-" + "y" * 40,
        CRISISDESK_LINKAGE_KEY="bench-only-linkage-key",
        CRISISDESK_AUDIT_KEY="bench-only-audit-key",
        CRISISDESK_ALLOWED_HOSTS="127.0.0.1,localhost",
        CRISISDESK_HTTPS="0",
    )
    prepare_database(env)
    fx = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.setup_fixture",
                str(args.telecommunicators),
                str(args.social_workers),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "crisisdesk.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/login/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        rec = Recorder()
        stop = time.perf_counter() + args.seconds
        threads = [
            threading.Thread(
                target=telecommunicator_loop,
                args=(base, fx, who, stop, rec, n, (args.think_min, args.think_max)),
            )
            for n, who in enumerate(fx["telecommunicators"])
        ] + [
            threading.Thread(target=social_worker_loop, args=(base, fx, who, stop, rec))
            for who in fx["social_workers"]
        ]
        # The standby social worker's queue screen is open too (so they count as present) but
        # never claims: live decisions keep saying "transfer" while the others are busy.
        threads.append(
            threading.Thread(target=social_worker_loop, args=(base, fx, "bench-sw-standby", stop, rec, False))
        )
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)

    # Per screen: how long until THIS social worker's screen showed the transfer (what one person
    # at one desk experiences); the first sighting on any screen is reported beside it.
    visibility = [t - rec.sent_at[i] for (_, i), t in rec.seen_by.items() if i in rec.sent_at]
    first_visible = [rec.seen_at[i] - rec.sent_at[i] for i in rec.sent_at if i in rec.seen_at]
    never_seen = [i for i in rec.sent_at if i not in rec.seen_at]
    engine = "postgresql" if env.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make bench" + (" (DATABASE_URL=postgres...)" if engine == "postgresql" else ""),
        "database": engine,
        "server": "gunicorn crisisdesk.wsgi, 2 workers x 4 threads, loopback",
        "load": {
            "seconds": args.seconds,
            "think_time_s": [args.think_min, args.think_max],
            "telecommunicator_clients": args.telecommunicators,
            "social_worker_screens": args.social_workers,
            "queue_poll_interval_s": 1.0,
        },
        "machine": machine(),
        "operations": {op: summary(v) for op, v in sorted(rec.latency.items())},
        "status_codes": {op: dict(codes) for op, codes in sorted(rec.status.items())},
        "transfer_to_queue_visible": summary(visibility) | {"never_seen": len(never_seen)},
        "transfer_to_first_screen": summary(first_visible),
        "throughput_transfers_per_s": round(len(rec.sent_at) / args.seconds, 2),
        "errors_sample": rec.errors[:10],
        "error_count": len(rec.errors),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in ("latest", engine):  # latest run, and the latest per database
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        (RESULTS / f"{name}.md").write_text(render_markdown(result), encoding="utf-8")
    print(render_markdown(result))
    return 1 if never_seen or rec.errors else 0


def render_markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# Benchmark {r['measured_at']} ({r['database']})",
        "",
        f"Machine: {r['machine']['cpus']} CPUs, {r['machine']['cpu_model']}; Python {r['machine']['python']}.",
        f"Server: {r['server']}. Load: {r['load']['telecommunicator_clients']} telecommunicator clients, "
        f"{r['load']['social_worker_screens']} claiming social-worker screens + 1 standby screen, all polling "
        f"every 1 s; {r['load']['seconds']} s.",
        f"Throughput: {r['throughput_transfers_per_s']} transfers/s; errors: {r['error_count']}.",
        "",
        "| operation | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    rows = dict(r["operations"]) | {
        "transfer -> visible on a social worker's screen": r["transfer_to_queue_visible"],
        "transfer -> visible on the first of the screens": r["transfer_to_first_screen"],
    }
    for op, s in rows.items():
        lines.append(f"| {op} | {s['n']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
