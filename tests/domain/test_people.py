"""People across calls (`crisisdesk.domain.people`): phones, linkage hashes, names, addresses, matching."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest

from crisisdesk.domain.people import (
    DEFAULT_THRESHOLD,
    MATCH_VERSION,
    STRONG_MATCH,
    WEIGHTS,
    Match,
    PersonFacts,
    Phone,
    are_nicknames,
    blocking_keys,
    dob_evidence,
    jaro_winkler,
    linkage_key,
    match_candidates,
    name_tokens,
    normalise_address,
    normalise_phone,
    score_pair,
    soundex,
)

# --- phones ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164", "problem"),
    [
        pytest.param("(612) 673-3000", "+16126733000", None, id="us-parentheses"),
        pytest.param("612.673.3000", "+16126733000", None, id="us-dots"),
        pytest.param("+1 612 673 3000", "+16126733000", None, id="e164-spaced"),
        pytest.param("1-612-673-3000", "+16126733000", None, id="trunk-prefix"),
        pytest.param("6126733000", "+16126733000", None, id="digits-only"),
        pytest.param("011 44 20 7946 0958", "+442079460958", None, id="international-from-us"),
        pytest.param("6736", None, "too_short", id="four-digit-extension"),
        pytest.param("911", None, "too_short", id="three-digits"),
        pytest.param("612673300000000", None, "too_long", id="too-long"),
        pytest.param("555-555-5555", None, "invalid_number", id="no-such-area-code"),
        pytest.param("abc", None, "not_a_number", id="letters"),
        pytest.param("unknown", None, "not_a_number", id="unknown-word"),
        pytest.param("", None, "missing", id="empty"),
        pytest.param("   ", None, "missing", id="blank"),
    ],
)
def test_normalise_phone(raw: str, e164: str | None, problem: str | None) -> None:
    phone = normalise_phone(raw)
    assert phone == Phone(raw=raw, e164=e164, valid=problem is None, problem=problem)


def test_extension_is_split_off() -> None:
    phone = normalise_phone("612 673 3000 ext. 12")
    assert (phone.e164, phone.extension, phone.valid) == ("+16126733000", "12", True)


def test_region_decides_national_numbers() -> None:
    assert normalise_phone("020 7946 0958", region="GB").e164 == "+442079460958"
    assert normalise_phone("020 7946 0958", region="US").valid is False


# --- linkage hash ----------------------------------------------------------------------------------------

KEY = b"0123456789abcdef0123456789abcdef"


def test_linkage_key_is_the_documented_hmac() -> None:
    expected = hmac.new(KEY, b"crisisdesk/person-linkage/v1\x00+16126733000", hashlib.sha256).hexdigest()
    assert linkage_key("+16126733000", KEY) == expected
    assert len(expected) == 64
    # Domain separation: not the plain HMAC (nor the plain hash) of the value.
    assert expected != hmac.new(KEY, b"+16126733000", hashlib.sha256).hexdigest()
    assert expected != hashlib.sha256(b"+16126733000").hexdigest()


def test_linkage_key_properties() -> None:
    assert linkage_key("+16126733000", KEY) == linkage_key("+16126733000", KEY)
    assert linkage_key("+16126733000", KEY) != linkage_key("+16126733001", KEY)
    assert linkage_key("+16126733000", KEY) != linkage_key("+16126733000", KEY[::-1])
    assert linkage_key("", KEY) == ""
    assert (
        linkage_key("José", KEY)
        == hmac.new(KEY, "crisisdesk/person-linkage/v1\x00José".encode(), "sha256").hexdigest()
    )


def test_linkage_key_refuses_a_short_key() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        linkage_key("+16126733000", b"secret")


# --- names --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("José", ("jose",)),
        ("  MARY  ann ", ("mary", "ann")),
        ("O'Brien", ("obrien",)),
        ("O’Brien", ("obrien",)),
        ("García-López", ("garcia", "lopez")),
        ("St. John", ("st", "john")),
        ("Nguyễn", ("nguyen",)),
        ("", ()),
    ],
)
def test_name_tokens(name: str, tokens: tuple[str, ...]) -> None:
    assert name_tokens(name) == tokens


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Bob", "Robert", True),
        ("ROBERT", "bobby", True),
        ("Bobby", "Rob", True),
        ("Bill", "William", True),
        ("Chris", "Christina", True),
        ("Chris", "Christopher", True),
        ("Christina", "Christopher", False),  # both have "Chris", but neither is a nickname of the other
        ("Peggy", "Margaret", True),
        ("Robert", "Robert", False),  # equal names are exact, not nicknames
        ("Bob", "William", False),
        ("Xochitl", "Robert", False),
        ("", "Robert", False),
    ],
)
def test_are_nicknames(a: str, b: str, expected: bool) -> None:
    assert are_nicknames(a, b) is expected
    assert are_nicknames(b, a) is expected


@pytest.mark.parametrize(
    ("a", "b", "value"),
    [
        # Reference values from Winkler's record-linkage papers.
        ("martha", "marhta", 0.9611),
        ("dwayne", "duane", 0.8400),
        ("dixon", "dicksonx", 0.8133),
        ("abc", "abc", 1.0),
        ("abc", "xyz", 0.0),
        ("", "abc", 0.0),
    ],
)
def test_jaro_winkler(a: str, b: str, value: float) -> None:
    assert jaro_winkler(a, b) == pytest.approx(value, abs=1e-4)
    assert jaro_winkler(b, a) == pytest.approx(value, abs=1e-4)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Robert", "R163"),
        ("Rupert", "R163"),
        ("Rubin", "R150"),
        ("Ashcraft", "A261"),
        ("Tymczak", "T522"),
        ("Pfister", "P236"),
        ("Honeyman", "H555"),
        ("Smith", "S530"),
        ("Smyth", "S530"),
        ("Lee", "L000"),
        ("O'Brien", "O165"),
        ("", ""),
    ],
)
def test_soundex(name: str, code: str) -> None:
    assert soundex(name) == code


# --- addresses ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "building", "unit"),
    [
        ("350 South Fifth Street, Minneapolis, MN 55415", "350 S 5TH ST", ""),
        ("350 S 5th St Apt 3", "350 S 5TH ST", "3"),
        ("350 S. 5th St. #3", "350 S 5TH ST", "3"),
        ("350 s 5th street unit 4B", "350 S 5TH ST", "4B"),
        ("2215 East Lake Street Suite 200", "2215 E LAKE ST", "200"),
        ("1010 Currie Avenue North", "1010 CURRIE AVE N", ""),
        ("Homeless", "HOMELESS", ""),
        ("", "", ""),
    ],
)
def test_normalise_address(text: str, building: str, unit: str) -> None:
    address = normalise_address(text)
    assert (address.building, address.unit) == (building, unit)


# --- dates of birth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "evidence"),
    [
        (date(1984, 3, 12), date(1984, 3, 12), "dob_exact"),
        (date(1984, 3, 12), date(1984, 12, 3), "dob_transposed"),  # US / European order mix-up
        (date(1984, 3, 12), date(1948, 3, 12), "dob_transposed"),  # two digits of the year swapped
        (date(1984, 3, 12), date(1984, 3, 21), "dob_transposed"),  # two digits of the day swapped
        (date(1984, 3, 12), date(1984, 3, 13), "dob_partial"),  # a typo in the day
        (date(1984, 3, 12), date(1985, 3, 12), "dob_partial"),
        (date(1984, 3, 12), date(1994, 3, 12), "dob_partial"),
        (date(1950, 6, 1), date(1978, 9, 15), "dob_different"),
        (date(1984, 3, 3), date(1984, 3, 3), "dob_exact"),
    ],
)
def test_dob_evidence(a: date, b: date, evidence: str) -> None:
    assert dob_evidence(a, b) == evidence
    assert dob_evidence(b, a) == evidence


# --- matching ----------------------------------------------------------------------------------------------

PHONE = "+16126733000"
ROBERT = PersonFacts(
    id=1,
    given_name="Robert",
    family_name="Smith",
    date_of_birth=date(1984, 3, 12),
    phone_e164=PHONE,
    address="350 S 5th St Apt 3, Minneapolis, MN",
)


def person(id: int | None = 99, **changes: object) -> PersonFacts:
    fields = {**ROBERT.__dict__, "id": id, **changes}
    return PersonFacts(**fields)  # type: ignore[arg-type]


NO_EXTRAS = {"phone_e164": None, "address": ""}


@pytest.mark.parametrize(
    ("new", "score", "reasons"),
    [
        pytest.param(
            person(), 1.0, ("phone_exact", "name_exact", "dob_exact", "address_exact"), id="same-everything"
        ),
        pytest.param(person(**NO_EXTRAS), 0.70, ("name_exact", "dob_exact"), id="name-and-dob-only"),
        pytest.param(
            person(given_name="Bob", **NO_EXTRAS),
            0.67,
            ("family_name_exact", "nickname", "dob_exact"),
            id="nickname-bob",
        ),
        pytest.param(
            person(given_name="BOB", address="350 South Fifth Street #7"),
            1.0,
            ("phone_exact", "family_name_exact", "nickname", "dob_exact", "address_same_street"),
            id="nickname-with-phone-and-building",
        ),
        pytest.param(
            person(date_of_birth=date(1984, 12, 3), **NO_EXTRAS),
            0.60,
            ("name_exact", "dob_transposed"),
            id="transposed-dob",
        ),
        pytest.param(
            # The household: same phone, family name and flat, another given name and birth date.
            person(given_name="Linda", date_of_birth=date(1956, 7, 30)),
            0.0,
            ("phone_exact", "family_name_exact", "given_name_different", "dob_different", "address_exact"),
            id="same-phone-different-person",
        ),
        pytest.param(
            # A friend's phone: nothing else in common.
            person(given_name="Ahmed", family_name="Hassan", date_of_birth=None, address="2215 E Lake St"),
            0.0,
            ("phone_exact", "family_name_different", "given_name_different"),
            id="same-phone-stranger",
        ),
        pytest.param(
            person(given_name="Richard"),
            0.45,
            ("phone_exact", "family_name_exact", "given_name_different", "dob_exact", "address_exact"),
            id="twins",
        ),
        pytest.param(
            person(date_of_birth=date(1958, 9, 15)),
            0.55,
            ("phone_exact", "name_exact", "dob_different", "address_exact"),
            id="senior-and-junior",
        ),
        pytest.param(
            person(given_name="José", family_name="García", **NO_EXTRAS),
            0.0,
            ("family_name_different", "given_name_different", "dob_exact"),
            id="different-name-same-birthday",
        ),
        pytest.param(
            person(given_name="Smith", family_name="Robert", **NO_EXTRAS),
            0.60,
            ("name_swapped", "dob_exact"),
            id="given-and-family-swapped",
        ),
        pytest.param(
            person(given_name="Robret", family_name="Smyth", **NO_EXTRAS),
            0.54,
            ("family_name_similar", "given_name_similar", "dob_exact"),
            id="typos",
        ),
        pytest.param(
            person(given_name="R", **NO_EXTRAS),
            0.56,
            ("family_name_exact", "given_initial", "dob_exact"),
            id="initial",
        ),
        pytest.param(
            person(given_name="Robert James", family_name="Smith-Jones", **NO_EXTRAS),
            0.54,
            ("family_name_similar", "given_name_similar", "dob_exact"),
            id="middle-and-double-names",
        ),
        pytest.param(
            person(given_name="", family_name="", date_of_birth=None, address=""),
            0.30,
            ("phone_exact",),
            id="unknown-caller-phone-only",
        ),
    ],
)
def test_score_pair(new: PersonFacts, score: float, reasons: tuple[str, ...]) -> None:
    got_score, got_reasons = score_pair(new, ROBERT)
    assert got_reasons == reasons
    assert got_score == pytest.approx(score)
    # The score is the documented sum of the weights, clipped to [0, 1].
    assert got_score == pytest.approx(min(1.0, max(0.0, sum(WEIGHTS[r] for r in reasons))))


def test_shelter_word_is_not_an_address_match() -> None:
    a = person(address="Homeless", phone_e164=None)
    b = PersonFacts(2, "Robert", "Smith", None, None, "homeless")
    assert score_pair(a, b)[1] == ("name_exact",)


def test_match_candidates_orders_and_filters() -> None:
    twin = PersonFacts(2, "Richard", "Smith", ROBERT.date_of_birth, PHONE, ROBERT.address)
    mother = PersonFacts(3, "Linda", "Smith", date(1956, 7, 30), PHONE, ROBERT.address)
    bob = PersonFacts(4, "Bob", "Smith", ROBERT.date_of_birth, PHONE, "")
    robert_moved = PersonFacts(5, "Robert", "Smith", ROBERT.date_of_birth, None, "1010 Currie Ave N")
    transposed = PersonFacts(6, "Robert", "Smith", date(1984, 12, 3), None, "")
    unsaved = PersonFacts(None, "Robert", "Smith", ROBERT.date_of_birth, PHONE, ROBERT.address)
    itself = PersonFacts(7, "Robert", "Smith", ROBERT.date_of_birth, PHONE, ROBERT.address)
    new = PersonFacts(7, "Robert", "Smith", ROBERT.date_of_birth, PHONE, "350 South Fifth Street Apt 3")
    pool = [twin, mother, bob, robert_moved, transposed, unsaved, itself]

    matches = match_candidates(new, pool)
    assert [(m.candidate_id, m.score) for m in matches] == [(4, 0.97), (5, 0.70), (6, 0.60)]
    assert all(m.version == MATCH_VERSION for m in matches)
    assert matches[0] == Match(4, 0.97, ("phone_exact", "family_name_exact", "nickname", "dob_exact"))
    assert matches[0].score >= STRONG_MATCH > matches[1].score
    # Deterministic: the pool's order does not matter.
    assert match_candidates(new, list(reversed(pool))) == matches
    # A lower threshold brings in the twin, still far below a likely match.
    loose = match_candidates(new, pool, threshold=0.4)
    assert [m.candidate_id for m in loose] == [4, 5, 6, 2]
    assert loose[-1].reasons == (
        "phone_exact",
        "family_name_exact",
        "given_name_different",
        "dob_exact",
        "address_exact",
    )
    assert DEFAULT_THRESHOLD == 0.5


def test_equal_scores_order_by_id() -> None:
    pool = [PersonFacts(i, "Robert", "Smith", ROBERT.date_of_birth, None, "") for i in (30, 10, 20)]
    assert [m.candidate_id for m in match_candidates(person(**NO_EXTRAS), pool)] == [10, 20, 30]


def test_threshold_is_inclusive() -> None:
    pool = [ROBERT]
    assert match_candidates(person(given_name="Richard"), pool, threshold=0.45)[0].score == pytest.approx(
        0.45
    )
    assert match_candidates(person(given_name="Richard"), pool, threshold=0.4501) == []


# --- blocking keys ---------------------------------------------------------------------------------------------


def test_blocking_keys() -> None:
    assert blocking_keys(ROBERT) == {
        "phone": PHONE,
        "dob": "1984-03-12",
        "name": "S530",
        "street": "350 S 5TH ST",
    }
    empty = PersonFacts(None, "", "", None, None, "")
    assert blocking_keys(empty) == {"phone": "", "dob": "", "name": "", "street": ""}
    assert blocking_keys(person(address="homeless", family_name="Smyth"))["street"] == ""


def test_blocking_keys_bring_every_true_match_together() -> None:
    """Each variant of Robert above that should match shares at least one key with him."""
    variants = [
        PersonFacts(2, "Bob", "Smyth", None, None, "350 South Fifth Street"),
        PersonFacts(3, "Robert", "Smith", date(1984, 12, 3), None, ""),
        PersonFacts(4, "R", "Smith", None, PHONE, ""),
    ]
    robert = blocking_keys(ROBERT)
    for variant in variants:
        keys = blocking_keys(variant)
        assert any(keys[k] and keys[k] == robert[k] for k in robert), variant
