"""Exactly-once under contention, with real threads on a real database (SQLite or PostgreSQL).

Each thread has its own database connection; a barrier releases them at the same moment. Run on
both databases:
    .venv/bin/pytest tests/calls/test_concurrency.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crisisdesk .venv/bin/pytest tests/calls/test_concurrency.py

On SQLite the tests run on a database *file* configured like production (WAL, IMMEDIATE
transactions, a 20 s busy timeout). Django's default SQLite test database is in memory with a shared
cache, which locks per table and answers a contended lock at once with "database table is locked"
instead of waiting: it cannot show how the real database behaves under contention.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.db import connection

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls import services
from crisisdesk.calls.models import Call, Transfer
from crisisdesk.calls.schemas import CadCall
from crisisdesk.domain.roles import Role
from crisisdesk.domain.transfers import InvalidTransition
from tests.calls.builders import OPEN_AT, cad_record, new_call, requested_transfer, screened

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("mecc_protocol")]

THREADS = 8
ROUNDS = 5
T = TypeVar("T")


def run_at_once(fns: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run each function in its own thread, released together; returns results or exceptions."""
    barrier = threading.Barrier(len(fns))
    results: list[T | BaseException] = [RuntimeError("did not run")] * len(fns)

    def worker(i: int, fn: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - the test inspects every outcome
            results[i] = exc
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(fns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def test_exactly_one_of_simultaneous_claims_wins(make_user: Any, telecommunicator: Any) -> None:
    workers = [make_user(Role.SOCIAL_WORKER, f"sw-{i}") for i in range(THREADS)]
    for round_ in range(ROUNDS):
        transfer = requested_transfer(telecommunicator, workers[0], f"MP-26-{round_:06d}")

        def claim(sw: Any, pk: int = transfer.pk) -> Transfer:
            return services.claim_transfer(sw, pk, now=OPEN_AT)

        results = run_at_once([lambda sw=sw: claim(sw) for sw in workers])
        won = [r for r in results if isinstance(r, Transfer)]
        lost = [r for r in results if isinstance(r, InvalidTransition)]
        unexpected = [r for r in results if not isinstance(r, Transfer | InvalidTransition)]
        assert unexpected == [], unexpected
        assert len(won) == 1 and len(lost) == THREADS - 1
        assert all(exc.status == "claimed" for exc in lost)
        transfer.refresh_from_db()
        assert transfer.status == "claimed" and transfer.claimed_by_id == won[0].claimed_by_id
        claims = AuditEvent.objects.filter(action="transfer.claim", object_id=str(transfer.pk))
        assert claims.filter(outcome="ok").count() == 1
        assert claims.filter(outcome="refused").count() == THREADS - 1


def test_concurrent_identical_intakes_make_one_call(cad: Any) -> None:
    for round_ in range(ROUNDS):
        record = CadCall.model_validate(cad_record(f"MP-26-1{round_:05d}"))
        results = run_at_once([lambda r=record: services.intake_call(cad, r) for _ in range(THREADS)])
        assert all(isinstance(r, services.IntakeResult) for r in results), results
        intakes = [r for r in results if isinstance(r, services.IntakeResult)]
        assert sum(r.created for r in intakes) == 1
        assert len({r.call.pk for r in intakes}) == 1 and all(r.conflict is None for r in intakes)
    assert Call.objects.count() == ROUNDS
    assert AuditEvent.objects.filter(action="call.intake").count() == ROUNDS
    assert AuditEvent.objects.filter(action="call.intake_repeat").count() == ROUNDS * (THREADS - 1)


def test_concurrent_transfer_requests_make_one_transfer(telecommunicator: Any, social_worker: Any) -> None:
    services.set_availability(social_worker, "available", now=OPEN_AT)
    for round_ in range(ROUNDS):
        call = new_call(telecommunicator, f"MP-26-2{round_:05d}")
        screened(telecommunicator, call)
        results = run_at_once(
            [
                lambda pk=call.pk: services.request_transfer(telecommunicator, pk, now=OPEN_AT)
                for _ in range(THREADS)
            ]
        )
        assert all(isinstance(r, Transfer) for r in results), results
        assert len({r.pk for r in results if isinstance(r, Transfer)}) == 1
        assert Transfer.objects.filter(call=call).count() == 1


def test_a_sweep_and_a_late_claim_time_out_once(make_user: Any, telecommunicator: Any) -> None:
    workers = [make_user(Role.SOCIAL_WORKER, f"sw-{i}") for i in range(THREADS // 2)]
    transfer = requested_transfer(telecommunicator, workers[0])
    late = OPEN_AT + timedelta(seconds=91)
    fns: list[Callable[[], Any]] = [
        lambda sw=sw: services.claim_transfer(sw, transfer.pk, now=late) for sw in workers
    ]
    fns += [lambda: services.expire_transfers(now=late) for _ in range(THREADS // 2)]
    results = run_at_once(fns)
    claims = results[: THREADS // 2]
    assert all(isinstance(r, InvalidTransition) and r.action == "claim" for r in claims), results
    assert all(isinstance(r, InvalidTransition) and r.status == "timed_out" for r in claims)
    assert sum(r == [transfer.pk] for r in results[THREADS // 2 :]) <= 1
    transfer.refresh_from_db()
    assert transfer.status == "timed_out"
    assert AuditEvent.objects.filter(action="transfer.timeout", object_id=str(transfer.pk)).count() == 1
    refused = AuditEvent.objects.filter(
        action="transfer.claim", outcome="refused", object_id=str(transfer.pk)
    )
    assert refused.count() == THREADS // 2  # every late claim is on record
