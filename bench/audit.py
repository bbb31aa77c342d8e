"""`python -m bench.audit`: the privacy review on a year of audit rows (run by `make bench`).

1. A fresh SQLite database in a temporary folder (or the database DATABASE_URL names), migrated.
2. A year of audit trail generated through the ordinary chained writer (`audit.services._append`,
   in batches): 400 people, each in 1-4 cases with their calls, referrals and follow-ups, and every
   working day ~8,000 rows (reads of calls and cases by 12 staff, queue reads, writes) spread over
   365 days; seed 2026. The rows reference real person, case, call, referral and follow-up records.
3. "Who viewed this person's records between these dates" (audit.queries.who_viewed_person) for
   30 people over the whole year and over one month: p50 / p95 / max in milliseconds; and
   `audit verify` over the whole chain.
Results: bench/results/audit.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
    }


def build(rows_per_day: int, people: int, seed: int = 2026) -> dict[str, Any]:
    from django.db import transaction

    from crisisdesk.accounts.models import User
    from crisisdesk.audit.models import AuditEvent
    from crisisdesk.audit.services import _append
    from crisisdesk.calls.models import Call
    from crisisdesk.casework.models import Case, CaseParticipant, Person

    rnd = random.Random(seed)
    staff = [
        User.objects.create(username=f"bench-{role}-{i}", role=role)
        for i, role in enumerate(["social_worker"] * 6 + ["supervisor"] * 2 + ["telecommunicator"] * 4)
    ]
    start = datetime(2025, 12, 1, tzinfo=UTC)
    # Records the rows point at: people in cases with calls (minimal rows; the review reads ids only).
    person_ids, case_ids, call_ids = [], [], []
    owner = staff[0]
    for p in range(people):
        person = Person.objects.create(
            given_name=f"P{p}", family_name="Bench", created_at=start, created_by=owner
        )
        person_ids.append(person.pk)
        for _ in range(rnd.randint(1, 4)):
            call = Call.objects.create(
                source="bench", incident_id=f"B-{len(call_ids)}", received_at=start, call_type_raw="x",
                payload_sha256="0" * 64, created_at=start,
            )  # fmt: skip
            case = Case.objects.create(
                call=call, owner=owner, opened_at=start, origin="transfer", status="closed"
            )
            CaseParticipant.objects.create(
                case=case, person=person, relation="person_in_crisis", added_by=owner, added_at=start
            )
            case_ids.append(case.pk)
            call_ids.append(call.pk)
    kinds = [("call", call_ids, 0.45), ("case", case_ids, 0.35), ("person", person_ids, 0.20)]
    t0 = time.perf_counter()
    total = 0
    for day in range(365):
        base = start + timedelta(days=day)
        batch: list[AuditEvent] = []
        for i in range(rows_per_day):
            kind, ids, _ = rnd.choices(kinds, weights=[w for *_, w in kinds])[0]
            actor = rnd.choice(staff)
            batch.append(
                AuditEvent(
                    at=base + timedelta(seconds=i * 86400 / rows_per_day),
                    actor=actor,
                    actor_role=actor.role,
                    action=f"{kind}.read" if rnd.random() < 0.85 else f"{kind}.update",
                    object_type=kind,
                    object_id=str(rnd.choice(ids)),
                    request_id=f"{day:03d}{i:06d}bench",
                    client_addr="10.0.0.1",
                )
            )
        with transaction.atomic():
            _append(batch)
        total += len(batch)
    return {"rows": total, "people": person_ids, "load_s": round(time.perf_counter() - t0, 1)}


def measure(person_ids: list[int], repeat: int) -> dict[str, Any]:
    from crisisdesk.accounts.models import User
    from crisisdesk.audit.queries import who_viewed_person
    from crisisdesk.audit.services import verify_chain

    supervisor = User.objects.filter(role="supervisor").first()
    rnd = random.Random(7)
    out: dict[str, Any] = {}
    for label, span in (("whole year", 366), ("one month", 31)):
        times, found = [], []
        for pid in rnd.sample(person_ids, repeat):
            lo = datetime(2025, 12, 1, tzinfo=UTC) + timedelta(days=0 if span > 31 else 150)
            t = time.perf_counter()
            rows = who_viewed_person(supervisor, pid, lo, lo + timedelta(days=span))
            times.append((time.perf_counter() - t) * 1000)
            found.append(len(rows))
        out[label] = {**_stats(times), "median_rows": int(statistics.median(found))}
    t = time.perf_counter()
    result = verify_chain()
    out["verify"] = {"s": round(time.perf_counter() - t, 1), "ok": result.ok, "rows": result.rows}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-per-day", type=int, default=2500)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="crisisdesk-bench-audit-")
    os.environ.setdefault("CRISISDESK_DATA_DIR", workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings_test")
    import django
    from django.core.management import call_command

    django.setup()
    from django.conf import settings

    from crisisdesk.audit.models import AuditEvent

    call_command("migrate", verbosity=0)
    if AuditEvent.objects.exists():
        raise SystemExit("the benchmark needs an empty database (use a fresh DATABASE_URL)")
    built = build(args.rows_per_day, args.people)
    results = measure(built["people"], args.repeat)
    doc = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "rows": built["rows"],
        "load_s": built["load_s"],
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "audit.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    lines = [
        f"# Privacy review on a year of audit rows ({doc['database']})",
        "",
        f"{doc['at']}, Python {doc['machine']['python']}, {doc['machine']['cpus']} CPUs. "
        f"{built['rows']:,} chained rows written in {built['load_s']} s ({args.people} people).",
        "",
        "| who viewed a person's records | p50 ms | p95 ms | max ms | median rows |",
        "|---|---:|---:|---:|---:|",
    ]
    for label in ("whole year", "one month"):
        r = results[label]
        lines.append(f"| {label} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['median_rows']} |")
    v = results["verify"]
    lines += ["", f"`audit verify` over {v['rows']:,} rows: {v['s']} s, chain intact: {v['ok']}."]
    (RESULTS / "audit.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
