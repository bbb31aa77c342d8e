"""A social worker is available to live decisions only while their queue screen is open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from crisisdesk.calls import services
from crisisdesk.calls.models import SocialWorkerStatus
from tests.calls.builders import OPEN_AT, new_call, screened
from tests.conftest import sign_in

pytestmark = pytest.mark.usefixtures("mecc_protocol")


def test_available_and_present_gets_a_transfer(telecommunicator, social_worker) -> None:
    services.set_availability(social_worker, "available", now=OPEN_AT)
    decision = screened(telecommunicator, new_call(telecommunicator), at=OPEN_AT + timedelta(seconds=59))
    assert decision.outcome == "transfer"


def test_available_but_screen_closed_is_unavailable(telecommunicator, social_worker) -> None:
    services.set_availability(social_worker, "available", now=OPEN_AT)
    decision = screened(telecommunicator, new_call(telecommunicator), at=OPEN_AT + timedelta(seconds=61))
    assert decision.outcome == "fallback"
    assert decision.reason_codes == ["social_worker_unavailable"]
    assert decision.social_worker_available is False


def test_polling_keeps_the_social_worker_present(telecommunicator, social_worker) -> None:
    services.set_availability(social_worker, "available", now=OPEN_AT)
    for minute in range(1, 6):  # the screen checks in through the afternoon
        services.record_presence(social_worker, now=OPEN_AT + timedelta(minutes=minute))
    decision = screened(
        telecommunicator, new_call(telecommunicator), at=OPEN_AT + timedelta(minutes=5, seconds=30)
    )
    assert decision.outcome == "transfer"


def test_presence_is_written_at_most_every_15_seconds(social_worker) -> None:
    services.set_availability(social_worker, "available", now=OPEN_AT)
    services.record_presence(social_worker, now=OPEN_AT + timedelta(seconds=10))
    row = SocialWorkerStatus.objects.get(user=social_worker)
    assert row.last_seen_at == OPEN_AT  # too soon: no write
    services.record_presence(social_worker, now=OPEN_AT + timedelta(seconds=16))
    row.refresh_from_db()
    assert row.last_seen_at == OPEN_AT + timedelta(seconds=16)


def test_only_social_workers_check_in(telecommunicator, social_worker) -> None:
    services.record_presence(telecommunicator, now=OPEN_AT)
    assert not SocialWorkerStatus.objects.filter(user=telecommunicator).exists()


def test_away_is_unavailable_even_when_present(telecommunicator, social_worker) -> None:
    services.set_availability(social_worker, "away", now=OPEN_AT)
    services.record_presence(social_worker, now=OPEN_AT + timedelta(seconds=20))
    decision = screened(telecommunicator, new_call(telecommunicator), at=OPEN_AT + timedelta(seconds=30))
    assert decision.reason_codes == ["social_worker_unavailable"]


def test_the_queue_poll_checks_in(social_worker) -> None:
    services.set_availability(social_worker, "available")
    SocialWorkerStatus.objects.filter(user=social_worker).update(last_seen_at=None)
    client = Client()
    sign_in(client, social_worker)
    assert client.get("/queue/live/", HTTP_HX_REQUEST="true").status_code in (200, 204)
    assert SocialWorkerStatus.objects.get(user=social_worker).last_seen_at is not None
    assert services.social_worker_available()


def test_the_floor_flags_an_available_social_worker_whose_screen_is_closed(social_worker, supervisor) -> None:
    services.set_availability(social_worker, "available", now=OPEN_AT)  # long ago: screen closed since
    client = Client()
    sign_in(client, supervisor)
    html = client.get("/floor/live/", HTTP_HX_REQUEST="true").content.decode()
    assert "queue screen closed" in html
    services.set_availability(social_worker, "available")  # at the screen now
    html = client.get("/floor/live/", HTTP_HX_REQUEST="true").content.decode()
    assert "queue screen closed" not in html


def test_polling_the_api_queue_checks_in(social_worker) -> None:
    services.set_availability(social_worker, "available")
    SocialWorkerStatus.objects.filter(user=social_worker).update(last_seen_at=None)
    assert not services.social_worker_available()
    client = Client()
    sign_in(client, social_worker)
    assert client.get("/api/v1/transfers").status_code == 200
    assert services.social_worker_available()
