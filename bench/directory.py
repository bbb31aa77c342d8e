"""`python -m bench.directory`: directory search speed on 10,000 services (run by `make bench`).

1. A fresh SQLite database in a temporary folder (or the database DATABASE_URL names), migrated.
2. 10,000 services generated deterministically (seed 2026) as HSDS 3.0 service documents around
   Minneapolis (each with an organization, a location with coordinates within ~25 km of
   downtown, an address, 1-2 phones, 1-3 needs, 1-3 languages, access modes, eligibility facets
   and one of seven hour patterns: weekday office, evenings, overnight, 24/7, Tue/Thu, first
   Saturday, none listed), imported through the ordinary import path in batches of 2,000.
3. Typical searches, each repeated with varying needs / languages / points / instants
   (America/Chicago, weekday afternoons and nights, Thanksgiving): the query layer
   (directory.search.search) and the whole page (GET /directory/ through Django's test client,
   template included). p50 / p95 / max in milliseconds.
Results: bench/results/directory.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TZ = ZoneInfo("America/Chicago")
DOWNTOWN = (44.9778, -93.2650)
NEEDS = [
    "mental_health_care",
    "addiction_treatment",
    "housing_support",
    "crisis_services",
    "food",
    "benefits",
    "legal",
    "family_support",
]
LANGS = ["en", "es", "so", "hmn", "om", "am", "vi", "ar", "ru", "kar"]
HOURS = [
    (
        [{"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": "08:00", "closes_at": "17:00"}],
        ["closed_on_holidays"],
    ),
    ([{"freq": "WEEKLY", "byday": "MO,TU,WE,TH", "opens_at": "12:00", "closes_at": "20:30"}], []),
    ([{"opens_at": "19:00", "closes_at": "07:00"}], []),
    ([], ["open_24_7"]),
    (
        [{"freq": "WEEKLY", "byday": "TU,TH", "opens_at": "10:00", "closes_at": "14:00"}],
        ["closed_on_holidays"],
    ),
    ([{"freq": "MONTHLY", "byday": "1SA", "opens_at": "10:00", "closes_at": "13:00"}], []),
    ([], []),
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def stats(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1),
    }


def _vary(rule: dict[str, str], rng: random.Random) -> dict[str, str]:
    opens_h = int(rule["opens_at"][:2]) + rng.choice([-1, 0, 1])
    return {
        **rule,
        "opens_at": f"{opens_h % 24:02d}:{rng.choice(['00', '15', '30', '45'])}",
        "closes_at": f"{rule['closes_at'][:2]}:{rng.choice(['00', '15', '30', '45'])}",
    }


def generate(n: int, seed: int = 2026) -> list[Any]:
    """`n` listings, the same ones on every run (seeded)."""
    from crisisdesk.directory.builders import Hours, Listing

    rng = random.Random(seed)
    out = []
    for i in range(n):
        rules, tags = HOURS[i % len(HOURS)]
        # Vary the times (about 300 distinct hour patterns) so that search cannot lean on a handful.
        rules = [_vary(r, rng) for r in rules]
        lat = DOWNTOWN[0] + rng.uniform(-0.22, 0.22)
        lon = DOWNTOWN[1] + rng.uniform(-0.30, 0.30)
        age = rng.random()
        out.append(
            Listing(
                key=f"bench-{i}",
                name=f"Bench service {i}",
                organization=f"Bench organization {i // 4}",
                description="Generated for the directory benchmark.",
                needs=rng.sample(NEEDS, rng.randint(1, 3)),
                phones=[(f"612-555-{i % 10000:04d}", "voice")],
                address=(f"{100 + i} Bench Ave", "Minneapolis", "MN", "55401"),
                latitude=round(lat, 5),
                longitude=round(lon, 5),
                hours=Hours(rules),
                hours_tags=tags,
                languages=["en", *rng.sample(LANGS[1:], rng.randint(0, 2))],
                access=rng.sample(["walk_in", "appointment", "phone"], rng.randint(1, 2)),
                insurance=rng.sample(
                    ["medicaid", "medicare", "private", "uninsured", "no_cost"], rng.randint(1, 3)
                ),
                gender=["female"] if i % 23 == 0 else [],
                residency=["county:hennepin"] if i % 5 == 0 else (["county:ramsey"] if i % 7 == 0 else []),
                minimum_age=18 if age < 0.5 else (12 if age < 0.6 else None),
                maximum_age=24 if 0.5 <= age < 0.6 else None,
                assured_date=f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}" if i % 10 else None,
            )
        )
    return out


def load(n: int) -> float:
    from crisisdesk.directory.builders import service_doc
    from crisisdesk.directory.services import import_hsds_documents

    started = time.perf_counter()
    listings = generate(n)
    for start in range(0, n, 2000):
        docs = [("service", service_doc(x)) for x in listings[start : start + 2000]]
        report = import_hsds_documents(None, docs, source=f"bench[{start}]")
        if report.problems:
            raise SystemExit(report.text()[:2000])
    return time.perf_counter() - started


def scenarios(rng: random.Random) -> dict[str, Callable[[], tuple[Any, datetime]]]:
    from crisisdesk.directory.search import SearchParams

    def instant() -> datetime:
        day = rng.choice([23, 24, 25, 26, 27])  # Mon-Fri of Thanksgiving week 2026 (26 = Thanksgiving)
        return datetime(2026, 11, day, rng.choice([3, 10, 14, 19, 23]), rng.choice([0, 30]), tzinfo=TZ)

    def point() -> tuple[float, float]:
        return (DOWNTOWN[0] + rng.uniform(-0.1, 0.1), DOWNTOWN[1] + rng.uniform(-0.1, 0.1))

    return {
        "need": lambda: (SearchParams(needs=(rng.choice(NEEDS),)), instant()),
        "need + open now": lambda: (lambda t: (SearchParams(needs=(rng.choice(NEEDS),), open_at=t), t))(
            instant()
        ),
        "need + language + open now": lambda: (
            lambda t: (SearchParams(needs=(rng.choice(NEEDS),), language=rng.choice(LANGS[1:]), open_at=t), t)
        )(instant()),
        "within 5 km + open now": lambda: (lambda t: (SearchParams(near=point(), within_km=5, open_at=t), t))(
            instant()
        ),
        "from a case (need, language, 10 km, age, insurance, residency)": lambda: (
            SearchParams(
                needs=(rng.choice(NEEDS),),
                language=rng.choice(["so", "es", "hmn"]),
                near=point(),
                within_km=10,
                age=rng.choice([16, 30, 70]),
                insurance=rng.choice(["medicaid", "uninsured"]),
                county="Hennepin",
            ),
            instant(),
        ),
        "no filter (first 50 of 10,000)": lambda: (SearchParams(), instant()),
    }


def measure(repeat: int, seed: int = 7) -> dict[str, Any]:
    from django.test import Client
    from tests.conftest import sign_in

    from crisisdesk.accounts.models import User
    from crisisdesk.directory.search import search
    from crisisdesk.web.views import directory as views

    rng = random.Random(seed)
    out: dict[str, Any] = {}
    for name, make in scenarios(rng).items():
        times, totals = [], []
        for _ in range(repeat):
            params, at = make()
            started = time.perf_counter()
            result = search(params, now=at)
            times.append(time.perf_counter() - started)
            totals.append(result.total)
        out[name] = {"search": stats(times), "median_results": sorted(totals)[len(totals) // 2]}
    user = User.objects.filter(username="bench-sw").first() or User.objects.create_user(
        username="bench-sw",
        password="bench-password-x",  # noqa: S106 - a throwaway user in a temporary database
        role="social_worker",
    )
    client = Client(SERVER_NAME="localhost")
    sign_in(client, user)  # force_login plus the verified second factor and the session record
    pages = {
        "page: need + open now": {"need": "food", "when": "now"},
        "page: from a case (need, language, 10 km)": {
            "need": "mental_health_care",
            "language": "so",
            "lat": "44.9773",
            "lng": "-93.2655",
            "within_km": "10",
        },
        "page: no filter": {"q": ""},
    }
    views.clock = lambda: datetime(2026, 11, 24, 14, 0, tzinfo=TZ)  # a Tuesday afternoon
    for name, query in pages.items():
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get("/directory/", query)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        out[name] = {"page": stats(times)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="crisisdesk-bench-directory-")
    os.environ.setdefault("CRISISDESK_DATA_DIR", workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings_test")
    import django
    from django.core.management import call_command

    django.setup()
    from django.conf import settings

    call_command("migrate", verbosity=0)
    from crisisdesk.directory.models import Service

    if Service.objects.count() > 0:
        raise SystemExit("the benchmark needs an empty directory (use a fresh DATABASE_URL)")
    load_s = load(args.services)
    results = measure(args.repeat)
    doc = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "services": args.services,
        "repeat": args.repeat,
        "import_s": round(load_s, 1),
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "directory.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    lines = [
        f"# Directory search on {args.services:,} services ({doc['database']})",
        "",
        f"{doc['at']}, Python {doc['machine']['python']}, {doc['machine']['cpus']} CPUs. "
        f"Import of the generated HSDS documents: {doc['import_s']} s. Each row: {args.repeat} runs "
        "with varying needs, languages, points and instants (Thanksgiving week 2026, America/Chicago).",
        "",
        "| search | what is timed | p50 ms | p95 ms | max ms | median results |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, row in results.items():
        kind = "search" if "search" in row else "page"
        s = row[kind]
        what = "query layer" if kind == "search" else "whole page (GET /directory/)"
        lines.append(
            f"| {name} | {what} | {s['p50_ms']} | {s['p95_ms']} | {s['max_ms']} | {row.get('median_results', '')} |"
        )
    (RESULTS / "directory.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
