"""Who may do what to which record: the data-category matrix, as data, with its decision function.

`roles.CAN` says which role may perform each action (a page, an API call, a service). This module
says, for each category of data, what a role may do with it and over which records (its scope): a
telecommunicator sees the status of the transfers they asked for but no clinical content; a social
worker works their own cases; a supervisor reads every case of the program team; an evaluator sees
only de-identified aggregates; an administrator manages users and configuration and reads no case
content; the CAD integration account only sends calls.

Anchored to HIPAA 164.514(d)(2) (classes of persons x categories of PHI x conditions), Minn. Stat.
13.05 subd. 5 (work assignment), CJIS AC-6 and ASVS 8.1-8.2 (reference/reliability-security.md
section 3.d). The queries (`*/queries.py`) apply the scopes: a record out of scope is not found (404).
docs/permissions.md is rendered from this module (`render_markdown`); a test fails if they drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crisisdesk.domain.roles import CAN, HUMAN_ROLES, Role

VERSION = "2026.12.1"


class Category(StrEnum):
    CALL_TRIAGE = "call_triage"
    TRANSFER_STATUS = "transfer_status"
    CASE_IDENTITY = "case_identity"
    CASE_CLINICAL = "case_clinical"
    PART2 = "part2"
    REFERRALS_FOLLOW_UPS = "referrals_follow_ups"
    AGGREGATES = "aggregates"
    AUDIT_LOG = "audit_log"
    USERS_CONFIG = "users_config"


CATEGORY_TEXT = {
    Category.CALL_TRIAGE: "CAD call triage view (type, location, callback number, narrative, screening, decision)",
    Category.TRANSFER_STATUS: "Transfer request and status (requested, claimed by, timed out, declined, ended)",
    Category.CASE_IDENTITY: "Case identity and contact (people, phone numbers, links, consents)",
    Category.CASE_CLINICAL: "Assessments, crisis notes, safety plans, dispositions (mental health)",
    Category.PART2: "Substance-use (42 CFR Part 2) tagged notes and fields",
    Category.REFERRALS_FOLLOW_UPS: "Referrals and follow-ups",
    Category.AGGREGATES: "De-identified aggregates (small cells suppressed)",
    Category.AUDIT_LOG: "Audit trail (who read or changed what)",
    Category.USERS_CONFIG: "Users, roles and configuration (protocol, follow-up policy, directory, retention)",
}


class Access(StrEnum):
    NONE = "none"
    READ = "read"
    WRITE = "read_write"  # read and change
    CREATE = "create"  # create, and read what one created


class Scope(StrEnum):
    NONE = "none"
    OWN = "own"  # transfers I requested; cases I own and their people, referrals and follow-ups
    TRANSFERRED = "transferred"  # calls that were transferred to the program
    TEAM = "team"  # every record of the program team (one team per 911 center)
    CENTER = "center"  # every call at the 911 center
    AGGREGATE = "aggregate"  # counts only, never a row about one person


@dataclass(frozen=True)
class Grant:
    access: Access
    scope: Scope
    note: str = ""


NO = Grant(Access.NONE, Scope.NONE)

MATRIX: dict[Role, dict[Category, Grant]] = {
    Role.TELECOMMUNICATOR: {
        Category.CALL_TRIAGE: Grant(Access.WRITE, Scope.CENTER, "calls at the center, to screen and decide"),
        Category.TRANSFER_STATUS: Grant(
            Access.CREATE, Scope.OWN, "status of their own transfers; no clinical field"
        ),
        Category.AGGREGATES: Grant(Access.NONE, Scope.NONE),
    },
    Role.SOCIAL_WORKER: {
        Category.CALL_TRIAGE: Grant(Access.READ, Scope.TRANSFERRED, "calls transferred to the program"),
        Category.TRANSFER_STATUS: Grant(Access.WRITE, Scope.TEAM, "the queue: claim, decline, complete"),
        Category.CASE_IDENTITY: Grant(Access.WRITE, Scope.OWN),
        Category.CASE_CLINICAL: Grant(Access.WRITE, Scope.OWN),
        Category.PART2: Grant(Access.WRITE, Scope.OWN, "disclosed outside the program only under consent"),
        Category.REFERRALS_FOLLOW_UPS: Grant(Access.WRITE, Scope.OWN, "sent only through the consent gate"),
    },
    Role.SUPERVISOR: {
        Category.CALL_TRIAGE: Grant(
            Access.WRITE, Scope.CENTER, "the floor; may act on a call in an emergency"
        ),
        Category.TRANSFER_STATUS: Grant(Access.WRITE, Scope.TEAM),
        Category.CASE_IDENTITY: Grant(Access.READ, Scope.TEAM),
        Category.CASE_CLINICAL: Grant(Access.READ, Scope.TEAM, "quality review"),
        Category.PART2: Grant(Access.READ, Scope.TEAM, "quality review inside the program"),
        Category.REFERRALS_FOLLOW_UPS: Grant(Access.READ, Scope.TEAM),
        Category.AGGREGATES: Grant(Access.READ, Scope.AGGREGATE),
        Category.AUDIT_LOG: Grant(Access.READ, Scope.TEAM, "privacy review; reading it is itself audited"),
    },
    Role.EVALUATOR: {
        Category.AGGREGATES: Grant(Access.READ, Scope.AGGREGATE, "dashboards and CSV exports"),
    },
    Role.ADMINISTRATOR: {
        Category.USERS_CONFIG: Grant(Access.WRITE, Scope.CENTER, "no case or call content"),
    },
    Role.CAD_INTEGRATION: {
        Category.CALL_TRIAGE: Grant(Access.CREATE, Scope.OWN, "sends calls; reads none back"),
    },
}


def grant(role: Role | str, category: Category) -> Grant:
    try:
        return MATRIX[Role(role)].get(category, NO)
    except ValueError:
        return NO


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reasons: tuple[str, ...]
    version: str = VERSION


def decide(role: Role | str, category: Category, *, write: bool = False, own: bool = False) -> AccessDecision:
    """May `role` read (or change, `write`) a record of `category`; `own`: the record is in the actor's
    own scope (a transfer they asked for, a case they own). Team and center scopes need no `own`."""
    g = grant(role, category)
    if g.access is Access.NONE:
        return AccessDecision(False, ("category_not_granted",))
    if write and g.access is Access.READ:
        return AccessDecision(False, ("read_only",))
    if g.scope is Scope.OWN and not own:
        return AccessDecision(False, ("not_own_record",))
    return AccessDecision(True, ("granted",))


# Field-level rule for the transfer status (ASVS 8.2.3): `end_reason` may hold the social worker's
# words about the person (why they completed or declined), so only the program team sees it; a
# telecommunicator sees it only on a transfer they cancelled themselves (their own words).
PROGRAM_TEAM = frozenset({Role.SOCIAL_WORKER, Role.SUPERVISOR})
TRANSFER_FIELDS_FOR_TEAM_ONLY = ("end_reason",)


def withheld_transfer_fields(role: Role | str, status: str) -> tuple[str, ...]:
    """The fields of a transfer's status that `role` must not see (blanked, not dropped, so an API
    client keeps one schema)."""
    try:
        if Role(role) in PROGRAM_TEAM:
            return ()
    except ValueError:
        pass
    if status == "cancelled":
        return ()
    return TRANSFER_FIELDS_FOR_TEAM_ONLY


def render_markdown() -> str:
    """docs/permissions.md: the matrix and the action table, from the data above."""
    roles = list(MATRIX)
    lines = [
        "# Who may do what",
        "",
        f"Rendered from `src/crisisdesk/domain/permissions.py` (version {VERSION}) and "
        "`src/crisisdesk/domain/roles.py`; do not edit by hand",
        "(`crisisdesk permissions_doc > docs/permissions.md`; a test fails when this file and the code differ).",
        "",
        "## Data categories",
        "",
        "Access: read, read_write, create (and read what one created). Scope: own (transfers one asked for,",
        "cases one owns and their people, referrals and follow-ups), transferred (calls transferred to the",
        "program), team (every record of the program team), center (every call at the 911 center),",
        "aggregate (de-identified counts only). A record out of scope is not found (404); the denial is audited.",
        "",
        "| data | " + " | ".join(r.value.replace("_", " ") for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for category in Category:
        cells = []
        for role in roles:
            g = grant(role, category)
            cell = "no" if g.access is Access.NONE else f"{g.access.value}, {g.scope.value}"
            if g.note and g.access is not Access.NONE:
                cell += f" ({g.note})"
            cells.append(cell)
        lines.append(f"| {CATEGORY_TEXT[category]} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Actions",
        "",
        "Which roles may perform each action (pages, API calls and services check these).",
        "",
        "| action | roles |",
        "|---|---|",
    ]
    for action, allowed in sorted(CAN.items()):
        names = ", ".join(r.value.replace("_", " ") for r in Role if r in allowed)
        lines.append(f"| `{action}` | {names} |")
    people = ", ".join(r.value.replace("_", " ") for r in HUMAN_ROLES)
    lines += ["", f"Every person ({people}) signs in with a password and a TOTP second factor.", ""]
    return "\n".join(lines)
