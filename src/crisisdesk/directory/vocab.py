"""The directory's own vocabulary: needs, eligibility facets and access modes.

HSDS 3.0 tags a service through `attribute` rows that point at `taxonomy_term` rows. Crisis Desk
publishes one taxonomy of its own (TAXONOMY_NAME, id TAXONOMY_ID) whose term codes are
`<kind>:<value>`, e.g. `need:mental_health_care`, `insurance:medicaid`, `residency:county:hennepin`,
`access:walk_in`, `hours:closed_on_holidays`, `data:sample`. On import every attribute whose term
maps to a (kind, value) becomes one indexed `ServiceTag` row; a term of another taxonomy (AIRS/211,
Open Eligibility) can be mapped by an administrator by setting its `tag_kind`/`tag_value`.

Meaning of each kind in search (documented in docs/directory.md):
- need       what the service helps with (NEEDS below; at least one per service is expected).
- language   ISO 639-1 code served (derived from HSDS `language` rows, not from attributes).
- insurance  payment accepted: medicaid, medicare, private, uninsured, no_cost. A search by
             insurance X matches X or no_cost.
- gender     restricts the service to these genders (female, male, nonbinary); none = all.
- residency  restricts the service to residents of `county:<name>`, `city:<name>` or
             `state:<code>`; none = no residency rule.
- access     walk_in, appointment, phone (a telephone/text line), mobile (comes to the person).
- hours      closed_on_holidays (public holidays close the service), open_24_7.
- data       sample: an invented listing, shown with a SAMPLE DATA badge.
"""

from __future__ import annotations

import enum
import uuid


class Need(enum.StrEnum):
    MENTAL_HEALTH_CARE = "mental_health_care"
    ADDICTION_TREATMENT = "addiction_treatment"
    HOUSING_SUPPORT = "housing_support"
    CRISIS_SERVICES = "crisis_services"
    FOOD = "food"
    BENEFITS = "benefits"
    LEGAL = "legal"
    FAMILY_SUPPORT = "family_support"


NEED_LABELS: dict[str, str] = {
    Need.MENTAL_HEALTH_CARE: "Mental health care",
    Need.ADDICTION_TREATMENT: "Addiction treatment",
    Need.HOUSING_SUPPORT: "Housing support",
    Need.CRISIS_SERVICES: "Crisis services",
    Need.FOOD: "Food",
    Need.BENEFITS: "Benefits",
    Need.LEGAL: "Legal help",
    Need.FAMILY_SUPPORT: "Family support",
}


class TagKind(enum.StrEnum):
    NEED = "need"
    LANGUAGE = "language"
    INSURANCE = "insurance"
    GENDER = "gender"
    RESIDENCY = "residency"
    ACCESS = "access"
    HOURS = "hours"
    DATA = "data"


INSURANCE_VALUES = ("medicaid", "medicare", "private", "uninsured", "no_cost")
GENDER_VALUES = ("female", "male", "nonbinary")
ACCESS_VALUES = ("walk_in", "appointment", "phone", "mobile")
HOURS_VALUES = ("closed_on_holidays", "open_24_7")

# Values each kind may take when it comes from a term code (residency is open: county:/city:/state:).
CLOSED_VALUES: dict[str, tuple[str, ...]] = {
    TagKind.NEED: tuple(n.value for n in Need),
    TagKind.INSURANCE: INSURANCE_VALUES,
    TagKind.GENDER: GENDER_VALUES,
    TagKind.ACCESS: ACCESS_VALUES,
    TagKind.HOURS: HOURS_VALUES,
    TagKind.DATA: ("sample",),
}

TAXONOMY_NAME = "crisisdesk"
# Stable ids (uuid5) so that every Crisis Desk instance exports the same taxonomy ids.
_NS = uuid.UUID("6f1e7f55-2d1c-4d8e-9a34-5b0c0b7c2a11")
TAXONOMY_ID = str(uuid.uuid5(_NS, "taxonomy:crisisdesk"))


def term_id(code: str) -> str:
    """The stable HSDS id of the Crisis Desk taxonomy term with this `<kind>:<value>` code."""
    return str(uuid.uuid5(_NS, f"term:{code}"))


def parse_code(code: str) -> tuple[str, str] | None:
    """`need:food` -> ("need", "food"); None when the code is not one of ours or the value is unknown."""
    kind, sep, value = (code or "").strip().lower().partition(":")
    if not sep or not value or kind not in {k.value for k in TagKind} or kind == TagKind.LANGUAGE:
        return None
    allowed = CLOSED_VALUES.get(kind)
    if allowed is not None and value not in allowed:
        return None
    if kind == TagKind.RESIDENCY:
        scope, sep2, place = value.partition(":")
        if not sep2 or scope not in {"county", "city", "state"} or not place:
            return None
    return kind, value


def all_term_codes() -> list[str]:
    """Every closed-vocabulary code of the Crisis Desk taxonomy (residency terms are made as needed)."""
    return [f"{kind}:{value}" for kind, values in CLOSED_VALUES.items() for value in values]


def term_label(kind: str, value: str) -> str:
    if kind == TagKind.NEED:
        return NEED_LABELS.get(value, value)
    return f"{kind}: {value.replace('_', ' ')}"


# Languages most asked for in Minneapolis / Hennepin County, by ISO 639-1 code; three-letter
# (ISO 639-2/3) codes and English names map onto them so that search finds "so" whether a source
# wrote "so", "som" or "Somali".
LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "so": "Somali",
    "hmn": "Hmong",
    "om": "Oromo",
    "am": "Amharic",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "ru": "Russian",
    "kar": "Karen",
    "fr": "French",
    "zh": "Chinese",
    "ase": "American Sign Language",
}
_ALIASES = {
    "eng": "en",
    "spa": "es",
    "som": "so",
    "orm": "om",
    "amh": "am",
    "vie": "vi",
    "ara": "ar",
    "rus": "ru",
    "fra": "fr",
    "fre": "fr",
    "zho": "zh",
    "chi": "zh",
    "asl": "ase",
    "sgn": "ase",
    **{name.lower(): code for code, name in LANGUAGES.items()},
    "asl (american sign language)": "ase",
}


def language_code(code: str, name: str = "") -> str:
    """A search key for a language: the ISO 639-1 code where one exists, lower-cased; "" if unknown."""
    for raw in (code, name):
        key = (raw or "").strip().lower()
        if not key:
            continue
        key = key.split("-")[0] if len(key) > 3 and "-" in key else key  # "en-US" -> "en"
        if key in LANGUAGES:
            return key
        if key in _ALIASES:
            return _ALIASES[key]
        if raw is code and 2 <= len(key) <= 3 and key.isalpha():
            return key
    return ""
