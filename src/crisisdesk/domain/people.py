"""People across calls: phone normalisation, keyed linkage hashes, and candidate matching.

The same person calls 911 again; counting repeat calls per person (before and after contact with
the social worker) is one of the programme's evaluation measures. Matching here only proposes
**candidates for a person to confirm**: nothing links automatically, because a wrong link merges
two people's crisis records. Every `Match` carries its reasons and the rule version.

Flow: `blocking_keys(facts)` gives small normalised keys stored as indexed columns; the database
prefetches every person sharing any key with the new record; `match_candidates` scores them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import phonenumbers

MATCH_VERSION = "person-match/1"
DEFAULT_THRESHOLD = 0.5
STRONG_MATCH = 0.8  # shown as "likely the same person" (still to be confirmed)


# --- phone numbers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phone:
    raw: str  # exactly as given: kept even when invalid, a person may still read it
    e164: str | None  # "+16126733000" when valid, else None
    valid: bool
    problem: str | None  # missing, not_a_number, too_short, too_long, invalid_country_code, invalid_number...
    extension: str | None = None


_POSSIBLE_PROBLEMS = {
    phonenumbers.ValidationResult.TOO_SHORT: "too_short",
    phonenumbers.ValidationResult.TOO_LONG: "too_long",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
    phonenumbers.ValidationResult.INVALID_LENGTH: "invalid_length",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local_only",
}
_PARSE_PROBLEMS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not_a_number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too_short",
    phonenumbers.NumberParseException.TOO_LONG: "too_long",
}


def normalise_phone(raw: str, region: str = "US") -> Phone:
    """Parse a phone number as typed or sent by CAD. Never raises: a bad number is kept and flagged.

    Valid numbers get their E.164 form (an extension is split off into `extension`); international
    dialling from the US ("011 44 ...") is understood. Invalid ones keep `e164=None` so they never
    match another record. Problems: missing (blank), not_a_number, too_short (e.g. a 4-digit
    internal extension), too_long, invalid_country_code, invalid_length, local_only, invalid_number
    (right length, but no such number plan, e.g. 555-555-5555).
    """
    if not raw or not raw.strip():
        return Phone(raw=raw, e164=None, valid=False, problem="missing")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        return Phone(
            raw=raw, e164=None, valid=False, problem=_PARSE_PROBLEMS.get(exc.error_type, "not_a_number")
        )
    extension = number.extension or None
    if phonenumbers.is_valid_number(number):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return Phone(raw=raw, e164=e164, valid=True, problem=None, extension=extension)
    possible = phonenumbers.is_possible_number_with_reason(number)
    problem = _POSSIBLE_PROBLEMS.get(possible, "invalid_number")
    return Phone(raw=raw, e164=None, valid=False, problem=problem, extension=extension)


# --- keyed linkage hash -----------------------------------------------------------------------------------

# Domain separation: the same secret key may serve other HMAC uses; this prefix (with a version, so
# a change of normalisation gets new hashes) keeps linkage hashes from colliding with them.
LINKAGE_PREFIX = b"crisisdesk/person-linkage/v1\x00"
MIN_KEY_BYTES = 16


def linkage_key(value: str, key: bytes) -> str:
    """A keyed hash of an identifier for de-identified analytics: hex HMAC-SHA256 of
    LINKAGE_PREFIX + UTF-8 value under `key`. An unkeyed hash of a phone number or a date of birth is
    reversible by trying every value, so the key is a secret of at least 16 bytes (ValueError
    otherwise). Pass normalised values (E.164, `blocking_keys` output): the value is hashed as given.
    Empty value -> "" (no identifier: nothing to link)."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the linkage key must be at least {MIN_KEY_BYTES} bytes")
    if value == "":
        return ""
    return hmac.new(key, LINKAGE_PREFIX + value.encode("utf-8"), hashlib.sha256).hexdigest()


# --- names --------------------------------------------------------------------------------------------------

# canonical given name -> common nicknames and short forms. Deliberately small and English-centred
# (see the report's weaknesses): a name may belong to several groups (chris, alex, sam, pat...).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "robert": ("bob", "bobby", "rob", "robby", "robbie", "bert"),
    "william": ("bill", "billy", "will", "willy", "willie", "liam"),
    "james": ("jim", "jimmy", "jamie"),
    "john": ("jack", "johnny", "jon"),
    "jonathan": ("jon", "jonny", "nathan"),
    "michael": ("mike", "mikey", "mick"),
    "richard": ("rick", "ricky", "rich", "richie", "dick"),
    "thomas": ("tom", "tommy"),
    "joseph": ("joe", "joey"),
    "david": ("dave", "davey"),
    "daniel": ("dan", "danny"),
    "christopher": ("chris", "topher"),
    "christina": ("chris", "tina", "chrissy"),
    "christine": ("chris", "tina", "chrissy"),
    "katherine": ("kate", "katie", "kathy", "kat", "kay"),
    "catherine": ("cathy", "cat", "kate", "katie"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "libby"),
    "margaret": ("maggie", "meg", "peggy", "marge"),
    "jennifer": ("jen", "jenny"),
    "susan": ("sue", "susie"),
    "anthony": ("tony",),
    "steven": ("steve",),
    "stephen": ("steve",),
    "alexander": ("alex", "xander", "sasha"),
    "alexandra": ("alex", "sasha", "lexi"),
    "samuel": ("sam", "sammy"),
    "samantha": ("sam", "sammy"),
    "patrick": ("pat", "paddy"),
    "patricia": ("pat", "patty", "trish"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "charles": ("charlie", "chuck"),
    "lawrence": ("larry",),
    "nicholas": ("nick", "nicky"),
    "matthew": ("matt",),
    "andrew": ("andy", "drew"),
    "benjamin": ("ben", "benny"),
    "gregory": ("greg",),
    "jeffrey": ("jeff",),
    "timothy": ("tim", "timmy"),
    "kenneth": ("ken", "kenny"),
    "ronald": ("ron", "ronnie"),
    "donald": ("don", "donnie"),
    "joshua": ("josh",),
    "abigail": ("abby",),
    "rebecca": ("becky", "becca"),
    "deborah": ("deb", "debbie"),
    "jessica": ("jess", "jessie"),
    "amanda": ("mandy",),
    "victoria": ("vicky", "tori"),
    "kimberly": ("kim",),
    "cynthia": ("cindy",),
    "pamela": ("pam",),
    "theresa": ("terry", "tess"),
    "terrence": ("terry",),
    "francisco": ("paco", "pancho", "frank"),
    "jose": ("pepe",),
    "guadalupe": ("lupe",),
}


def _nickname_groups() -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for canonical, nicks in NICKNAMES.items():
        for name in (canonical, *nicks):
            groups.setdefault(name, set()).add(canonical)
    return {name: frozenset(canonicals) for name, canonicals in groups.items()}


_GROUPS = _nickname_groups()


def name_tokens(name: str) -> tuple[str, ...]:
    """Lower-case ASCII tokens: accents dropped (José -> jose), apostrophes and periods removed
    (O'Brien -> obrien), hyphens and other punctuation split tokens (Garcia-Lopez -> garcia lopez)."""
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    ascii_only = re.sub(r"['’.]", "", ascii_only)
    return tuple(re.findall(r"[a-z0-9]+", ascii_only))


def normalise_name(name: str) -> str:
    return "".join(name_tokens(name))


def are_nicknames(a: str, b: str) -> bool:
    """Two given names that share a nickname group (Bob / Robert, Bobby / Rob), but are not equal."""
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb or ta[0] == tb[0]:
        return False
    return bool(_GROUPS.get(ta[0], frozenset()) & _GROUPS.get(tb[0], frozenset()))


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity in [0, 1] (prefix scale 0.1, prefix up to 4): the usual record-linkage
    string comparator, forgiving of typos and transpositions in short strings such as names."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    matched_b = [False] * len(b)
    a_matches: list[str] = []
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not matched_b[j] and b[j] == ch:
                matched_b[j] = True
                a_matches.append(ch)
                break
    m = len(a_matches)
    if m == 0:
        return 0.0
    b_matches = [b[j] for j in range(len(b)) if matched_b[j]]
    transpositions = sum(x != y for x, y in zip(a_matches, b_matches, strict=True)) / 2
    jaro = (m / len(a) + m / len(b) + (m - transpositions) / m) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


SIMILAR = 0.88  # Jaro-Winkler at or above this: a likely spelling variant (Jon/John, Smith/Smyth)


def soundex(name: str) -> str:
    """American Soundex of the first token (letter + 3 digits; "" for no letters): a coarse phonetic
    key for blocking, so Smith / Smyth / Smithe land in the same bucket."""
    tokens = [t for t in name_tokens(name) if t.isalpha()]
    if not tokens:
        return ""
    word = tokens[0]
    codes = {
        ch: str(d)
        for d, letters in enumerate(("", "bfpv", "cgjkqsxz", "dt", "l", "mn", "r"))
        for ch in letters
    }
    out = word[0].upper()
    previous = codes.get(word[0], "")
    for ch in word[1:]:
        code = codes.get(ch, "")
        if code and code != previous:
            out += code
        if ch not in "hw":  # h and w do not separate equal codes; vowels do
            previous = code
    return (out + "000")[:4]


# --- addresses ---------------------------------------------------------------------------------------------

# USPS Publication 28 standard abbreviations (the common ones): suffixes, directionals, ordinals.
STREET_ABBREVIATIONS: dict[str, str] = {
    "STREET": "ST",
    "STR": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "AVEN": "AVE",
    "BOULEVARD": "BLVD",
    "ROAD": "RD",
    "DRIVE": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "PARKWAY": "PKWY",
    "TERRACE": "TER",
    "CIRCLE": "CIR",
    "HIGHWAY": "HWY",
    "SQUARE": "SQ",
    "TRAIL": "TRL",
    "PLAZA": "PLZ",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
    "FIRST": "1ST",
    "SECOND": "2ND",
    "THIRD": "3RD",
    "FOURTH": "4TH",
    "FIFTH": "5TH",
    "SIXTH": "6TH",
    "SEVENTH": "7TH",
    "EIGHTH": "8TH",
    "NINTH": "9TH",
    "TENTH": "10TH",
}
UNIT_DESIGNATORS = frozenset(
    {"APT", "APARTMENT", "UNIT", "STE", "SUITE", "RM", "ROOM", "FL", "FLOOR", "LOT", "#"}
)


@dataclass(frozen=True)
class StreetAddress:
    building: str  # "350 S 5TH ST": number, directionals, street and suffix, abbreviated
    unit: str  # "3B", or "" when none was given


def normalise_address(text: str) -> StreetAddress:
    """The street line of a free-text address, normalised for comparison.

    Only the text before the first comma is used (city, state and ZIP follow it in CAD addresses).
    Upper case, accents and punctuation dropped, USPS abbreviations applied (STREET -> ST,
    NORTH -> N, FIFTH -> 5TH), and the unit (APT / UNIT / STE / # ... to the end) split off so two
    flats in one building compare as the same building.
    """
    line = text.split(",", 1)[0]
    decomposed = unicodedata.normalize("NFKD", line)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()
    ascii_only = ascii_only.replace("#", " # ")
    tokens = re.findall(r"[A-Z0-9#]+", ascii_only.replace(".", ""))
    building: list[str] = []
    unit: list[str] = []
    for i, token in enumerate(tokens):
        if token in UNIT_DESIGNATORS and i > 0:
            unit = [t for t in tokens[i + 1 :] if t not in UNIT_DESIGNATORS]
            break
        building.append(STREET_ABBREVIATIONS.get(token, token))
    return StreetAddress(building=" ".join(building), unit="".join(unit))


# --- matching ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonFacts:
    id: int | None
    given_name: str
    family_name: str
    date_of_birth: date | None
    phone_e164: str | None
    address: str


@dataclass(frozen=True)
class Match:
    candidate_id: int
    score: float  # 0..1, see `match_candidates`
    reasons: tuple[str, ...]
    version: str = MATCH_VERSION


# Points each piece of evidence adds (or removes); the sum is clipped to [0, 1].
WEIGHTS: dict[str, float] = {
    "phone_exact": 0.30,
    "name_exact": 0.40,  # given and family name both equal after normalisation
    "name_swapped": 0.30,  # given and family recorded the other way round
    "family_name_exact": 0.20,
    "family_name_similar": 0.12,
    "family_name_different": -0.10,  # names change (marriage), so only a small penalty
    "given_name_exact": 0.20,
    "nickname": 0.17,
    "given_name_similar": 0.12,
    "given_initial": 0.06,
    "given_name_different": -0.50,  # household members and twins share everything else
    "dob_exact": 0.30,
    "dob_transposed": 0.20,  # day/month swapped, or two adjacent digits swapped
    "dob_partial": 0.0,  # two of year / month / day agree: a typo or a different person, no evidence
    "dob_different": -0.30,
    "address_exact": 0.15,
    "address_same_street": 0.10,  # same building (number and street), different or missing unit
}


def _name_evidence(new: PersonFacts, old: PersonFacts) -> list[str]:
    ng, nf = normalise_name(new.given_name), normalise_name(new.family_name)
    og, of = normalise_name(old.given_name), normalise_name(old.family_name)
    if ng and nf and ng == og and nf == of:
        return ["name_exact"]
    if ng and nf and ng == of and nf == og:
        return ["name_swapped"]
    reasons: list[str] = []
    if nf and of:
        if nf == of:
            reasons.append("family_name_exact")
        elif set(name_tokens(new.family_name)) & set(name_tokens(old.family_name)) or (
            jaro_winkler(nf, of) >= SIMILAR
        ):
            reasons.append("family_name_similar")  # a spelling variant, or one part of a double name
        else:
            reasons.append("family_name_different")
    if ng and og:
        first_new, first_old = name_tokens(new.given_name)[0], name_tokens(old.given_name)[0]
        if ng == og:
            reasons.append("given_name_exact")
        elif are_nicknames(new.given_name, old.given_name):
            reasons.append("nickname")
        elif first_new == first_old or jaro_winkler(ng, og) >= SIMILAR:
            reasons.append("given_name_similar")  # a typo, or a middle name on one record only
        elif (len(first_new) == 1 or len(first_old) == 1) and first_new[0] == first_old[0]:
            reasons.append("given_initial")
        else:
            reasons.append("given_name_different")
    return reasons


def _adjacent_swap(a: str, b: str) -> bool:
    """b is a with exactly two neighbouring characters swapped (1984 / 1948, 1984 / 1894; not 1984 / 4981)."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def dob_evidence(new: date, old: date) -> str:
    """dob_exact, dob_transposed (day and month swapped, e.g. 03/12 vs 12/03, or two adjacent digits
    of one part swapped: 1984 / 1948 is a swap of the last two), dob_partial (two of the three
    parts agree) or dob_different."""
    if new == old:
        return "dob_exact"
    if new.year == old.year and (new.month, new.day) == (old.day, old.month):
        return "dob_transposed"
    parts_new = (f"{new.year:04d}", f"{new.month:02d}", f"{new.day:02d}")
    parts_old = (f"{old.year:04d}", f"{old.month:02d}", f"{old.day:02d}")
    differing = [i for i in range(3) if parts_new[i] != parts_old[i]]
    if len(differing) == 1:
        i = differing[0]
        return "dob_transposed" if _adjacent_swap(parts_new[i], parts_old[i]) else "dob_partial"
    return "dob_different"


def _address_evidence(new: str, old: str) -> str | None:
    a, b = normalise_address(new), normalise_address(old)
    # A building needs a house number and a street: "HOMELESS" or "UNKNOWN" is not an address.
    if not a.building or not b.building or not a.building[0].isdigit() or " " not in a.building:
        return None
    if a.building != b.building:
        return None
    return "address_exact" if a.unit == b.unit else "address_same_street"


def score_pair(new: PersonFacts, old: PersonFacts) -> tuple[float, tuple[str, ...]]:
    """Score and reasons for one pair (see `match_candidates`)."""
    reasons: list[str] = []
    if new.phone_e164 and new.phone_e164 == old.phone_e164:
        reasons.append("phone_exact")
    reasons += _name_evidence(new, old)
    if new.date_of_birth is not None and old.date_of_birth is not None:
        reasons.append(dob_evidence(new.date_of_birth, old.date_of_birth))
    if new.address and old.address:
        address = _address_evidence(new.address, old.address)
        if address:
            reasons.append(address)
    total = sum(WEIGHTS[r] for r in reasons)
    return round(min(1.0, max(0.0, total)), 4), tuple(reasons)


def match_candidates(
    new: PersonFacts, pool: Iterable[PersonFacts], threshold: float = DEFAULT_THRESHOLD
) -> list[Match]:
    """Existing people who may be `new`, best first (score descending, then id ascending).

    The score adds the `WEIGHTS` of each piece of evidence and clips the sum to [0, 1]:

    - phone_exact +0.30: strong, but households, shelters and group homes share phones, so a phone
      alone (0.30) stays under the threshold, and a phone with a different given name scores low.
    - names: both equal +0.40 (given and family swapped +0.30); otherwise family exact +0.20 /
      similar +0.12 / different -0.10, given exact +0.20 / nickname +0.17 / similar +0.12 /
      initial +0.06 / different -0.50. A different given name is the strongest evidence against:
      twins and household members share phone, address, family name and even date of birth.
    - date of birth: exact +0.30, transposed +0.20, partial 0, different -0.30 (a contradiction:
      a Sr. and Jr. sharing name, phone and flat score 0.55, a weak candidate, not a likely one).
    - address (street line, normalised): exact +0.15, same building with another or no unit +0.10.
      Different addresses are no evidence (people move).

    So name + date of birth alone give 0.70, with the phone 1.0; a nickname + date of birth 0.67;
    the same phone, family name and address with another given name 0.15 (0.45 for twins, who also
    share the date of birth). `threshold` (inclusive) drops weak candidates; `STRONG_MATCH` (0.8)
    marks likely ones. Nothing is linked here: a person confirms. Pool entries without an id, or
    with `new`'s own id, are skipped.
    """
    matches = []
    for old in pool:
        if old.id is None or (new.id is not None and old.id == new.id):
            continue
        value, reasons = score_pair(new, old)
        if value >= threshold:
            matches.append(Match(candidate_id=old.id, score=value, reasons=reasons))
    return sorted(matches, key=lambda m: (-m.score, m.candidate_id))


def blocking_keys(facts: PersonFacts) -> dict[str, str]:
    """Small normalised keys to store as indexed columns and prefetch candidates by (any key equal).

    Always the same four keys, "" when unknown (an empty key must not be used to prefetch):
    phone (E.164), dob (ISO date), name (Soundex of the family name, e.g. S530 for Smith / Smyth;
    at most 4 characters), street (normalised building line without the unit, e.g. "350 S 5TH ST").
    A transposed date of birth or a changed phone is still found through the name or street key.
    """
    street = normalise_address(facts.address).building if facts.address else ""
    return {
        "phone": facts.phone_e164 or "",
        "dob": facts.date_of_birth.isoformat() if facts.date_of_birth else "",
        "name": soundex(facts.family_name),
        "street": street if street[:1].isdigit() else "",
    }
