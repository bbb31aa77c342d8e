"""42 CFR Part 2: which case content is about substance use, and whether it may leave the program.

Three pieces, all pure:

- **Tagging** (`case_items`): every piece of case content an outgoing artifact could carry is an
  `Item` with a stable key. An item is Part 2 when the social worker said so (a note's `part2`
  box, the referral's "the text for the agency mentions substance use" box) or by definition, as
  declared in `DisclosureRules` (the substance-use questions of the substance use and housing
  screen, the presenting concern "substance use", the referral need "substance use treatment").
  Nothing is guessed from free text: a tag is either a person's explicit choice or a declared field.
- **The gate** (`may_disclose`): given the items an artifact would carry, its recipient and
  purpose, the consents recorded for the case and the instant, it decides which items go and which
  are withheld, with reasons and the rule version (DESIGN.md convention 1). General (non-Part 2)
  items always go: the artifact's own consent (the referral consent) governs them. Part 2 items go
  only under a disclosure consent that covers Part 2 data, names that recipient, states that
  purpose, is in writing, has started, has not expired and is not revoked; otherwise they are left
  out and the rest of the disclosure continues.
- **The notice** (`REDISCLOSURE_NOTICE`): the 42 CFR 2.32 statement every artifact carrying Part 2
  items must include. It is data in this one place.

The rules are versioned data (`DEFAULT_RULES`); a change is a new version, and each ledger row
keeps the version that decided it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Purpose(StrEnum):
    """Why information is disclosed (coded, so the gate and the accounting can compare them)."""

    TREATMENT = "treatment"
    CARE_COORDINATION = "care_coordination"  # referral to a service, coordinating care with it
    PAYMENT = "payment"
    OPERATIONS = "operations"  # health-care operations
    OTHER = "other"  # with text saying what


class DataClass(StrEnum):
    GENERAL = "general"
    PART2 = "part2"


class ItemKind(StrEnum):
    NOTE = "note"
    ANSWER = "answer"  # one answer of an assessment
    CONCERN = "concern"
    REFERRAL_NEED = "referral_need"
    REQUEST_TEXT = "request_text"


class Outcome(StrEnum):
    ALL = "all"  # every item goes (there was no Part 2 item, or a consent covers them)
    WITHOUT_PART2 = "without_part2"  # the Part 2 items are withheld, the rest goes


@dataclass(frozen=True)
class DisclosureRules:
    """What is Part 2 by definition, and what a consent must be to cover Part 2 items.

    `part2_answers` names (instrument key, question key) pairs; `consent_months` is the default
    validity of a consent: Minnesota's Health Records Act (Minn. Stat. 144.293 subd. 4) lets a
    consent run one year unless it names another date, the strictest default that applies here.
    `part2_requires_written`: 42 CFR 2.31 requires a written (paper or electronic) consent; a verbal
    agreement on the phone never covers Part 2 items.
    """

    version: str
    part2_answers: frozenset[tuple[str, str]]
    part2_concerns: frozenset[str]
    part2_needs: frozenset[str]
    part2_requires_written: bool = True
    written_methods: frozenset[str] = frozenset({"written"})
    consent_months: int = 12


DEFAULT_RULES = DisclosureRules(
    version="part2-disclosure/1",
    part2_answers=frozenset(
        {
            ("substance_housing", "substance_use_30d"),
            ("substance_housing", "using_now"),
            ("substance_housing", "overdose_12m"),
        }
    ),
    part2_concerns=frozenset({"substance_use"}),
    part2_needs=frozenset({"substance_use"}),
)

# 42 CFR 2.32(a)(1), Statement 1, as amended by the 2024 final rule. Only the opening
# is quoted from a secondary source (docs/part2.md): the full text MUST be checked against eCFR
# (https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2/section-2.32) before live use,
# and the "copy of the consent" sub-requirement added there if it applies.
REDISCLOSURE_NOTICE_VERSION = "2.32-statement-1/2024-draft"
REDISCLOSURE_NOTICE = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or testimony "
    "that describes the information contained in this record, in any civil, criminal, administrative, "
    "or legislative proceedings \u2026 against the patient, unless authorized by the consent of the "
    "patient, except as provided at 42 CFR 2.12(c)(5) or as authorized by a court \u2026 In addition, "
    "the Federal rules prohibit you from making any other use or disclosure of this record unless at "
    "least one of the following applies: \u2026"
)
WITHHELD_TEXT = (
    "{n} item(s) of this record are protected by 42 CFR part 2 and were withheld: no consent on file "
    "covers this recipient and purpose."
)


# --- tagging ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One piece of case content an artifact may carry. `key` is stable ("note:12")."""

    key: str
    kind: ItemKind
    label: str
    text: str
    part2: bool
    why: str = ""  # reason code when Part 2: "tagged_by_social_worker", "substance_use_answer" ...


@dataclass(frozen=True)
class NoteFact:
    key: str
    label: str
    text: str
    part2: bool


@dataclass(frozen=True)
class AnswerFact:
    key: str  # "assessment:<id>"
    instrument: str
    label: str
    answers: Mapping[str, str]  # question key -> answer code
    question_text: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseFacts:
    """What `case_items` needs about one case (and, for a referral, the referral's fields)."""

    notes: tuple[NoteFact, ...] = ()
    assessments: tuple[AnswerFact, ...] = ()
    concerns: frozenset[str] = frozenset()
    referral_key: str = ""
    referral_need: str = ""
    referral_need_label: str = ""
    request_text: str = ""
    request_text_part2: bool = False


def case_items(facts: CaseFacts, rules: DisclosureRules = DEFAULT_RULES) -> tuple[Item, ...]:
    """Every item of the case, each tagged Part 2 or not (order: notes, answers, concerns, referral)."""
    out: list[Item] = []
    for n in facts.notes:
        out.append(
            Item(n.key, ItemKind.NOTE, n.label, n.text, n.part2, "tagged_by_social_worker" if n.part2 else "")
        )
    for a in facts.assessments:
        for question, answer in a.answers.items():
            if answer == "":
                continue
            tagged = (a.instrument, question) in rules.part2_answers
            out.append(
                Item(
                    f"{a.key}:{question}",
                    ItemKind.ANSWER,
                    f"{a.label}: {a.question_text.get(question, question.replace('_', ' '))}",
                    answer.replace("_", " "),
                    tagged,
                    "substance_use_answer" if tagged else "",
                )
            )
    for concern in sorted(facts.concerns):
        tagged = concern in rules.part2_concerns
        out.append(
            Item(
                f"concern:{concern}",
                ItemKind.CONCERN,
                "Presenting concern",
                concern.replace("_", " "),
                tagged,
                "substance_use_concern" if tagged else "",
            )
        )
    if facts.referral_key:
        if facts.referral_need:
            tagged = facts.referral_need in rules.part2_needs
            out.append(
                Item(
                    f"referral:{facts.referral_key}:need",
                    ItemKind.REFERRAL_NEED,
                    "Need",
                    facts.referral_need_label or facts.referral_need.replace("_", " "),
                    tagged,
                    "substance_use_need" if tagged else "",
                )
            )
        if facts.request_text.strip():
            out.append(
                Item(
                    f"referral:{facts.referral_key}:request_text",
                    ItemKind.REQUEST_TEXT,
                    "What the person needs from the service",
                    facts.request_text.strip(),
                    facts.request_text_part2,
                    "tagged_by_social_worker" if facts.request_text_part2 else "",
                )
            )
    return tuple(out)


def part2_keys(facts: CaseFacts, rules: DisclosureRules = DEFAULT_RULES) -> frozenset[str]:
    """The keys of the case's items that are Part 2 (what the workspace marks with the tag)."""
    return frozenset(i.key for i in case_items(facts, rules) if i.part2)


def is_part2_section(instrument: str, rules: DisclosureRules = DEFAULT_RULES) -> bool:
    """Whether an instrument holds Part 2 answers (its section of the workspace shows the tag)."""
    return any(key == instrument for key, _ in rules.part2_answers)


# --- consents and the gate --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """Who receives an artifact: a directory organization (by its HSDS id) and/or a name."""

    org_key: str = ""
    name: str = ""


@dataclass(frozen=True)
class ConsentFact:
    key: str
    recipient: Recipient
    purpose: Purpose
    data_classes: frozenset[DataClass]
    method: str
    given_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    purpose_text: str = ""


@dataclass(frozen=True)
class ConsentCheck:
    key: str
    covers: bool
    reasons: tuple[str, ...]  # why it does not cover ("consent_expired" ...); empty when it covers


@dataclass(frozen=True)
class Decision:
    """What may go: the keys included and withheld, why, under which consent, and the rule version."""

    outcome: Outcome
    included: tuple[str, ...]
    withheld: tuple[str, ...]
    part2_included: tuple[str, ...]
    reasons: tuple[str, ...]
    consent_key: str | None
    checks: tuple[ConsentCheck, ...]
    version: str

    @property
    def notice_required(self) -> bool:
        """The 2.32 notice goes with every artifact that carries a Part 2 item."""
        return bool(self.part2_included)


def _name(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def same_recipient(consented: Recipient, actual: Recipient) -> bool:
    """The organization's directory id when the consent names one; otherwise the name, compared
    without case and spacing. A consent naming an organization never covers a bare name."""
    if consented.org_key:
        return consented.org_key == actual.org_key
    return bool(_name(consented.name)) and _name(consented.name) == _name(actual.name)


def check_consent(
    consent: ConsentFact,
    recipient: Recipient,
    purpose: Purpose,
    now: datetime,
    rules: DisclosureRules = DEFAULT_RULES,
    purpose_text: str = "",
) -> ConsentCheck:
    """Whether one consent covers Part 2 items for this recipient and purpose at `now` (every reason)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the gate needs an aware instant")
    reasons = []
    if consent.revoked_at is not None and consent.revoked_at <= now:
        reasons.append("consent_revoked")
    if consent.given_at > now:
        reasons.append("consent_not_yet_given")
    if consent.expires_at <= now:
        reasons.append("consent_expired")
    if not same_recipient(consent.recipient, recipient):
        reasons.append("consent_other_recipient")
    if consent.purpose != purpose or (
        purpose is Purpose.OTHER and _name(consent.purpose_text) != _name(purpose_text)
    ):
        reasons.append("consent_other_purpose")
    if DataClass.PART2 not in consent.data_classes:
        reasons.append("consent_excludes_part2")
    if rules.part2_requires_written and consent.method not in rules.written_methods:
        reasons.append("consent_not_written")
    return ConsentCheck(consent.key, not reasons, tuple(reasons))


def may_disclose(
    items: Iterable[Item],
    recipient: Recipient,
    purpose: Purpose,
    consents: Iterable[ConsentFact],
    now: datetime,
    rules: DisclosureRules = DEFAULT_RULES,
    purpose_text: str = "",
) -> Decision:
    """The disclosure gate. Never refuses the whole artifact: it withholds the Part 2 items that no
    consent covers and lets the rest go. When several consents cover, the one that runs longest is
    used (then the lowest key), so the choice is the same on every replay."""
    items = tuple(items)
    general = tuple(i.key for i in items if not i.part2)
    part2 = tuple(i.key for i in items if i.part2)
    checks = tuple(check_consent(c, recipient, purpose, now, rules, purpose_text) for c in consents)
    if not part2:
        return Decision(Outcome.ALL, general, (), (), ("no_part2_items",), None, checks, rules.version)
    by_key = {c.key: c for c in consents}
    covering = sorted(
        (by_key[c.key] for c in checks if c.covers), key=lambda c: (-c.expires_at.timestamp(), c.key)
    )
    if covering:
        chosen = covering[0]
        return Decision(
            Outcome.ALL,
            general + part2,
            (),
            part2,
            ("part2_covered_by_consent",),
            chosen.key,
            checks,
            rules.version,
        )
    why: list[str] = ["part2_withheld"]
    if not checks:
        why.append("no_disclosure_consent")
    for check in checks:
        why += [r for r in check.reasons if r not in why]
    return Decision(Outcome.WITHOUT_PART2, general, part2, (), tuple(why), None, checks, rules.version)


def default_expiry(given_at: datetime, rules: DisclosureRules = DEFAULT_RULES) -> datetime:
    """`consent_months` after the consent was given, same day of the month (the 28th for a 29th-31st
    that the month lacks), same wall-clock time in the instant's zone."""
    if given_at.tzinfo is None:
        raise ValueError("a consent's time needs a time zone")
    month0 = given_at.month - 1 + rules.consent_months
    year, month = given_at.year + month0 // 12, month0 % 12 + 1
    day = given_at.day
    while True:
        try:
            return given_at.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1  # Feb 29 -> Feb 28, Mar 31 + 1 month -> Apr 30


def withheld_text(n: int) -> str:
    return WITHHELD_TEXT.format(n=n)


REASON_TEXT = {
    "no_part2_items": "Nothing in it is protected by 42 CFR Part 2.",
    "part2_covered_by_consent": "Part 2 items included under the person's disclosure consent.",
    "part2_withheld": "Part 2 items withheld.",
    "no_disclosure_consent": "No disclosure consent is recorded.",
    "consent_revoked": "The consent was revoked.",
    "consent_not_yet_given": "The consent starts later.",
    "consent_expired": "The consent expired.",
    "consent_other_recipient": "The consent names another recipient.",
    "consent_other_purpose": "The consent is for another purpose.",
    "consent_excludes_part2": "The consent does not cover substance-use (Part 2) information.",
    "consent_not_written": "Part 2 needs a written consent.",
}
