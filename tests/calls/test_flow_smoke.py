from __future__ import annotations

import pytest

from crisisdesk.calls import services
from crisisdesk.domain.transfers import InvalidTransition
from tests.calls.builders import OPEN_AT, requested_transfer


@pytest.mark.django_db(transaction=True)
def test_screen_transfer_claim(mecc_protocol, telecommunicator, social_worker):
    transfer = requested_transfer(telecommunicator, social_worker)
    assert transfer.status == "requested"
    claimed = services.claim_transfer(social_worker, transfer.pk, now=OPEN_AT)
    assert claimed.status == "claimed" and claimed.claimed_by == social_worker
    with pytest.raises(InvalidTransition):
        services.claim_transfer(social_worker, transfer.pk, now=OPEN_AT)
