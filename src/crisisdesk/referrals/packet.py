"""The referral packet: the referral as text, for an agency without a system (fax, e-mail, phone).

`render_packet(facts, now)` is pure and works from the same `ExportFacts` as the FHIR export,
after the disclosure gate (referrals.services): it shows what the FHIR ServiceRequest notes show
(the request, the shared case items, how many Part 2 items were withheld, the 2.32 notice with the
consent reference), plus the person and the consent to refer in words. What the FHIR export never
exports, the packet never prints either (see referrals.fhir).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from crisisdesk.referrals.fhir import METHOD_WORDS, RELATION_WORDS, ExportFacts, part2_notes

DISPLAY_ZONE = ZoneInfo("America/Chicago")
NEED_WITHHELD = "(withheld: protected by 42 CFR part 2)"


def _local(at: datetime) -> str:
    return at.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M %Z")


def render_packet(facts: ExportFacts, need_text: str, now: datetime) -> str:
    """The packet as plain text (UTF-8). `need_text` is the need in words (the page's wording)."""
    p = facts.patient
    name = f"{p.given} {p.family}".strip() or "(no name given)"
    lines = [
        f"Referral from {facts.program_name}",
        f"To: {facts.organization_name}, {facts.service_name}",
        f"Referral: {facts.center}-{facts.referral_key} · priority {facts.priority} · prepared {_local(now)}",
        "",
        f"Person: {name}" + (f", born {p.birth_date.isoformat()}" if p.birth_date else ""),
    ]
    if p.phone and facts.consent.agency_may_contact:
        lines.append(f"Contact number (the person agreed to be called): {p.phone}")
    else:
        lines.append("The person does not want the agency to contact them directly.")
    lines.append(f"Need: {NEED_WITHHELD if facts.part2.need_withheld else need_text}")
    c = facts.consent
    who = RELATION_WORDS.get(c.relation, "someone on the person's behalf")
    how = METHOD_WORDS.get(c.method, c.method.replace("_", " "))
    lines.append(f"Consent to this referral: given {how} by {who} on {_local(c.recorded_at)}.")
    notes = part2_notes(facts)
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"
