"""Prepare a benchmark database: users, an API token and an always-open protocol. Prints JSON."""

from __future__ import annotations

import json
import os
import secrets
import sys

import django


def main(n_telecommunicators: int, n_social_workers: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings_test")
    django.setup()
    import yaml

    from crisisdesk.accounts.models import User
    from crisisdesk.accounts.services import (
        create_integration_account,
        install_known_device,
        issue_api_token,
    )
    from crisisdesk.calls import services
    from crisisdesk.calls.protocols import publish_protocol
    from crisisdesk.protocols import DEFAULT_PROTOCOL, read_protocol_document

    password = "benchmark password 2026"  # noqa: S105 - throwaway database
    # Open around the clock so every run measures transfers, whatever the hour.
    doc = read_protocol_document(DEFAULT_PROTOCOL)
    doc["version"] = f"{doc['version']}-bench-always-open"
    doc["service_calendar"] = {
        "hours": [
            {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00", "close": "24:00"}
        ],
        "holidays": {"country": None},
    }
    publish_protocol(None, yaml.safe_dump(doc), system=True, change_note="benchmark")
    tcs = [f"bench-tc{i}" for i in range(n_telecommunicators)]
    sws = [f"bench-sw{i}" for i in range(n_social_workers)]
    for name in tcs:
        User.objects.create_user(username=name, password=password, role="telecommunicator")
    for name in [*sws, "bench-sw-standby"]:
        User.objects.create_user(username=name, password=password, role="social_worker")
    # A social worker who stays available, so live decisions keep saying "transfer" while the
    # claiming social workers are briefly busy.
    services.set_availability(User.objects.get(username="bench-sw-standby"), "available")
    for name in sws:
        services.set_availability(User.objects.get(username=name), "available")
    # Every person signs in with a TOTP code: each gets a device with a key the load clients know.
    totp_keys = {name: secrets.token_hex(20) for name in [*tcs, *sws, "bench-sw-standby"]}
    for name, key in totp_keys.items():
        install_known_device(None, User.objects.get(username=name), key, purpose="bench")
    cad = create_integration_account("bench-cad")
    _, raw = issue_api_token(cad, "benchmark")
    json.dump(
        {
            "password": password,
            "telecommunicators": tcs,
            "social_workers": sws,
            "token": raw,
            "totp_keys": totp_keys,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
