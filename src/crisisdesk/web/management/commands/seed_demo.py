"""`crisisdesk seed_demo`: demo accounts for every role and a realistic weekday at MECC.

Idempotent: missing demo accounts are created (existing ones are left as they are), the shipped MECC
protocol is published only when no protocol is active, and a day of calls is loaded only once per day.

The day is replayed through the services with explicit `now` values, in time order, so every row
(decisions with their reasons, transfers, claims, timeouts, fallbacks, escalations, availability and
the audit trail) is exactly what the pages would have produced. Call types are MECC's real CAD names;
people, narratives, phone numbers (555-01xx) and addresses (block level) are fictional.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from crisisdesk.accounts.models import ApiToken, User
from crisisdesk.accounts.services import (
    create_account,
    create_integration_account,
    install_known_device,
    issue_api_token,
    revoke_api_token,
)
from crisisdesk.calls import services
from crisisdesk.calls.errors import NoActiveProtocol
from crisisdesk.calls.models import Call
from crisisdesk.calls.protocols import active_protocol, publish_protocol
from crisisdesk.calls.schemas import CadCall
from crisisdesk.casework import services as casework
from crisisdesk.casework.models import Case
from crisisdesk.directory.services import seed_demo_directory
from crisisdesk.domain.calendar import ServiceCalendar
from crisisdesk.domain.roles import Role
from crisisdesk.protocols import DEFAULT_PROTOCOL, load_protocol
from crisisdesk.web.demo_casework import day_casework, demo_location, load_history, load_week, work_case

CAD_SOURCE = "mecc-cad"
FULL_SHIFT = timedelta(hours=8, minutes=30)
FICTIONAL = "Demo call: people, numbers and address are fictional."


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    first_name: str
    last_name: str
    password: str  # printed by `crisisdesk demo`; demo only (the command refuses production settings)


DEMO_USERS = (
    DemoUser("tc.jordan", Role.TELECOMMUNICATOR, "Jordan", "Ellis", "amber-lantern-console-4821"),
    DemoUser("tc.quinn", Role.TELECOMMUNICATOR, "Quinn", "Larson", "copper-kettle-headset-7305"),
    DemoUser("sw.morgan", Role.SOCIAL_WORKER, "Morgan", "Lee", "quiet-harbor-caseload-2964"),
    DemoUser("sw.avery", Role.SOCIAL_WORKER, "Avery", "Johnson", "maple-bridge-outreach-5817"),
    DemoUser("sup.riley", Role.SUPERVISOR, "Riley", "Nguyen", "north-star-floorplan-3390"),
    DemoUser("eval.casey", Role.EVALUATOR, "Casey", "Thompson", "prairie-graph-estimate-6142"),
    DemoUser("admin.taylor", Role.ADMINISTRATOR, "Taylor", "Brooks", "granite-river-protocol-8057"),
)
CAD_USERNAME = "cad.mecc"
CAD_TOKEN_NAME = "demo CAD feed"  # noqa: S105 - the label of the token, not a secret
# Login order shown to a new user: the flow, then oversight.
LOGIN_ORDER = ("tc.jordan", "sw.morgan", "sup.riley", "eval.casey", "admin.taylor", "tc.quinn", "sw.avery")


def _answers(kind: str) -> dict[str, bool | None]:
    # Start from the shipped protocol (the one the demo publishes) with every question cleared.
    answers: dict[str, bool | None] = dict(load_protocol().all_clear_answers())
    if kind == "declined":
        answers["caller_accepts_social_worker"] = False
    elif kind == "incomplete":
        answers["medical_emergency"] = None
        answers["caller_accepts_social_worker"] = None
    elif kind in answers:
        answers[kind] = True
    return answers


# (position in the day 0..1, CAD call type, narrative, answers, plan, plan detail)
# Plans: complete:<minutes>, escalate, timeout, in_progress, fallback:<option>, none.
DEMO_DAY_FILE = Path(__file__).resolve().parents[2] / "demo_day.yaml"
DayEntry = tuple[float, str, str, str, str, str]


@cache
def demo_day() -> tuple[tuple[DayEntry, ...], tuple[tuple[int, str, str], ...], tuple[str, ...]]:
    """The demo weekday (data in web/demo_day.yaml): the calls, those left waiting, the addresses."""
    doc = yaml.safe_load(DEMO_DAY_FILE.read_text(encoding="utf-8"))
    day = tuple(
        (float(e["at"]), e["call_type"], e["narrative"], e["screening"], e["then"], e["detail"])
        for e in doc["day"]
    )
    fresh = tuple((int(e["minutes_ago"]), e["call_type"], e["narrative"]) for e in doc["waiting_on_console"])
    return day, fresh, tuple(doc["addresses"])


def demo_totp_key(username: str) -> str:
    """The demo account's TOTP secret (hex): fixed, so the printed key works in an authenticator app
    across runs; derived from the user name, and public like the demo passwords."""
    return hashlib.sha256(f"crisisdesk demo totp {username}".encode()).digest()[:20].hex()


def demo_totp_base32(username: str) -> str:
    return base64.b32encode(bytes.fromhex(demo_totp_key(username))).decode()


def create_demo_account(spec: DemoUser) -> User:
    """One demo person account, through the same write path (and audit row) as any account."""
    admin = spec.role is Role.ADMINISTRATOR  # the demo administrator uses the admin site
    return create_account(
        None,
        spec.username,
        role=spec.role,
        password=spec.password,
        first_name=spec.first_name,
        last_name=spec.last_name,
        is_staff=admin,
        is_superuser=admin,
    )


def is_service_day(calendar: ServiceCalendar, day: date) -> bool:
    return calendar.holiday_name(day) is None and any(day.weekday() in b.days for b in calendar.spec.hours)


def demo_window(now: datetime) -> tuple[datetime, datetime]:
    """The stretch of a service day the demo day fills: today 12:00 until ten minutes ago when today is a
    service day and the desk has been open three hours; otherwise the whole shift of the previous service day.
    Records never lie in the future."""
    calendar = ServiceCalendar(load_protocol(DEFAULT_PROTOCOL).calendar)
    tz = calendar.tz
    local = now.astimezone(tz)
    opens, closes = time(12, 0), time(20, 30)
    if is_service_day(calendar, local.date()) and local.time() >= time(15, 0):
        start = datetime.combine(local.date(), opens, tzinfo=tz)
        end = min(datetime.combine(local.date(), closes, tzinfo=tz), now - timedelta(minutes=10))
        return start, end
    day = local.date() - timedelta(days=1)
    while not is_service_day(calendar, day):
        day -= timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=tz), datetime.combine(day, closes, tzinfo=tz)


def incident_id(day: date, n: int) -> str:
    return f"MP-{day:%y}-{day.timetuple().tm_yday * 1000 + n:06d}"


class DayReplay:
    """Replays the demo day through the services in time order (a small discrete-event loop)."""

    def __init__(self, users: dict[str, User], start: datetime, end: datetime, limit: datetime):
        self.users = users
        self.start, self.end, self.limit = start, end, limit
        self.events: list[tuple[datetime, int, Callable[..., None], tuple[Any, ...]]] = []
        self.seq = itertools.count()
        self.reserved: set[str] = set()
        self.calls: dict[int, int] = {}
        self.summary: dict[str, int] = {}
        self.turn = 0
        self.scale = min(1.0, (end - start) / FULL_SHIFT)

    def at(self, when: datetime, fn: Callable[..., None], *args: Any) -> None:
        if when <= self.limit:  # never write a record dated in the future
            heapq.heappush(self.events, (when, next(self.seq), fn, args))

    def count(self, key: str) -> None:
        self.summary[key] = self.summary.get(key, 0) + 1

    def run(self) -> dict[str, int]:
        for sw in ("sw.morgan", "sw.avery"):
            services.set_availability(self.users[sw], "available", now=self.start - timedelta(minutes=5))
        span = (self.end - self.start).total_seconds()
        for i, entry in enumerate(demo_day()[0]):
            self.at(self.start + timedelta(seconds=int(entry[0] * span)), self.intake, i)
        while self.events:
            when, _, fn, args = heapq.heappop(self.events)
            fn(when, *args)
        return self.summary

    def tc(self, i: int) -> User:
        return self.users["tc.jordan" if i % 2 == 0 else "tc.quinn"]

    def intake(self, now: datetime, i: int) -> None:
        _, call_type, narrative, _, _, _ = demo_day()[0][i]
        cad = CadCall.model_validate(
            {
                "source": CAD_SOURCE,
                "incident_id": incident_id(self.start.date(), i + 1),
                "call_type": call_type,
                "received_at": now,
                "priority": "2" if i % 3 == 0 else "3",
                "location": demo_location(demo_day()[2][i % len(demo_day()[2])]),
                "caller": {"phone": f"(612) 555-01{i:02d}"},
                "narrative": f"{narrative} ({FICTIONAL})",
            }
        )
        call = services.intake_call(self.users[CAD_USERNAME], cad, now=now).call
        self.calls[i] = call.pk
        self.count("calls")
        self.at(now + timedelta(seconds=60 + (i * 17) % 90), self.screen, i)

    def screen(self, now: datetime, i: int) -> None:
        _, _, _, kind, plan, _ = demo_day()[0][i]
        for sw in ("sw.morgan", "sw.avery"):  # their queue screens are open all shift
            services.record_presence(self.users[sw], now=now)
        decision = services.screen_call(self.tc(i), self.calls[i], _answers(kind), now=now)
        self.count(f"decision {decision.outcome}")
        if decision.outcome == "transfer":
            self.at(now + timedelta(seconds=15), self.request, i)
        elif decision.outcome == "fallback":
            wanted = plan.split(":", 1)[1] if plan.startswith("fallback:") else "callback_when_available"
            option = wanted if wanted in decision.fallback_options else decision.fallback_options[-1]
            self.at(now + timedelta(seconds=45), self.fallback, i, option, None)

    def _free_social_worker(self, prefer: str = "") -> str | None:
        """A social worker not already on (or about to take) a call; they take turns when both are free."""
        self.turn += 1
        order = [prefer] if prefer else []
        order += ["sw.morgan", "sw.avery"] if self.turn % 2 else ["sw.avery", "sw.morgan"]
        return next((sw for sw in order if sw not in self.reserved), None)

    def request(self, now: datetime, i: int) -> None:
        _, _, _, _, plan, detail = demo_day()[0][i]
        transfer = services.request_transfer(self.tc(i), self.calls[i], now=now)
        sw = (
            None
            if plan == "timeout"
            else self._free_social_worker("sw.avery" if plan == "in_progress" else "")
        )
        if sw is None:  # nobody free to pick it up: it times out and the telecommunicator takes the fallback
            self.at(transfer.deadline + timedelta(seconds=1), self.expire)
            option = detail or "mobile_crisis_team"
            self.at(transfer.deadline + timedelta(seconds=40), self.fallback, i, option, transfer.pk)
            return
        self.reserved.add(sw)
        self.at(now + timedelta(seconds=20 + (i * 13) % 50), self.claim, i, sw, transfer.pk)

    def claim(self, now: datetime, i: int, sw: str, transfer_id: int) -> None:
        _, _, _, _, plan, detail = demo_day()[0][i]
        services.claim_transfer(self.users[sw], transfer_id, now=now)
        self.count("transfers claimed")
        if plan.startswith("complete:"):
            # A shorter demo day (loaded mid-afternoon) gets proportionally shorter calls, so the pattern
            # of busy and free social workers, and so the outcomes, stay those of a full shift.
            minutes = max(6.0, int(plan.split(":", 1)[1]) * self.scale)
            self.at(now + timedelta(minutes=minutes), self.complete, sw, transfer_id, i, now)
        elif plan == "escalate":
            responder, reason = detail.split("|", 1)
            self.at(now + timedelta(minutes=6), self.escalate, sw, transfer_id, responder, reason)

    def complete(self, now: datetime, sw: str, transfer_id: int, i: int, claimed_at: datetime) -> None:
        """The call ends: the social worker's casework, then the case closes (or stays open)."""
        case = Case.objects.get(transfer_id=transfer_id)
        entry = day_casework(i, demo_day()[0][i][1])
        work_case(self.users[sw], case, entry, claimed_at, limit=now, close_at=now)
        if entry.get("close") is None:  # the phone part is over; the case stays open to finish
            services.complete_transfer(
                self.users[sw], transfer_id, reason="Call ended; notes to finish.", now=now
            )
        self.reserved.discard(sw)
        self.count("transfers completed")

    def escalate(self, now: datetime, sw: str, transfer_id: int, responder: str, reason: str) -> None:
        escalation = services.escalate_transfer(self.users[sw], transfer_id, responder, reason, now=now)
        self.count("transfers escalated")
        self.at(now + timedelta(seconds=20), self.acknowledge, escalation.pk)
        self.at(now + timedelta(minutes=5), self.available_again, sw)
        self.at(now + timedelta(minutes=12), self.close_escalated, sw, transfer_id, responder)

    def acknowledge(self, now: datetime, escalation_id: int) -> None:
        casework.acknowledge_escalation(self.users["tc.jordan"], escalation_id, now=now)

    def close_escalated(self, now: datetime, sw: str, transfer_id: int, responder: str) -> None:
        case = Case.objects.get(transfer_id=transfer_id)
        casework.update_case_details(self.users[sw], case.pk, concerns={"mental_health"}, now=now)
        casework.close_case(
            self.users[sw], case.pk, f"{responder}_requested", "Handed to 911 responders.", now=now
        )

    def available_again(self, now: datetime, sw: str) -> None:
        services.set_availability(self.users[sw], "available", now=now)
        self.reserved.discard(sw)

    def expire(self, now: datetime) -> None:
        self.summary["transfers timed out"] = self.summary.get("transfers timed out", 0) + len(
            services.expire_transfers(now=now)
        )

    def fallback(self, now: datetime, i: int, option: str, transfer_id: int | None) -> None:
        number = f"(612) 555-01{i:02d}" if option.startswith("callback") else ""
        services.take_fallback(
            self.tc(i),
            self.calls[i],
            option,
            callback_number=number,
            transfer_id=transfer_id,
            now=now,
            note="Caller agreed." if option != "988" else "Warm transfer to 988 made.",
        )
        self.count(f"fallback {option}")


class Command(BaseCommand):
    help = "Create demo accounts for every role and load a realistic weekday at MECC (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed even when CRISISDESK_DEBUG is off (demo passwords are public: never on a real system)",
        )
        parser.add_argument("--no-logins", action="store_true", help="do not print the demo logins")
        parser.add_argument(
            "--history-weeks",
            type=int,
            default=None,
            help="weeks of simpler history (default: web/demo_week.yaml)",
        )
        parser.add_argument(
            "--now", type=datetime.fromisoformat, help=argparse.SUPPRESS
        )  # tests: a fixed clock

    def handle(self, *args: Any, **options: Any) -> None:
        config = getattr(settings, "CONFIG", None)
        if not (config is not None and config.debug) and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates accounts with published passwords; it runs only with CRISISDESK_DEBUG=1 "
                "(make demo sets it) or --allow-production."
            )
        users = self.ensure_users()
        token = self.fresh_cad_token(users[CAD_USERNAME])
        self.ensure_protocol()
        seed_demo_directory()  # the demo service directory (updates by id, so safe to repeat)
        now = options.get("now") or timezone.now()
        start, end = demo_window(now)
        load_history(
            users, start.date() - timedelta(days=7), now, self.stdout.write, options.get("history_weeks")
        )
        load_week(users, start.date(), now, self.stdout.write)
        if Call.objects.filter(source=CAD_SOURCE, incident_id=incident_id(start.date(), 1)).exists():
            self.stdout.write(f"Demo day {start:%a %Y-%m-%d} is already loaded; nothing to add.")
        else:
            summary = DayReplay(users, start, end, limit=now - timedelta(seconds=30)).run()
            parts = ", ".join(f"{v} {k}" for k, v in sorted(summary.items()))
            span = f"{start:%a %Y-%m-%d %H:%M}-{timezone.localtime(end):%H:%M}"
            self.stdout.write(f"Loaded a demo weekday at MECC, {span}: {parts}.")
        fresh = self.ensure_fresh_calls(users, now)
        if fresh:
            self.stdout.write(f"{fresh} new call(s) are waiting on the console, not screened yet.")
        # The social worker you log in as must be available, or every decision is a fallback.
        services.set_availability(users["sw.morgan"], "available", now=now)
        self.stdout.write(f"CAD integration account {CAD_USERNAME}: API token {token} (new on every run)")
        if not options["no_logins"]:
            print_logins(self.stdout.write)

    def ensure_users(self) -> dict[str, User]:
        """Create the demo accounts that are missing; existing ones are left as they are."""
        users: dict[str, User] = {}
        for spec in DEMO_USERS:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                user = create_demo_account(spec)
                self.stdout.write(f"Created {spec.role.value.replace('_', ' ')} {spec.username}.")
            elif user.role != spec.role.value:
                raise CommandError(f"{spec.username} exists with role {user.role!r}, not {spec.role.value!r}")
            install_known_device(None, user, demo_totp_key(spec.username), purpose="demo")
            users[spec.username] = user
        cad = User.objects.filter(username=CAD_USERNAME).first()
        users[CAD_USERNAME] = cad or create_integration_account(CAD_USERNAME)
        return users

    def fresh_cad_token(self, cad: User) -> str:
        """A new demo token on every run (only a hash is stored, so an old one cannot be shown again);
        the previous demo tokens are revoked, so exactly one works."""
        for token in ApiToken.objects.filter(user=cad, name=CAD_TOKEN_NAME, revoked_at=None):
            revoke_api_token(token.pk)
        _, raw = issue_api_token(cad, CAD_TOKEN_NAME)
        return raw

    def ensure_protocol(self) -> None:
        try:
            row, _, _ = active_protocol()
        except NoActiveProtocol:
            text = Path(DEFAULT_PROTOCOL).read_text(encoding="utf-8")
            row = publish_protocol(
                None, text, system=True, change_note="Shipped MECC protocol, installed by seed_demo."
            )
            self.stdout.write(f"Published the shipped protocol {row.center} {row.version}.")
        else:
            self.stdout.write(f"Active protocol: {row.center} {row.version}.")

    def ensure_fresh_calls(self, users: dict[str, User], now: datetime) -> int:
        today = timezone.localtime(now).date()
        created = 0
        for n, (minutes_ago, call_type, narrative) in enumerate(demo_day()[1], start=1):
            incident = incident_id(today, 900 + n)
            if Call.objects.filter(source=CAD_SOURCE, incident_id=incident).exists():
                continue
            cad = CadCall.model_validate(
                {
                    "source": CAD_SOURCE,
                    "incident_id": incident,
                    "call_type": call_type,
                    "received_at": now - timedelta(minutes=minutes_ago),
                    "priority": "3",
                    "location": demo_location(demo_day()[2][-n]),
                    "caller": {"phone": f"(612) 555-01{90 + n:02d}"},
                    "narrative": f"{narrative} ({FICTIONAL})",
                }
            )
            services.intake_call(users[CAD_USERNAME], cad, now=now - timedelta(minutes=minutes_ago))
            created += 1
        return created


def print_logins(write: Callable[[str], Any]) -> None:
    by_name = {u.username: u for u in DEMO_USERS}
    write("")
    write("Demo logins (demo only; these passwords and authenticator keys are public):")
    for name in LOGIN_ORDER:
        u = by_name[name]
        write(
            f"  {u.role.value.replace('_', ' '):<17} {u.username:<13} {u.password:<28} {demo_totp_base32(name)}"
        )
    write("")
    write("Each sign-in also asks for a 6-digit code: add the key above to an authenticator app")
    write("(time-based, 30 seconds), or print the current code with `.venv/bin/crisisdesk totp USERNAME`.")
    write("To click through a transfer: open the queue as sw.morgan in one window (a social worker")
    write("counts as available only while their queue screen is open), then the console as tc.jordan")
    write("in another (a private window, or another browser).")
