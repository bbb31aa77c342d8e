"""42 CFR Part 2: tagging, the disclosure gate and consent expiry (`crisisdesk.domain.part2`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.domain.instruments import get_instrument
from crisisdesk.domain.part2 import (
    DEFAULT_RULES,
    REASON_TEXT,
    REDISCLOSURE_NOTICE,
    AnswerFact,
    CaseFacts,
    ConsentFact,
    DataClass,
    Item,
    ItemKind,
    NoteFact,
    Outcome,
    Purpose,
    Recipient,
    case_items,
    check_consent,
    default_expiry,
    is_part2_section,
    may_disclose,
    part2_keys,
)

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
AGENCY = Recipient("org-hsds-1", "Hennepin Recovery Services")
OTHER_AGENCY = Recipient("org-hsds-2", "Hennepin Housing Help")
ITEMS = (
    Item("note:1", ItemKind.NOTE, "Case note", "Drinks a fifth a day since the layoff.", True),
    Item("note:2", ItemKind.NOTE, "Case note", "Needs a ride on Thursday.", False),
    Item("concern:mental_health", ItemKind.CONCERN, "Presenting concern", "mental health", False),
)


def consent(**extra: object) -> ConsentFact:
    fields: dict[str, object] = {
        "key": "7",
        "recipient": AGENCY,
        "purpose": Purpose.CARE_COORDINATION,
        "data_classes": frozenset({DataClass.PART2, DataClass.GENERAL}),
        "method": "written",
        "given_at": NOW - timedelta(days=10),
        "expires_at": NOW + timedelta(days=355),
    }
    fields.update(extra)
    return ConsentFact(**fields)  # type: ignore[arg-type]


# --- tagging ---------------------------------------------------------------------------------------


def test_items_are_tagged_by_the_social_worker_or_by_declared_fields_only() -> None:
    facts = CaseFacts(
        notes=(
            NoteFact("note:1", "Case note", "Uses heroin daily.", True),
            # No guessing from the text: an untagged note stays general whatever it says.
            NoteFact("note:2", "Case note", "Mentions alcohol in passing.", False),
        ),
        assessments=(
            AnswerFact(
                "assessment:3",
                "substance_housing",
                "Substance use and housing status",
                {
                    "substance_use_30d": "opioids",
                    "using_now": "no",
                    "overdose_12m": "yes",
                    "housing_status": "shelter",
                },
            ),  # fmt: skip
            AnswerFact("assessment:4", "cssrs_screener", "C-SSRS", {"q1": "yes", "q2": "no", "q6": ""}),
        ),
        concerns=frozenset({"substance_use", "mental_health"}),
        referral_key="9",
        referral_need="substance_use",
        request_text="Detox bed tonight.",
        request_text_part2=True,
    )
    items = {i.key: i for i in case_items(facts)}
    assert part2_keys(facts) == {
        "note:1",
        "assessment:3:substance_use_30d",
        "assessment:3:using_now",
        "assessment:3:overdose_12m",
        "concern:substance_use",
        "referral:9:need",
        "referral:9:request_text",
    }
    # Field level: the housing answer of the same screen is not Part 2, nor is a C-SSRS answer.
    assert not items["assessment:3:housing_status"].part2 and not items["assessment:4:q1"].part2
    assert "assessment:4:q6" not in items  # an unasked question is no item at all
    assert items["note:1"].why == "tagged_by_social_worker"
    assert items["assessment:3:overdose_12m"].why == "substance_use_answer"


def test_request_text_untagged_and_other_needs_are_general() -> None:
    facts = CaseFacts(referral_key="9", referral_need="housing_instability", request_text="Rent help.")
    assert part2_keys(facts) == frozenset()
    assert {i.key for i in case_items(facts)} == {"referral:9:need", "referral:9:request_text"}


def test_declared_part2_fields_exist_in_the_instruments() -> None:
    # A typo in the declared fields would silently tag nothing: every pair must name a real question.
    for instrument, question in DEFAULT_RULES.part2_answers:
        get_instrument(instrument).question(question)
    assert is_part2_section("substance_housing") and not is_part2_section("cssrs_screener")


# --- the gate --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("consents", "reasons"),
    [
        ((), ("part2_withheld", "no_disclosure_consent")),
        ((consent(expires_at=NOW - timedelta(seconds=1)),), ("part2_withheld", "consent_expired")),
        ((consent(expires_at=NOW),), ("part2_withheld", "consent_expired")),  # ends AT the instant
        ((consent(recipient=OTHER_AGENCY),), ("part2_withheld", "consent_other_recipient")),
        ((consent(purpose=Purpose.TREATMENT),), ("part2_withheld", "consent_other_purpose")),
        ((consent(revoked_at=NOW - timedelta(hours=1)),), ("part2_withheld", "consent_revoked")),
        (
            (consent(data_classes=frozenset({DataClass.GENERAL})),),
            ("part2_withheld", "consent_excludes_part2"),
        ),
        ((consent(method="verbal"),), ("part2_withheld", "consent_not_written")),
        ((consent(given_at=NOW + timedelta(days=1)),), ("part2_withheld", "consent_not_yet_given")),
        (
            (consent(key="1", purpose=Purpose.PAYMENT), consent(key="2", recipient=OTHER_AGENCY)),
            ("part2_withheld", "consent_other_purpose", "consent_other_recipient"),
        ),
    ],
)
def test_part2_items_are_withheld_without_a_covering_consent_and_the_rest_goes(
    consents: tuple[ConsentFact, ...], reasons: tuple[str, ...]
) -> None:
    d = may_disclose(ITEMS, AGENCY, Purpose.CARE_COORDINATION, consents, NOW)
    assert d.outcome is Outcome.WITHOUT_PART2
    assert d.included == ("note:2", "concern:mental_health") and d.withheld == ("note:1",)
    assert d.part2_included == () and not d.notice_required and d.consent_key is None
    assert d.reasons == reasons and d.version == DEFAULT_RULES.version
    assert all(r in REASON_TEXT for r in d.reasons)


def test_a_covering_consent_lets_part2_items_go_with_the_notice() -> None:
    d = may_disclose(ITEMS, AGENCY, Purpose.CARE_COORDINATION, (consent(),), NOW)
    assert d.outcome is Outcome.ALL and d.withheld == ()
    assert set(d.included) == {"note:1", "note:2", "concern:mental_health"}
    assert d.part2_included == ("note:1",) and d.notice_required and d.consent_key == "7"
    assert d.reasons == ("part2_covered_by_consent",)


def test_revocation_counts_from_its_instant_and_the_consent_until_it_expires() -> None:
    later = consent(revoked_at=NOW + timedelta(hours=1))
    assert may_disclose(ITEMS, AGENCY, Purpose.CARE_COORDINATION, (later,), NOW).notice_required
    just_before = consent(expires_at=NOW + timedelta(microseconds=1))
    assert may_disclose(ITEMS, AGENCY, Purpose.CARE_COORDINATION, (just_before,), NOW).notice_required


def test_without_part2_items_no_notice_and_nothing_withheld() -> None:
    general = tuple(i for i in ITEMS if not i.part2)
    d = may_disclose(general, AGENCY, Purpose.CARE_COORDINATION, (), NOW)
    assert d.outcome is Outcome.ALL and d.withheld == () and not d.notice_required
    assert d.reasons == ("no_part2_items",) and d.consent_key is None


def test_the_longest_running_covering_consent_is_used_then_the_lowest_key() -> None:
    short, long_ = consent(key="3", expires_at=NOW + timedelta(days=30)), consent(key="4")
    bad = consent(key="1", recipient=OTHER_AGENCY, expires_at=NOW + timedelta(days=900))
    d = may_disclose(ITEMS, AGENCY, Purpose.CARE_COORDINATION, (bad, short, long_), NOW)
    assert d.consent_key == "4"
    assert [c.covers for c in d.checks] == [False, True, True]
    twins = (consent(key="9"), consent(key="8"))
    assert may_disclose(ITEMS, AGENCY, Purpose.CARE_COORDINATION, twins, NOW).consent_key == "8"


def test_recipient_matching_by_directory_id_else_by_name() -> None:
    by_name = consent(recipient=Recipient("", "  hennepin   RECOVERY services "))
    assert check_consent(
        by_name, Recipient("", "Hennepin Recovery Services"), Purpose.CARE_COORDINATION, NOW
    ).covers
    # A consent naming an organization of the directory is not satisfied by a look-alike name.
    named_org = consent(recipient=Recipient("org-hsds-1", "Hennepin Recovery Services"))
    lookalike = Recipient("", "Hennepin Recovery Services")
    assert check_consent(named_org, lookalike, Purpose.CARE_COORDINATION, NOW).reasons == (
        "consent_other_recipient",
    )
    assert not check_consent(
        consent(recipient=Recipient("", "")), Recipient("", ""), Purpose.TREATMENT, NOW
    ).covers


def test_other_purpose_must_say_the_same_thing() -> None:
    other = consent(purpose=Purpose.OTHER, purpose_text="Court-ordered evaluation")
    assert check_consent(other, AGENCY, Purpose.OTHER, NOW, purpose_text="court-ordered  evaluation").covers
    assert not check_consent(other, AGENCY, Purpose.OTHER, NOW, purpose_text="Research").covers


def test_the_gate_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="aware"):
        may_disclose(ITEMS, AGENCY, Purpose.TREATMENT, (consent(),), datetime(2026, 11, 24, 18, 0))  # noqa: DTZ001


def test_verbal_consent_covers_part2_only_under_rules_that_allow_it() -> None:
    lenient = replace(DEFAULT_RULES, version="test/lenient", part2_requires_written=False)
    d = may_disclose(ITEMS, AGENCY, Purpose.CARE_COORDINATION, (consent(method="verbal"),), NOW, lenient)
    assert d.notice_required and d.version == "test/lenient"


def test_the_notice_opens_with_the_2024_statement_1() -> None:
    assert REDISCLOSURE_NOTICE.startswith(
        "This record which has been disclosed to you is protected by Federal confidentiality rules "
        "(42 CFR part 2)."
    )


# --- expiry (Minnesota Health Records Act: one year by default) --------------------------------------


@pytest.mark.parametrize(
    ("given", "expires"),
    [
        (datetime(2026, 11, 24, 18, 0, tzinfo=UTC), datetime(2027, 11, 24, 18, 0, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), datetime(2029, 2, 28, 12, 0, tzinfo=UTC)),
        # Wall-clock time is kept in the zone it was given in, across the DST change.
        (
            datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("America/Chicago")),
            datetime(2027, 7, 1, 9, 0, tzinfo=ZoneInfo("America/Chicago")),
        ),
    ],
)
def test_default_expiry_is_one_year(given: datetime, expires: datetime) -> None:
    assert default_expiry(given) == expires


def test_default_expiry_follows_the_rules_and_refuses_naive_times() -> None:
    assert default_expiry(NOW, replace(DEFAULT_RULES, consent_months=6)) == datetime(
        2027, 5, 24, 18, 0, tzinfo=UTC
    )
    assert default_expiry(
        datetime(2026, 8, 31, tzinfo=UTC), replace(DEFAULT_RULES, consent_months=1)
    ) == datetime(2026, 9, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        default_expiry(datetime(2026, 1, 1))  # noqa: DTZ001
