"""Parsing and validation of a protocol document (`crisisdesk.domain.protocol`), on the shipped MECC file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from crisisdesk.domain.protocol import (
    ProtocolError,
    QuestionKind,
    Scope,
    normalise_call_type,
    parse_protocol,
)
from crisisdesk.domain.reasons import FALLBACK_REASONS, Reason
from crisisdesk.protocols import DEFAULT_PROTOCOL, load_protocol, read_protocol_document

MECC = load_protocol()
Doc = dict[str, Any]


def mecc_doc() -> Doc:
    """A fresh, mutable copy of the shipped MECC document."""
    return read_protocol_document(DEFAULT_PROTOCOL)


def problems_of(doc: Doc) -> list[str]:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(doc)
    return info.value.problems


# --- the shipped protocol ---------------------------------------------------------------------------


def test_shipped_mecc_protocol_loads() -> None:
    assert MECC.center == "MECC"
    assert MECC.name == "Minneapolis Emergency Communications Center"
    assert MECC.version == "2026.11.1"
    assert len(MECC.call_types) == 126
    assert MECC.transfer_timeout_seconds == 90
    assert MECC.calendar.timezone == "America/Chicago"
    assert MECC.calendar.holiday_country == "US"


def test_shipped_mecc_screening_questions() -> None:
    assert MECC.question_ids == (
        "weapon",
        "violence",
        "crime_in_progress",
        "medical_emergency",
        "imminent_risk",
        "caller_requests_police",
        "caller_accepts_social_worker",
    )
    kinds = {q.id: (q.kind, q.reason) for q in MECC.questions}
    assert kinds["caller_accepts_social_worker"] == (QuestionKind.CONSENT, Reason.CALLER_DECLINED)
    for qid in MECC.question_ids[:6]:
        # An exclusion's reason defaults to its id.
        assert kinds[qid] == (QuestionKind.EXCLUSION, Reason(qid))


def test_shipped_mecc_hours_are_weekdays_noon_to_half_past_eight() -> None:
    (block,) = MECC.calendar.hours
    assert block.days == frozenset(range(5))
    assert (block.opens.hour, block.opens.minute) == (12, 0)
    assert (block.closes.hour, block.closes.minute) == (20, 30)


def test_every_fallback_option_used_is_defined() -> None:
    for reason in FALLBACK_REASONS:
        assert MECC.fallbacks[reason], reason
        for option_id in MECC.fallbacks[reason]:
            assert MECC.option(option_id).label


def test_unknown_option_lookup_raises_key_error() -> None:
    with pytest.raises(KeyError):
        MECC.option("helicopter")


# --- call-type matching -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "name"),
    [
        pytest.param("Emotionally Disturb Person", "Emotionally Disturb Person", id="exact"),
        pytest.param("  emotionally DISTURB person ", "Emotionally Disturb Person", id="padded-recased"),
        pytest.param("Emotionally\t Disturb\n\nPerson", "Emotionally Disturb Person", id="tabs-newlines"),
        pytest.param("CHECK   THE   WELFARE", "Check the Welfare", id="upper-multi-space"),
        pytest.param("drunk/intoxicated person", "Drunk/Intoxicated Person", id="lower-slash"),
        pytest.param(" Overdose w/Alll", "Overdose w/Alll", id="cad-misspelling-kept"),
        pytest.param("burglary dwlng in progress", "Burglary Dwlng In Progress", id="abbreviated"),
    ],
)
def test_call_type_matching_trims_collapses_and_ignores_case(sent: str, name: str) -> None:
    found = MECC.find_call_type(sent)
    assert found is not None
    assert found.name == name


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param("Emotionally Disturbed Person", id="near-miss"),
        pytest.param("EDP", id="apco-code-is-not-a-name"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("Welfare Check", id="reordered"),
    ],
)
def test_unknown_call_type_is_none(sent: str) -> None:
    assert MECC.find_call_type(sent) is None


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        pytest.param("  A  b\tC ", "a b c", id="spaces"),
        pytest.param("STRASSE", "strasse", id="casefold"),
        pytest.param("Straße", "strasse", id="casefold-sharp-s"),
    ],
)
def test_normalise_call_type(raw: str, key: str) -> None:
    assert normalise_call_type(raw) == key


@pytest.mark.parametrize(
    "name",
    [
        "Attempted Suicide",
        "Person Threat to Jump",
        "Overdose",
        "Overdose-Accidental",
        "Overdose w/All",
        "Overdose w/Alll",
        "Shooting",
        "Sound of Shots Fired",
        "Person with a Gun",
        "Domestic with Weapons",
        "Unconscious",
        "Baby Not Breathing",
    ],
)
def test_emergency_only_call_types(name: str) -> None:
    ct = MECC.find_call_type(name)
    assert ct is not None
    assert ct.scope is Scope.EMERGENCY_ONLY


@pytest.mark.parametrize(
    "name",
    [
        "Emotionally Disturb Person",
        "Check the Welfare",
        "Drunk/Intoxicated Person",
        "Assist a Disabled Person",
    ],
)
def test_in_scope_call_types(name: str) -> None:
    ct = MECC.find_call_type(name)
    assert ct is not None
    assert ct.scope is Scope.IN_SCOPE


@pytest.mark.parametrize("name", ["Suspicious Person", "Fight", "Domestic", "Slumper", "Down Outside-One"])
def test_not_in_scope_call_types(name: str) -> None:
    ct = MECC.find_call_type(name)
    assert ct is not None
    assert ct.scope is Scope.NOT_IN_SCOPE


def test_every_call_type_has_an_apco_code_and_a_unique_key() -> None:
    keys = [ct.key for ct in MECC.call_types]
    assert len(set(keys)) == len(keys)
    assert all(ct.apco for ct in MECC.call_types)
    assert {ct.scope for ct in MECC.call_types} == set(Scope)


# --- ProtocolError lists every problem --------------------------------------------------------------


def _set_hours(**block: Any) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        doc["service_calendar"]["hours"][0].update(block)

    return mutate


def _append_call_type(**ct: Any) -> Callable[[Doc], None]:
    return lambda doc: doc["call_types"].append(ct)


def _set(key: str, value: Any) -> Callable[[Doc], None]:
    return lambda doc: doc.__setitem__(key, value)


def _del_fallback(reason: str) -> Callable[[Doc], None]:
    return lambda doc: doc["fallbacks"].pop(reason)


def _set_fallback(reason: str, options: Any) -> Callable[[Doc], None]:
    return lambda doc: doc["fallbacks"].__setitem__(reason, options)


def _set_question(index: int, **fields: Any) -> Callable[[Doc], None]:
    return lambda doc: doc["screening"][index].update(fields)


# (mutation of the MECC document, a fragment the problem list must contain)
INVALID: list[Any] = [
    pytest.param(
        _set("timezone", "Mars/Olympus_Mons"), "timezone: 'Mars/Olympus_Mons' is not an IANA", id="tz"
    ),
    pytest.param(_set("timezone", ""), "timezone: '' is not an IANA", id="tz-empty"),
    pytest.param(_set("version", " "), "version: required", id="version-blank"),
    pytest.param(_set("center", None), "center: required", id="center-missing"),
    pytest.param(
        lambda doc: doc["call_types"][0].update(scope="sometimes"),
        "call_types[0].scope: 'sometimes' must be one of",
        id="scope",
    ),
    pytest.param(
        lambda doc: doc["call_types"][0].pop("apco"),
        "call_types[0]: name and apco are required",
        id="no-apco",
    ),
    pytest.param(
        _set_question(0, reason="gun"),
        "screening[0].reason: 'gun' is not a known reason code",
        id="question-reason-unknown",
    ),
    pytest.param(
        lambda doc: doc["screening"].append({"id": "drugs", "kind": "exclusion", "text": "Drugs?"}),
        "screening[7].reason: 'drugs' is not a known reason code",
        id="exclusion-id-not-a-reason",
    ),
    pytest.param(
        _set_question(2, kind="maybe"), "screening[2].kind: 'maybe' must be exclusion or consent", id="kind"
    ),
    pytest.param(_set_question(1, text=""), "screening[1]: id and text are required", id="question-no-text"),
    pytest.param(
        lambda doc: doc["screening"].append(dict(doc["screening"][0])),
        "screening: question ids must be unique",
        id="question-duplicate",
    ),
    pytest.param(
        lambda doc: doc.__setitem__("screening", doc["screening"][6:]),
        "at least one safety (exclusion) question is required",
        id="no-exclusion-question",
    ),
    pytest.param(
        _set_fallback("lunch_break", ["988"]),
        "fallbacks.lunch_break: not a known reason code",
        id="fallback-reason",
    ),
    pytest.param(
        _set_fallback("holiday", ["mobile_crisis_team", "pager"]),
        "fallbacks.holiday: 'pager' is not in fallback_options",
        id="fallback-option-undefined",
    ),
    pytest.param(
        _del_fallback("caller_declined"),
        "fallbacks.caller_declined: at least one fallback option is required",
        id="fallback-missing",
    ),
    pytest.param(
        _set_fallback("social_worker_unavailable", []),
        "fallbacks.social_worker_unavailable: at least one fallback option is required",
        id="fallback-empty",
    ),
    pytest.param(
        _append_call_type(name="  emotionally   DISTURB person", apco="EDP", scope="in_scope"),
        "call_types[126]: 'emotionally   DISTURB person' matches 'Emotionally Disturb Person'",
        id="call-type-duplicate-normalised",
    ),
    pytest.param(
        _set("call_types", []), "call_types: at least one call type is required", id="no-call-types"
    ),
    pytest.param(_set_hours(close="12:00"), "close must be after open", id="close-equals-open"),
    pytest.param(_set_hours(open="21:00", close="02:00"), "close must be after open", id="overnight"),
    pytest.param(_set_hours(open="noon"), "hours[0].open: 'noon' is not a HH:MM time", id="time-word"),
    pytest.param(_set_hours(close="25:00"), "hours[0].close: '25:00' is not a HH:MM time", id="time-25h"),
    pytest.param(_set_hours(open=720), "hours[0].open: 720 is not a HH:MM time", id="time-yaml-sexagesimal"),
    pytest.param(_set_hours(days=["mon", "funday"]), "hours[0].days: 'funday' is not one of", id="day"),
    pytest.param(
        lambda doc: doc["service_calendar"].__setitem__("hours", []),
        "service_calendar.hours: at least one block of opening hours is required",
        id="no-hours",
    ),
    pytest.param(
        lambda doc: doc["service_calendar"].__setitem__("closures", ["2026-13-01"]),
        "closures[0]: '2026-13-01' is not an ISO date",
        id="closure-date",
    ),
    pytest.param(
        lambda doc: doc["service_calendar"].__setitem__("open_dates", ["Thanksgiving"]),
        "open_dates[0]: 'Thanksgiving' is not an ISO date",
        id="open-date",
    ),
    pytest.param(_set("transfer_timeout_seconds", 5), "transfer_timeout_seconds", id="timeout-too-short"),
    pytest.param(_set("transfer_timeout_seconds", 601), "transfer_timeout_seconds", id="timeout-too-long"),
    pytest.param(_set("transfer_timeout_seconds", "90"), "transfer_timeout_seconds", id="timeout-string"),
    pytest.param(_set("transfer_timeout_seconds", 90.5), "transfer_timeout_seconds", id="timeout-float"),
]


@pytest.mark.parametrize(("mutate", "fragment"), INVALID)
def test_each_problem_is_reported(mutate: Callable[[Doc], None], fragment: str) -> None:
    doc = mecc_doc()
    mutate(doc)
    problems = problems_of(doc)
    assert any(fragment in p for p in problems), problems


def test_protocol_error_lists_every_problem_not_just_the_first() -> None:
    # One document with one of each kind of mistake: every one is reported, none masks another.
    chosen = {
        "tz",
        "scope",
        "question-reason-unknown",
        "fallback-reason",
        "fallback-option-undefined",
        "fallback-missing",
        "call-type-duplicate-normalised",
        "close-equals-open",
        "timeout-string",
        "closure-date",
    }
    params = [p for p in INVALID if p.id in chosen]
    assert {p.id for p in params} == chosen
    doc = mecc_doc()
    for param in params:
        param.values[0](doc)
    problems = problems_of(doc)
    missing = [p.values[1] for p in params if not any(p.values[1] in problem for problem in problems)]
    assert missing == []
    assert len(problems) == len(chosen)
    error = ProtocolError(problems)
    assert str(error) == "invalid protocol: " + "; ".join(problems)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [pytest.param(10, 10, id="min"), pytest.param(600, 600, id="max"), pytest.param(None, 90, id="default")],
)
def test_transfer_timeout_bounds(value: int | None, seconds: int) -> None:
    doc = mecc_doc()
    if value is None:
        del doc["transfer_timeout_seconds"]
    else:
        doc["transfer_timeout_seconds"] = value
    assert parse_protocol(doc).transfer_timeout_seconds == seconds


def test_24_00_closes_at_the_end_of_the_day() -> None:
    doc = mecc_doc()
    doc["service_calendar"]["hours"][0]["close"] = "24:00"
    (block,) = parse_protocol(doc).calendar.hours
    assert (block.closes.hour, block.closes.minute, block.closes.second) == (23, 59, 59)


def test_closures_accept_iso_strings_and_yaml_dates() -> None:
    doc = mecc_doc()
    doc["service_calendar"]["closures"] = ["2026-12-24", date(2026, 12, 31)]
    doc["service_calendar"]["open_dates"] = ["2026-11-11"]
    cal = parse_protocol(doc).calendar
    assert cal.closures == frozenset({date(2026, 12, 24), date(2026, 12, 31)})
    assert cal.open_dates == frozenset({date(2026, 11, 11)})


def test_version_and_names_are_trimmed() -> None:
    doc = mecc_doc()
    doc["version"] = "  2027.1.0 "
    doc["call_types"][4]["name"] = "  Emotionally Disturb Person  "
    protocol = parse_protocol(doc)
    assert protocol.version == "2027.1.0"
    assert protocol.call_types[4].name == "Emotionally Disturb Person"


# --- known gaps: a protocol that parses must not fail on a live call --------------------------------
# These tests FAIL against the current domain code; each shows a bug reported to the maintainers.


@pytest.mark.parametrize(
    ("holidays_section", "fragment"),
    [
        pytest.param({"country": "XX"}, "XX", id="unknown-country"),
        pytest.param({"country": "US", "subdivision": "ZZ"}, "ZZ", id="unknown-subdivision"),
        pytest.param({"country": "US", "categories": ["bogus"]}, "bogus", id="unknown-category"),
    ],
)
def test_regression_holiday_settings_are_validated_at_parse_time(
    holidays_section: Doc, fragment: str
) -> None:
    """Today these parse, then `decide` raises NotImplementedError/ValueError on the first live call."""
    doc = mecc_doc()
    doc["service_calendar"]["holidays"] = holidays_section
    problems = problems_of(doc)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    ("index", "reason"),
    [
        pytest.param(0, "holiday", id="exclusion-with-fallback-reason"),
        pytest.param(0, "eligible", id="exclusion-with-eligible"),
        pytest.param(0, "call_type_unknown", id="exclusion-with-call-type-reason"),
        pytest.param(6, "weapon", id="consent-with-exclusion-reason"),
    ],
)
def test_regression_question_reason_must_fit_its_kind(index: int, reason: str) -> None:
    """Today these parse, and a "yes"/"no" gives a dispatch or fallback with an EMPTY reasons list."""
    doc = mecc_doc()
    doc["screening"][index]["reason"] = reason
    problems = problems_of(doc)
    assert any(f"screening[{index}]" in p for p in problems), problems


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(_set("screening", ["weapon"]), id="question-not-a-mapping"),
        pytest.param(_set("service_calendar", "weekdays"), id="calendar-not-a-mapping"),
        pytest.param(lambda doc: doc["call_types"].append("Fight"), id="call-type-not-a-mapping"),
        pytest.param(lambda doc: doc["fallback_options"].append({"label": "x"}), id="option-without-id"),
        pytest.param(_set("fallbacks", ["988"]), id="fallbacks-not-a-mapping"),
        pytest.param(
            lambda doc: doc["service_calendar"].__setitem__("holidays", "US"), id="holidays-not-a-mapping"
        ),
        pytest.param(_set_hours(days=[]), id="hours-block-without-days"),
    ],
)
def test_regression_malformed_shapes_raise_protocol_error(mutate: Callable[[Doc], None]) -> None:
    """Today most of these raise AttributeError/KeyError (a traceback in the CLI, a 500 in the admin),
    and a block with no days parses, then every `is_open` raises ValueError on a live call."""
    doc = mecc_doc()
    mutate(doc)
    assert problems_of(doc)


def test_regression_unquoted_numeric_option_id_is_accepted() -> None:
    """`id: 988` unquoted in YAML is an int in both places; options are str()-ed, references are not."""
    doc = mecc_doc()
    doc["fallback_options"][1]["id"] = 988
    doc["fallbacks"] = {k: [988 if o == "988" else o for o in v] for k, v in doc["fallbacks"].items()}
    protocol = parse_protocol(doc)
    assert protocol.fallbacks[Reason.HOLIDAY] == ("mobile_crisis_team", "988", "callback_next_shift")


def test_all_clear_answers_clear_every_question() -> None:
    protocol = load_protocol()
    answers = protocol.all_clear_answers()
    assert set(answers) == set(protocol.question_ids)
    assert answers["weapon"] is False and answers["caller_accepts_social_worker"] is True
