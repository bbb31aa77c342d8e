"""Signing in: the password step, the second factor (TOTP code or first enrolment), lockout and the
per-address throttle, and unlocking.

Contract of the pages built on this (web/views/auth.py): every refusal looks the same to the
person signing in ("Those details did not work"), whether the user name is unknown, the password
wrong, the account locked or disabled; only the audit trail and LoginFailure.reason tell them
apart. A refusal is committed (failure row, audit row, a lock if it was the last straw) before the
page answers.

Lockout (CJIS AC-7): `failure_limit` failures of one account within `failure_window`, counting only
failures since its last unlock, lock it until a supervisor or administrator unlocks it. Throttle
(ASVS 6.1.1, against locking out the whole floor): once one client address has `client_failure_limit`
failures in the window, its further attempts are refused before any password is checked, so they
count against no account.
"""

from __future__ import annotations

import re
import time
from binascii import unhexlify
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from crisisdesk.accounts import policy
from crisisdesk.accounts.models import AccountLock, LoginFailure, User
from crisisdesk.audit.services import record, record_denied
from crisisdesk.calls.errors import Forbidden, NotFound
from crisisdesk.domain.roles import HUMAN_ROLES, may

# A TOTP code is six ASCII digits (RFC 6238 as authenticator apps use it); `\d` would also take
# other scripts' digits, which int() accepts.
CODE = re.compile(r"[0-9]{6}")
DEVICE_NAME = "Authenticator app"


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    THROTTLED = "throttled"  # this client address failed too often: answer 429, check nothing


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    user: User | None = None
    device: TOTPDevice | None = None


REFUSED = SignInResult(Outcome.REFUSED)
THROTTLED = SignInResult(Outcome.THROTTLED)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def is_person(user: Any) -> bool:
    return getattr(user, "role", "") in HUMAN_ROLES


def open_lock(user: User) -> AccountLock | None:
    return AccountLock.objects.filter(user=user, unlocked_at__isnull=True).first()


def is_locked(user: User) -> bool:
    return AccountLock.objects.filter(user=user, unlocked_at__isnull=True).exists()


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def client_is_throttled(client_addr: str, now: datetime | None = None) -> bool:
    rules = policy.current()
    since = _now(now) - rules.failure_window
    recent = LoginFailure.objects.filter(client_addr=client_addr, at__gte=since).count()
    return recent >= rules.client_failure_limit


def _refuse_throttled(step: str) -> SignInResult:
    with transaction.atomic(durable=True):
        record(None, "login.throttled", outcome="denied", details={"step": step})
    return THROTTLED


def _fail(account: User | None, step: str, reason: str, client_addr: str, now: datetime) -> None:
    """Record one failure (inside the caller's transaction) and lock the account on the last straw."""
    LoginFailure.objects.create(at=now, user=account, client_addr=client_addr, step=step, reason=reason)
    details = {"step": step, "reason": reason}
    if account is None:
        record(None, "login.failure", outcome="denied", details=details, object_type="user")
        return
    record(None, "login.failure", account, outcome="denied", details=details)
    if reason in {"locked", "inactive"}:
        return  # already out of use: nothing more to lock
    rules = policy.current()
    since = now - rules.failure_window
    last_unlock = AccountLock.objects.filter(user=account).aggregate(at=Max("unlocked_at"))["at"]
    if last_unlock is not None and last_unlock > since:
        since = last_unlock  # an unlock starts the count again
    failures = LoginFailure.objects.filter(user=account, at__gt=since).count()
    if failures >= rules.failure_limit:
        lock = AccountLock.objects.create(user=account, locked_at=now, failures=failures)
        record(
            None,
            "account.lock",
            account,
            outcome="denied",
            details={
                "lock_id": lock.pk,
                "failures": failures,
                "window_seconds": rules.failure_window.seconds,
            },
        )


def check_password(
    username: str, password: str, *, client_addr: str, now: datetime | None = None
) -> SignInResult:
    """The first step. OK means only that the password is right for an active, unlocked person's
    account: the session starts after the second factor (`verify_code` / `enrol_device`)."""
    now = _now(now)
    if client_is_throttled(client_addr, now):
        return _refuse_throttled("password")
    # authenticate() runs the password hasher even for an unknown user name, so the answer takes
    # the same time whether or not the account exists.
    user = authenticate(None, username=username, password=password)
    with transaction.atomic(durable=True):
        account = User.objects.select_for_update().filter(username=username).first()
        if account is None:
            reason = "unknown_account"
        elif is_locked(account):
            reason = "locked"  # even with the right password: locked means locked
        elif not account.is_active:
            reason = "inactive"
        elif user is None:
            reason = "wrong_password"
        elif not is_person(account):
            reason = "not_a_person"  # integration accounts use tokens; they never sign in here
        else:
            return SignInResult(Outcome.OK, user=account)
        _fail(account, "password", reason, client_addr, now)
    return REFUSED


def _signable(user_id: int, client_addr: str, now: datetime) -> tuple[User | None, SignInResult | None]:
    """The account between the two steps, locked for update; or the refusal if it may not go on."""
    account = User.objects.select_for_update().filter(pk=user_id).first()
    if account is None:
        return None, REFUSED
    if is_locked(account) or not account.is_active:
        _fail(account, "code", "locked" if is_locked(account) else "inactive", client_addr, now)
        return None, REFUSED
    return account, None


def verify_code(user_id: int, code: str, *, client_addr: str, now: datetime | None = None) -> SignInResult:
    """The second step for an account with a confirmed TOTP device. A code is accepted once (the
    device keeps the last time step it accepted, `last_t`) and only within the device's tolerance
    (one 30-second step either side)."""
    now = _now(now)
    if client_is_throttled(client_addr, now):
        return _refuse_throttled("code")
    code = code.replace(" ", "")
    with transaction.atomic(durable=True):
        account, refused = _signable(user_id, client_addr, now)
        if account is None:
            return refused or REFUSED
        device = TOTPDevice.objects.select_for_update().filter(user=account, confirmed=True).first()
        if device is not None and CODE.fullmatch(code) and device.verify_token(code):
            return SignInResult(Outcome.OK, user=account, device=device)
        _fail(account, "code", "wrong_code" if device is not None else "no_device", client_addr, now)
    return REFUSED


def new_device_key() -> str:
    """A fresh secret for enrolment (hex, 20 bytes as RFC 4226 recommends); kept in the session
    until a code confirms it, so showing the enrolment page writes nothing."""
    from django_otp.util import random_hex

    return random_hex(20)


def code_time_step(key_hex: str, code: str, tolerance: int = 1) -> int | None:
    """The time step at which `code` is valid for `key_hex` (within `tolerance` steps), or None."""
    if not CODE.fullmatch(code):
        return None
    totp = TOTP(unhexlify(key_hex.encode()))
    totp.time = time.time()
    return totp.t() if totp.verify(int(code), tolerance) else None


def enrol_device(
    user_id: int, key_hex: str, code: str, *, client_addr: str, now: datetime | None = None
) -> SignInResult:
    """First enrolment: a valid code for the new key creates the account's confirmed device, and
    counts as the second factor of this sign-in. An account that already has a device cannot enrol
    another here (that would let a stolen password replace the second factor)."""
    now = _now(now)
    if client_is_throttled(client_addr, now):
        return _refuse_throttled("code")
    code = code.replace(" ", "")
    with transaction.atomic(durable=True):
        account, refused = _signable(user_id, client_addr, now)
        if account is None:
            return refused or REFUSED
        if has_confirmed_device(account):
            _fail(account, "code", "already_enrolled", client_addr, now)
            return REFUSED
        step = code_time_step(key_hex, code)
        if step is None:
            _fail(account, "code", "wrong_code", client_addr, now)
            return REFUSED
        # last_t: the code that confirmed the device cannot be used again to sign in.
        device = TOTPDevice.objects.create(
            user=account, name=DEVICE_NAME, key=key_hex, confirmed=True, last_t=step
        )
        record(account, "mfa.enrol", device, details={"user_id": account.pk, "kind": "totp"})
    return SignInResult(Outcome.OK, user=account, device=device)


def _may_unlock(actor: Any) -> bool:
    return may(getattr(actor, "role", ""), "unlock_account")


def locked_accounts(actor: Any) -> list[AccountLock]:
    """Open locks, oldest first, for the unlock page (supervisors and administrators)."""
    if not _may_unlock(actor):
        raise Forbidden("only a supervisor or an administrator sees locked accounts")
    return list(
        AccountLock.objects.filter(unlocked_at__isnull=True).select_related("user").order_by("locked_at")
    )


def unlock_account(actor: Any, user_id: int, *, now: datetime | None = None) -> AccountLock | None:
    """Release a locked account (audited). Returns the lock released, None if it was not locked.

    Raises Forbidden (after committing the denial's audit row) for anyone but a supervisor or an
    administrator, NotFound for an unknown account.
    """
    now = _now(now)
    if not _may_unlock(actor):
        record_denied(actor, "account.unlock", object_type="user", object_id=str(user_id))
        raise Forbidden("only a supervisor or an administrator may unlock an account")
    with transaction.atomic(durable=True):
        account = User.objects.select_for_update().filter(pk=user_id).first()
        if account is None:
            raise NotFound("no such account")
        lock = open_lock(account)
        if lock is None:
            return None
        lock.unlocked_at = now
        lock.unlocked_by = actor
        lock.save(update_fields=["unlocked_at", "unlocked_by"])
        record(
            actor,
            "account.unlock",
            account,
            details={"lock_id": lock.pk, "locked_at": lock.locked_at.isoformat()},
        )
    return lock


def install_known_device(actor: Any, user: User, key_hex: str, *, purpose: str) -> TOTPDevice:
    """Give an account a confirmed TOTP device with a key chosen by the caller (the demo's printed
    keys, the benchmark's clients): never for real accounts, whose keys are made at enrolment.
    Idempotent: an account that already has a confirmed device keeps it."""
    existing = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if existing is not None:
        return existing
    with transaction.atomic(durable=True):
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key_hex, confirmed=True)
        record(actor, "mfa.enrol", device, details={"user_id": user.pk, "kind": "totp", "purpose": purpose})
    return device


def current_code(device: TOTPDevice) -> str:
    """The code the device's authenticator app shows now (for the debug-only `crisisdesk totp`)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
