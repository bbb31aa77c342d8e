"""The demo's casework: a closed week of cases with repeat callers and follow-ups, and today's cases.

Everything goes through the services with explicit `now` values (never in the future), so cases,
assessments, escalations, consents, follow-up attempts, links and the audit trail are exactly what
the pages would have produced. The data is in web/demo_week.yaml; every person is fictional.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from crisisdesk.accounts.models import User
from crisisdesk.calls import services as calls
from crisisdesk.calls.models import Call
from crisisdesk.calls.schemas import CadCall
from crisisdesk.casework import services
from crisisdesk.casework.models import Case, Person
from crisisdesk.casework.queries import candidates_for
from crisisdesk.domain.calendar import ServiceCalendar
from crisisdesk.protocols import load_protocol

WEEK_FILE = Path(__file__).resolve().parent / "demo_week.yaml"
FICTIONAL = "Demo call: people, numbers and address are fictional."
CSSRS = {
    "none": {"q1": "no", "q2": "no", "q6": "no"},
    "low": {"q1": "yes", "q2": "no", "q6": "no"},
    "moderate": {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "no", "q5": "no", "q6": "no"},
    "high": {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes", "q5": "no", "q6": "no"},
}
SAFETY_PLAN = {
    "warning_signs": "Not sleeping; stops answering the phone",
    "internal_coping_strategies": "Music, a walk around the block",
    "people_to_ask_for_help": "Brother (lives nearby)",
    "professionals_and_agencies": "988; clinic nurse line; 911 in an emergency",
    "making_environment_safe": "Medications kept by the brother this week",
    "reasons_for_living": "Younger sister",
}


@cache
def week() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(WEEK_FILE.read_text(encoding="utf-8"))
    return doc


def demo_location(block: str) -> dict[str, str]:
    """A demo call's location: the block address and its (approximate) neighbourhood."""
    return {
        "address": f"{block}, Minneapolis, MN",
        "neighbourhood": week().get("neighbourhoods", {}).get(block, ""),
    }


def demo_cad(incident: str, call_type: str, at: datetime, person: dict[str, Any], narrative: str) -> CadCall:
    """The CAD record of a demo call from one of the demo people (their phone, their block)."""
    return CadCall.model_validate(
        {
            "source": "mecc-cad",
            "incident_id": incident,
            "call_type": call_type,
            "received_at": at,
            "priority": "3",
            "location": demo_location(person.get("address") or "700 blk Nicollet Mall"),
            "caller": {"phone": person["phone"]},
            "narrative": f"{narrative} ({FICTIONAL})",
        }
    )


def service_days_before(day: date, n: int) -> list[date]:
    """The n service days before `day`, most recent first (holidays and weekends skipped)."""
    calendar = ServiceCalendar(load_protocol().calendar)
    out: list[date] = []
    d = day - timedelta(days=1)
    while len(out) < n:
        if calendar.holiday_name(d) is None and any(d.weekday() in b.days for b in calendar.spec.hours):
            out.append(d)
        d -= timedelta(days=1)
    return out


def add_people(sw: User, case: Case, keys: list[str], now: datetime) -> dict[str, Person]:
    people = week()["people"]
    added: dict[str, Person] = {}
    for item in keys:
        key, relation = item.split(":")
        p = people[key]
        dob = date.fromisoformat(p["date_of_birth"]) if p.get("date_of_birth") else None
        added[key] = services.add_person(
            sw,
            case.pk,
            relation=relation,
            given_name=p["given_name"],
            family_name=p["family_name"],
            date_of_birth=dob,
            phone=p["phone"],
            address=p.get("address", ""),
            language=p.get("language", ""),
            now=now,
        ).person
    return added


def day_casework(i: int, call_type: str) -> dict[str, Any]:
    """What the social worker records on the demo day's call number i (defaults when not listed)."""
    entry = week().get("today", {}).get(i)
    if entry is not None:
        return dict(entry)
    concern = "substance_use" if "Intoxicated" in call_type else "mental_health"
    return {
        "concerns": [concern],
        "risk": "none",
        "note": "Talked it through; safety plan made.",
        "close": "resolved_by_phone",
    }


def work_case(
    sw: User,
    case: Case,
    entry: dict[str, Any],
    start: datetime,
    limit: datetime,
    close_at: datetime | None = None,
) -> dict[str, int]:
    """Do what the social worker did on one case, in time order; nothing is dated after `limit`.

    `close_at`: when the case closes (default 25 minutes after `start`); `close: null` keeps it open.
    """
    done: dict[str, int] = {}
    t = start + timedelta(minutes=2)
    people = add_people(sw, case, entry.get("people", []), t)
    primary = next(iter(people.values()), None)
    if entry.get("link") and primary is not None:
        found = candidates_for(primary)
        if found:
            services.confirm_link(sw, primary.pk, found[0][0].pk, now=t + timedelta(minutes=1))
            done["links confirmed"] = 1
    services.update_case_details(
        sw,
        case.pk,
        concerns=set(entry.get("concerns", [])),
        language=(next(iter(people.values())).language if people else ""),
        interpreter_used=bool(entry.get("interpreter")),
        now=t,
    )
    services.record_assessment(
        sw, case.pk, "cssrs_screener", CSSRS[entry.get("risk", "none")], now=t + timedelta(minutes=4)
    )
    if entry.get("note"):
        services.add_note(sw, case.pk, "crisis_intervention", entry["note"], now=t + timedelta(minutes=8))
    if entry.get("risk") == "high" and entry.get("declined_escalation"):
        services.record_escalation_declined(
            sw, case.pk, entry["declined_escalation"], now=t + timedelta(minutes=9)
        )
        services.save_safety_plan(sw, case.pk, SAFETY_PLAN, now=t + timedelta(minutes=12))
    if entry.get("escalate"):
        responder, reason = entry["escalate"].split("|", 1)
        escalation = services.escalate_case(sw, case.pk, responder, reason, now=t + timedelta(minutes=5))
        done["escalations"] = 1
        return _acknowledge_and_close(sw, case, entry, escalation, t, done)
    if "follow_up" in entry and primary is not None:
        consent = services.record_consent(
            sw,
            case.pk,
            given_by=f"{primary.given_name} {primary.family_name}",
            relation="person_in_crisis",
            method="verbal_on_call",
            contact=primary.phone_raw,
            person_id=primary.pk,
            now=t + timedelta(minutes=14),
        )
        follow_up = services.schedule_follow_up(sw, consent.pk, now=t + timedelta(minutes=14))
        done["follow-ups"] = 1
        for attempt in entry["follow_up"]:
            outcome, hours = attempt.split("@")
            when = start + timedelta(hours=float(hours))
            if when <= limit:
                services.record_attempt(
                    sw, follow_up.pk, channel="phone", outcome=outcome, notes="Demo follow-up call.", now=when
                )
    close_at = close_at or start + timedelta(minutes=25)
    if entry.get("close") and close_at <= limit:
        services.close_case(sw, case.pk, entry["close"], "Demo: wrapped up on the call.", now=close_at)
        done["cases closed"] = 1
    return done


def _acknowledge_and_close(
    sw: User, case: Case, entry: dict[str, Any], escalation: Any, t: datetime, done: dict[str, int]
) -> dict[str, int]:
    tc = User.objects.get(username="tc.jordan")
    services.acknowledge_escalation(tc, escalation.pk, now=t + timedelta(minutes=5, seconds=18))
    services.close_case(sw, case.pk, entry["close"], "EMS took over the call.", now=t + timedelta(minutes=15))
    done["cases closed"] = 1
    return done


def load_week(users: dict[str, User], demo_day: date, now: datetime, write: Callable[[str], Any]) -> None:
    """The closed week of cases before the demo day, once (idempotent on the incident ids)."""
    entries = week()["week"]
    days = service_days_before(demo_day, max(e["day"] for e in entries))
    tz = load_protocol().calendar.tz
    summary: dict[str, int] = {}
    for n, entry in enumerate(entries, start=1):
        day = days[entry["day"] - 1]
        incident = f"MP-{day:%y}-W{day:%m%d}{n:02d}"
        if Call.objects.filter(source="mecc-cad", incident_id=incident).exists():
            continue
        start = datetime.combine(day, time.fromisoformat(entry["at"]), tzinfo=tz)
        person = week()["people"][entry["people"][0].split(":")[0]]
        sw = users["sw.morgan" if n % 2 else "sw.avery"]
        case = claimed_case(users, sw, incident, entry["call_type"], entry.get("note", ""), person, start)
        for k, v in work_case(sw, case, entry, start + timedelta(minutes=2), now).items():
            summary[k] = summary.get(k, 0) + v
        calls.set_availability(sw, "available", now=start + timedelta(minutes=30))
    callbacks = _callbacks(users, days[0], tz, now)
    if callbacks:
        summary["callbacks for the next shift"] = callbacks
    if summary:
        write(
            "Loaded the demo week of casework: "
            + ", ".join(f"{v} {k}" for k, v in sorted(summary.items()))
            + "."
        )


def claimed_case(
    users: dict[str, User],
    sw: User,
    incident: str,
    call_type: str,
    narrative: str,
    person: dict[str, Any],
    start: datetime,
) -> Case:
    """A call from the person's phone, screened clear, transferred and claimed by `sw`: its case."""
    cad = demo_cad(incident, call_type, start, person, narrative)
    call = calls.intake_call(users["cad.mecc"], cad, now=start).call
    calls.set_availability(sw, "available", now=start)
    calls.record_presence(sw, now=start + timedelta(seconds=45))  # the queue screen is open
    tc = users["tc.jordan"]
    calls.screen_call(
        tc, call.pk, dict(load_protocol().all_clear_answers()), now=start + timedelta(seconds=50)
    )
    transfer = calls.request_transfer(tc, call.pk, now=start + timedelta(seconds=60))
    calls.claim_transfer(sw, transfer.pk, now=start + timedelta(seconds=85))
    return Case.objects.get(transfer=transfer)


def _callbacks(users: dict[str, User], evening: date, tz: Any, now: datetime) -> int:
    """After-hours callers who chose "callback next shift" on the evening before the demo day."""
    made = 0
    for n, entry in enumerate(week().get("callbacks", []), start=1):
        incident = f"MP-{evening:%y}-C{evening:%m%d}{n:02d}"
        at = datetime.combine(evening, time.fromisoformat(entry["at"]), tzinfo=tz)
        if at > now or Call.objects.filter(source="mecc-cad", incident_id=incident).exists():
            continue
        person = week()["people"][entry["person"]]
        cad = demo_cad(incident, entry["call_type"], at, person, entry["narrative"])
        tc = users["tc.quinn"]
        call = calls.intake_call(users["cad.mecc"], cad, now=at).call
        decision = calls.screen_call(
            tc, call.pk, dict(load_protocol().all_clear_answers()), now=at + timedelta(minutes=1)
        )
        if "callback_next_shift" in decision.fallback_options:
            calls.take_fallback(
                tc, call.pk, "callback_next_shift", callback_number=person["phone"], note="Caller agreed.",
                now=at + timedelta(minutes=2),
            )  # fmt: skip
            made += 1
    return made


def load_history(
    users: dict[str, User], before: date, now: datetime, write: Callable[[str], Any], weeks: int | None = None
) -> None:
    """Months of simpler calls before the demo week (seeded, deterministic; once). `weeks` overrides the file."""
    spec = dict(week()["history"])
    if weeks is not None:
        spec["weeks"] = weeks
    if int(spec["weeks"]) < 2:
        return
    calendar = ServiceCalendar(load_protocol().calendar)
    tz = calendar.tz
    if Call.objects.filter(source="mecc-cad", incident_id__contains="-HIST").exists():
        return  # loaded before
    rng = random.Random(int(spec["seed"]))  # noqa: S311 - demo data, not security
    pool = [f"({area}) 555-01{n:02d}" for area in (612, 651, 763) for n in range(100)][: int(spec["callers"])]
    blocks = list(week()["neighbourhoods"])
    languages, weights = zip(*spec["languages"].items(), strict=True)
    recent: list[str] = []
    counts = {"program": 0, "comparison": 0}

    def caller() -> str:
        if recent and rng.random() < float(spec["repeat_chance"]):
            return rng.choice(recent[-20:])
        number = rng.choice(pool)
        recent.append(number)
        return number

    for w in range(int(spec["weeks"]), 1, -1):
        monday = before - timedelta(weeks=w, days=before.weekday())
        plans = [("program", n) for n in range(int(spec["program_calls_per_week"]))]
        plans += [("comparison", n) for n in range(int(spec["comparison_calls_per_week"]))]
        for k, (group, _) in enumerate(plans, start=1):
            day = monday + timedelta(days=rng.randrange(5))
            if group == "program":
                at = datetime.combine(day, time(12, 30), tzinfo=tz) + timedelta(minutes=rng.randrange(450))
            else:
                at = datetime.combine(day, time(21, 0), tzinfo=tz) + timedelta(minutes=rng.randrange(150))
            if at > now:
                continue
            person = {"phone": caller(), "address": rng.choice(blocks)}
            incident = f"MP-{day:%y}-HIST{day:%m%d}{k:02d}"
            if group == "program" and calendar.is_open(at).open:
                sw = users["sw.morgan" if k % 2 else "sw.avery"]
                case = claimed_case(
                    users, sw, incident, "Emotionally Disturb Person", "Earlier call.", person, at
                )
                language = rng.choices(languages, weights)[0]
                services.update_case_details(
                    sw, case.pk, concerns={"mental_health"}, language=language,
                    interpreter_used=language != "English", now=at + timedelta(minutes=5),
                )  # fmt: skip
                disposition = rng.choice(["resolved_by_phone", "referred_to_services", "declined_services"])
                services.close_case(sw, case.pk, disposition, "Demo history.", now=at + timedelta(minutes=20))
                calls.set_availability(sw, "available", now=at + timedelta(minutes=21))
                counts["program"] += 1
            else:
                call = calls.intake_call(
                    users["cad.mecc"],
                    demo_cad(incident, "Emotionally Disturb Person", at, person, "Earlier call."),
                    now=at,
                ).call
                tc = users["tc.quinn"]
                decision = calls.screen_call(
                    tc, call.pk, dict(load_protocol().all_clear_answers()), now=at + timedelta(minutes=1)
                )
                if decision.outcome == "fallback":
                    calls.take_fallback(
                        tc, call.pk, rng.choice(["988", "mobile_crisis_team"]), now=at + timedelta(minutes=2)
                    )
                counts["comparison"] += 1
    write(
        f"Loaded {spec['weeks']} weeks of demo history: {counts['program']} answered, {counts['comparison']} after hours."
    )
