"""Directory search on a small directory with known facts: each filter, the reasons, staleness."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.calls.errors import NotFound
from crisisdesk.directory import queries, services
from crisisdesk.directory.builders import Hours, Listing, service_doc
from crisisdesk.directory.search import SearchParams, haversine_km, search

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("America/Chicago")
TUESDAY_3PM = datetime(2026, 11, 24, 15, 0, tzinfo=TZ)
THANKSGIVING_10AM = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
TUESDAY_11PM = datetime(2026, 11, 24, 23, 0, tzinfo=TZ)
DOWNTOWN = (44.9778, -93.2650)
WEEKDAYS = {"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": "08:00", "closes_at": "17:00"}


def listing(key: str, **kw: Any) -> Listing:
    base: dict[str, Any] = {
        "name": key.replace("-", " ").title(),
        "organization": "Test Org",
        "description": "test listing",
        "needs": ["mental_health_care"],
        "assured_date": "2026-11-01",
    }
    base.update(kw)
    return Listing(key=key, **base)


LISTINGS = [
    listing(
        "clinic",
        needs=["mental_health_care"],
        address=("1 Main St", "Minneapolis", "MN", "55401"),
        latitude=44.9778,
        longitude=-93.2650,
        hours=Hours([WEEKDAYS]),
        hours_tags=["closed_on_holidays"],
        access=["walk_in"],
        insurance=["medicaid", "private"],
        languages=["en", "so"],
        minimum_age=18,
    ),
    listing(
        "shelter",
        needs=["housing_support"],
        address=("2 Main St", "Minneapolis", "MN", "55401"),
        latitude=44.9878,  # 1.11 km north of downtown
        longitude=-93.2650,
        hours=Hours([{"opens_at": "19:00", "closes_at": "07:00"}]),
        access=["walk_in"],
        insurance=["no_cost"],
        gender=["female"],
    ),
    listing(
        "st-paul-food",
        needs=["food"],
        address=("3 Main St", "Saint Paul", "MN", "55101"),
        latitude=44.9537,
        longitude=-93.0900,  # about 14 km east
        hours=Hours([{"freq": "WEEKLY", "byday": "TU,TH", "opens_at": "10:00", "closes_at": "16:00"}]),
        access=["appointment"],
        residency=["county:ramsey"],
        insurance=["no_cost"],
        languages=["es"],
    ),
    listing(
        "crisis-line",
        needs=["crisis_services", "mental_health_care"],
        hours_tags=["open_24_7"],
        access=["phone"],
        insurance=["no_cost"],
        assured_date="2025-01-01",  # stale
        sample=False,
    ),
    listing("youth", needs=["mental_health_care"], minimum_age=12, maximum_age=24, assured_date=None),
    listing("closed-down", needs=["food"], status="defunct"),
]


@pytest.fixture
def directory(db: Any) -> dict[str, int]:
    report = services.import_hsds_documents(
        None, [("service", service_doc(x)) for x in LISTINGS], source="test"
    )
    assert report.problems == []
    from crisisdesk.directory.models import Service

    return dict(Service.objects.values_list("name", "pk"))


def names(params: SearchParams, now: datetime = TUESDAY_3PM, **kw: Any) -> list[str]:
    return [r.service.name for r in search(params, now=now, **kw).results]


def test_inactive_services_are_not_found(directory: dict[str, int]) -> None:
    assert "Closed Down" not in names(SearchParams())
    assert len(names(SearchParams())) == 5


def test_needs(directory: dict[str, int]) -> None:
    assert names(SearchParams(needs=("food",))) == ["St Paul Food"]
    assert set(names(SearchParams(needs=("food", "housing_support")))) == {"St Paul Food", "Shelter"}


def test_open_now_overnight_and_holiday(directory: dict[str, int]) -> None:
    afternoon = names(SearchParams(open_at=TUESDAY_3PM), now=TUESDAY_3PM)
    assert set(afternoon) == {"Clinic", "St Paul Food", "Crisis Line"}  # youth: hours not listed
    night = names(SearchParams(open_at=TUESDAY_11PM), now=TUESDAY_11PM)
    assert set(night) == {"Shelter", "Crisis Line"}
    # Thanksgiving (a Thursday): the clinic closes on holidays; the Tuesday/Thursday food service
    # is not marked closed_on_holidays, so it is open at its opening instant.
    thanksgiving = names(SearchParams(open_at=THANKSGIVING_10AM), now=THANKSGIVING_10AM)
    assert set(thanksgiving) == {"Crisis Line", "St Paul Food"}
    closed = search(SearchParams(needs=("mental_health_care",)), now=THANKSGIVING_10AM).results
    clinic = next(r for r in closed if r.service.name == "Clinic")
    assert clinic.status.text == "closed: holiday (Thanksgiving Day); opens tomorrow 08:00"


def test_open_at_another_time_speaks_of_that_time(directory: dict[str, int]) -> None:
    result = search(SearchParams(open_at=TUESDAY_11PM, needs=("housing_support",)), now=TUESDAY_3PM).results
    assert [r.status.text for r in result] == ["open until tomorrow 07:00"]
    assert result[0].reasons == [
        "offers housing support",
        "open at Tue Nov 24 23:00: open until tomorrow 07:00",
    ]


def test_open_first_then_name(directory: dict[str, int]) -> None:
    assert names(SearchParams(needs=("mental_health_care",)), now=TUESDAY_11PM) == [
        "Crisis Line",
        "Clinic",
        "Youth",
    ]


def test_language_from_the_service_listing(directory: dict[str, int]) -> None:
    assert names(SearchParams(language="so")) == ["Clinic"]
    assert names(SearchParams(language="Somali")) == ["Clinic"]
    assert names(SearchParams(language="spa")) == ["St Paul Food"]


def test_age(directory: dict[str, int]) -> None:
    assert set(names(SearchParams(age=15))) == {"Shelter", "St Paul Food", "Crisis Line", "Youth"}
    assert set(names(SearchParams(age=30))) == {"Clinic", "Shelter", "St Paul Food", "Crisis Line"}


def test_insurance_matches_the_plan_or_no_cost(directory: dict[str, int]) -> None:
    assert set(names(SearchParams(insurance="medicaid"))) == {
        "Clinic",
        "Shelter",
        "St Paul Food",
        "Crisis Line",
    }
    assert set(names(SearchParams(insurance="uninsured"))) == {"Shelter", "St Paul Food", "Crisis Line"}


def test_gender_and_residency_restrict_only_listed_services(directory: dict[str, int]) -> None:
    assert "Shelter" not in names(SearchParams(gender="male"))
    assert "Shelter" in names(SearchParams(gender="female"))
    hennepin = names(SearchParams(county="Hennepin", city="Minneapolis"))
    assert "St Paul Food" not in hennepin and "Clinic" in hennepin
    assert "St Paul Food" in names(SearchParams(county="  RAMSEY "))


def test_walk_in_or_appointment(directory: dict[str, int]) -> None:
    assert set(names(SearchParams(access="walk_in"))) == {"Clinic", "Shelter"}
    assert names(SearchParams(access="appointment")) == ["St Paul Food"]


def test_distance(directory: dict[str, int]) -> None:
    assert haversine_km((44.9778, -93.2650), (44.9878, -93.2650)) == pytest.approx(1.112, abs=0.002)
    near = search(SearchParams(near=DOWNTOWN, within_km=5), now=TUESDAY_11PM).results
    assert [
        (r.service.name, round(r.distance_km, 2) if r.distance_km is not None else None) for r in near
    ] == [
        ("Shelter", 1.11),
        ("Clinic", 0.0),
    ]
    assert near[0].reasons == ["1.1 km away"]
    wider = names(SearchParams(near=DOWNTOWN, within_km=20))
    assert "St Paul Food" in wider and "Crisis Line" not in wider  # no coordinates: not within any radius
    sorted_only = names(SearchParams(near=DOWNTOWN, needs=("food",)))
    assert sorted_only == ["St Paul Food"]


def test_reasons_and_card_facts(directory: dict[str, int]) -> None:
    params = SearchParams(
        needs=("mental_health_care",),
        open_at=TUESDAY_3PM,
        language="so",
        age=30,
        insurance="medicaid",
        access="walk_in",
    )
    [clinic] = search(params, now=TUESDAY_3PM).results
    assert clinic.reasons == [
        "offers mental health care",
        "open now until 17:00",
        "serves Somali",
        "age 30 is within ages 18+",
        "accepts Medical Assistance (Medicaid)",
        "walk-in",
    ]
    assert clinic.addresses == ["1 Main St, Minneapolis, MN 55401"]
    assert clinic.hours == ["Mon, Tue, Wed, Thu, Fri 08:00-17:00", "Closed on public holidays"]
    assert clinic.languages == ["English", "Somali"]
    assert clinic.service.is_sample


def test_staleness_is_configurable(directory: dict[str, int], settings: Any) -> None:
    results = {r.service.name: r for r in search(SearchParams(), now=TUESDAY_3PM, stale_days=180).results}
    assert (results["Clinic"].stale, results["Clinic"].verified_days) == (False, 23)
    assert results["Crisis Line"].stale and results["Crisis Line"].verified_days == 692
    assert results["Youth"].stale and results["Youth"].verified_days is None
    tight = {r.service.name: r.stale for r in search(SearchParams(), now=TUESDAY_3PM, stale_days=10).results}
    assert tight["Clinic"] is True
    settings.DIRECTORY_STALE_DAYS = 10
    assert queries.stale_services(_admin(), now=TUESDAY_3PM).filter(name="Clinic").exists()


def _admin() -> Any:
    from crisisdesk.accounts.models import User

    return User(username="a", role="administrator")


def test_search_is_role_scoped(directory: dict[str, int], telecommunicator: Any, social_worker: Any) -> None:
    with pytest.raises(NotFound):
        queries.search_directory(telecommunicator, SearchParams())
    assert queries.search_directory(social_worker, SearchParams(needs=("food",)), now=TUESDAY_3PM).total == 1


def test_verified_date_counts_local_days(directory: dict[str, int]) -> None:
    # Verified 2026-11-01 (local); on Nov 24 at 23:00 local it is 23 days, not 24 (UTC is already Nov 25).
    [clinic] = [r for r in search(SearchParams(), now=TUESDAY_11PM).results if r.service.name == "Clinic"]
    assert clinic.verified_days == (date(2026, 11, 24) - date(2026, 11, 1)).days == 23
