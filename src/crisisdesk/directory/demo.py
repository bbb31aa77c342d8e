"""The demo directory for Minneapolis / Hennepin County.

Only two listings are facts: 988 (the national Suicide & Crisis Lifeline, call or text 988, 24/7)
and 911. Everything else, including the Hennepin County mobile crisis listing whose phone number
could not be confirmed from the project's sources, is SAMPLE DATA: invented names, 555-01xx phone
numbers and invented street addresses at approximate Minneapolis coordinates. Sample listings carry
the Crisis Desk attribute `data:sample` (exported with them, shown as a SAMPLE DATA badge) and say
so at the start of their description.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from crisisdesk.directory.builders import Hours, Listing, service_doc

CONFIRMED_ON = "2026-11-26"  # when the two factual listings were last checked by the authors
WEEKDAYS = "MO,TU,WE,TH,FR"
SAMPLE = "SAMPLE DATA: invented listing for the demo, not a real service. "
MPLS = "Minneapolis"


def _weekly(byday: str, opens: str, closes: str) -> dict[str, Any]:
    return {"freq": "WEEKLY", "byday": byday, "opens_at": opens, "closes_at": closes}


def listings(today: date) -> list[Listing]:
    """The demo listings; sample listings are stamped verified a few days to years before `today`."""

    def ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    return [
        Listing(
            key="988-lifeline",
            name="988 Suicide & Crisis Lifeline",
            organization="988 Suicide & Crisis Lifeline",
            description="Call or text 988 to reach a trained crisis counselor, 24 hours a day, every day. "
            "For suicidal thoughts, mental health or substance use crises, or worry about someone else.",
            needs=["crisis_services", "mental_health_care"],
            phones=[("988", "voice"), ("988", "text")],
            hours=Hours(),
            hours_tags=["open_24_7"],
            access=["phone"],
            insurance=["no_cost"],
            languages=["en", "es"],
            assured_date=CONFIRMED_ON,
            sample=False,
            url="https://988lifeline.org",
        ),
        Listing(
            key="911",
            name="911 (police, fire, EMS)",
            organization="Minneapolis Emergency Communications Center",
            description="For immediate danger: a weapon, violence, a medical emergency or imminent risk of harm. "
            "Escalate from a case with the one-step escalation, not by referral.",
            needs=["crisis_services"],
            phones=[("911", "voice")],
            hours_tags=["open_24_7"],
            access=["phone", "mobile"],
            insurance=["no_cost"],
            assured_date=CONFIRMED_ON,
            sample=False,
        ),
        Listing(
            key="hennepin-mobile-crisis",
            name="Hennepin County adult mobile crisis (COPE) - confirm number",
            organization="Hennepin County",
            description=SAMPLE
            + "Hennepin County runs an adult mobile crisis team (COPE); the phone number and "
            "details here are placeholders. Confirm the number with the county before using this listing.",
            needs=["crisis_services", "mental_health_care"],
            phones=[("612-555-0100", "voice")],
            hours_tags=["open_24_7"],
            access=["mobile", "phone"],
            insurance=["no_cost"],
            residency=["county:hennepin"],
            minimum_age=18,
            assured_date=ago(30),
        ),
        Listing(
            key="northside-walkin",
            name="Northside Walk-in Counseling (sample)",
            organization="Example Community Mental Health Center",
            description=SAMPLE + "Same-day walk-in counseling and crisis assessment for adults and families.",
            needs=["mental_health_care", "crisis_services"],
            phones=[("612-555-0111", "voice")],
            address=("1200 Example Ave N", MPLS, "MN", "55411"),
            latitude=44.9985,
            longitude=-93.2960,
            hours=Hours([_weekly(WEEKDAYS, "08:00", "17:00")]),
            hours_tags=["closed_on_holidays"],
            languages=["en", "es", "so"],
            access=["walk_in"],
            insurance=["medicaid", "private", "uninsured"],
            assured_date=ago(12),
        ),
        Listing(
            key="cedar-counseling",
            name="Cedar Avenue Counseling with Somali-speaking staff (sample)",
            organization="Example Cedar Riverside Family Services",
            description=SAMPLE + "Outpatient therapy by appointment; Somali- and Oromo-speaking counselors.",
            needs=["mental_health_care", "family_support"],
            phones=[("612-555-0122", "voice")],
            address=("500 Example St S", MPLS, "MN", "55454"),
            latitude=44.9690,
            longitude=-93.2470,
            hours=Hours([_weekly("TU,WE,TH", "09:00", "19:00")]),
            hours_tags=["closed_on_holidays"],
            languages=["en", "so", "om"],
            access=["appointment"],
            insurance=["medicaid", "private"],
            minimum_age=18,
            assured_date=ago(45),
        ),
        Listing(
            key="youth-dropin",
            name="Youth Drop-in Center (sample)",
            organization="Example Youth Services",
            description=SAMPLE + "Drop-in mental health support, meals and case management for young people.",
            needs=["mental_health_care", "housing_support", "food"],
            phones=[("612-555-0133", "voice"), ("612-555-0134", "text")],
            address=("2100 Example Blvd", MPLS, "MN", "55404"),
            latitude=44.9600,
            longitude=-93.2700,
            hours=Hours([_weekly("MO,TU,WE,TH,FR,SA", "14:00", "20:00")]),
            languages=["en", "es", "hmn"],
            access=["walk_in"],
            insurance=["no_cost"],
            minimum_age=12,
            maximum_age=24,
            eligibility="Ages 12 to 24.",
            assured_date=ago(60),
        ),
        Listing(
            key="withdrawal-management",
            name="24-hour Withdrawal Management (sample)",
            organization="Example Recovery Services",
            description=SAMPLE + "Medically monitored withdrawal management; walk in any time.",
            needs=["addiction_treatment", "crisis_services"],
            phones=[("612-555-0144", "voice")],
            address=("1800 Example Pkwy", MPLS, "MN", "55407"),
            latitude=44.9530,
            longitude=-93.2620,
            hours_tags=["open_24_7"],
            languages=["en", "es"],
            access=["walk_in"],
            insurance=["medicaid", "private", "uninsured"],
            minimum_age=18,
            assured_date=ago(20),
        ),
        Listing(
            key="outpatient-sud",
            name="Outpatient Substance Use Treatment (sample)",
            organization="Example Recovery Services",
            description=SAMPLE
            + "Assessment and outpatient treatment for alcohol and drug use, by appointment.",
            needs=["addiction_treatment"],
            phones=[("612-555-0155", "voice")],
            address=("1810 Example Pkwy", MPLS, "MN", "55407"),
            latitude=44.9532,
            longitude=-93.2625,
            hours=Hours([_weekly(WEEKDAYS, "07:00", "19:00")]),
            hours_tags=["closed_on_holidays"],
            access=["appointment"],
            insurance=["medicaid", "private"],
            minimum_age=18,
            assured_date=ago(200),  # stale on purpose: shows the flag and the maintenance list
        ),
        Listing(
            key="peer-recovery",
            name="Peer Recovery Drop-in (sample)",
            organization="Example Peer Network",
            description=SAMPLE + "Peer recovery coaches, recovery meetings and a quiet place to be.",
            needs=["addiction_treatment", "mental_health_care"],
            phones=[("612-555-0166", "voice")],
            address=("900 Example Ln", MPLS, "MN", "55408"),
            latitude=44.9480,
            longitude=-93.2900,
            hours=Hours([{"opens_at": "10:00", "closes_at": "22:00"}]),
            languages=["en"],
            access=["walk_in"],
            insurance=["no_cost"],
        ),  # never verified on purpose
        Listing(
            key="overnight-shelter",
            name="Overnight Emergency Shelter (sample)",
            organization="Example Shelter Collaborative",
            description=SAMPLE + "Emergency beds every night; check-in from 19:00, doors close at 07:00.",
            needs=["housing_support"],
            phones=[("612-555-0177", "voice")],
            address=("300 Example St N", MPLS, "MN", "55401"),
            latitude=44.9830,
            longitude=-93.2750,
            hours=Hours([{"opens_at": "19:00", "closes_at": "07:00"}]),
            languages=["en", "es"],
            access=["walk_in"],
            insurance=["no_cost"],
            minimum_age=18,
            assured_date=ago(5),
        ),
        Listing(
            key="womens-shelter",
            name="Women's Safe Shelter (sample)",
            organization="Example Women's Advocates",
            description=SAMPLE
            + "Confidential shelter and advocacy for women and their children; phone intake.",
            needs=["housing_support", "family_support", "crisis_services"],
            phones=[("612-555-0188", "hotline")],
            hours_tags=["open_24_7"],
            languages=["en", "es", "so", "hmn"],
            access=["phone"],
            insurance=["no_cost"],
            gender=["female"],
            assured_date=ago(90),
        ),
        Listing(
            key="housing-stability",
            name="Housing Stability and Rent Help (sample)",
            organization="Example Hennepin Housing Partners",
            description=SAMPLE + "Emergency rent help and housing search for Hennepin County residents.",
            needs=["housing_support", "benefits"],
            phones=[("612-555-0199", "voice")],
            address=("700 Example Ave S", MPLS, "MN", "55415"),
            latitude=44.9740,
            longitude=-93.2640,
            hours=Hours(
                [_weekly(WEEKDAYS, "09:00", "16:30")],
                closures=[
                    (
                        (today.replace(month=12, day=24)).isoformat(),
                        today.replace(month=12, day=26).isoformat(),
                        "Winter break",
                    )
                ],
            ),
            hours_tags=["closed_on_holidays"],
            languages=["en", "es", "so"],
            access=["appointment", "phone"],
            insurance=["no_cost"],
            residency=["county:hennepin"],
            assured_date=ago(100),
        ),
        Listing(
            key="food-shelf",
            name="Neighborhood Food Shelf (sample)",
            organization="Example Food Network",
            description=SAMPLE + "Groceries twice a week and on the first Saturday of the month.",
            needs=["food"],
            phones=[("612-555-0101", "voice")],
            address=("1500 Example Ave", MPLS, "MN", "55406"),
            latitude=44.9480,
            longitude=-93.2350,
            hours=Hours(
                [
                    _weekly("TU,TH", "10:00", "14:00"),
                    {"freq": "MONTHLY", "byday": "1SA", "opens_at": "10:00", "closes_at": "13:00"},
                ]
            ),
            hours_tags=["closed_on_holidays"],
            languages=["en", "es", "so"],
            access=["walk_in"],
            insurance=["no_cost"],
            residency=["city:minneapolis"],
            assured_date=ago(25),
        ),
        Listing(
            key="community-meal",
            name="Community Supper (sample)",
            organization="Example Congregations Together",
            description=SAMPLE + "A hot evening meal, no questions asked.",
            needs=["food"],
            address=("2500 Example Ave", MPLS, "MN", "55405"),
            latitude=44.9700,
            longitude=-93.3000,
            hours=Hours([{"opens_at": "17:00", "closes_at": "18:30"}]),
            access=["walk_in"],
            insurance=["no_cost"],
            assured_date=ago(15),
        ),
        Listing(
            key="benefits-help",
            name="Benefits Enrollment Help: SNAP, MA, cash assistance (sample)",
            organization="Example Hennepin Benefits Navigators",
            description=SAMPLE + "Help applying for food support, Medical Assistance and cash programs.",
            needs=["benefits", "food"],
            phones=[("612-555-0102", "voice")],
            address=("600 Example Ave S", MPLS, "MN", "55415"),
            latitude=44.9750,
            longitude=-93.2660,
            hours=Hours([_weekly(WEEKDAYS, "08:30", "16:30")]),
            hours_tags=["closed_on_holidays"],
            languages=["en", "es", "so", "hmn", "om"],
            access=["appointment", "phone"],
            insurance=["no_cost"],
            assured_date=ago(40),
        ),
        Listing(
            key="legal-aid",
            name="Tenant and Benefits Legal Clinic (sample)",
            organization="Example Legal Aid Society",
            description=SAMPLE
            + "Free legal advice on evictions and benefits; walk-in clinic Wednesday afternoons.",
            needs=["legal", "housing_support"],
            phones=[("612-555-0103", "voice")],
            address=("400 Example Ave", MPLS, "MN", "55401"),
            latitude=44.9790,
            longitude=-93.2700,
            hours=Hours([_weekly("WE", "13:00", "17:00")]),
            hours_tags=["closed_on_holidays"],
            languages=["en", "es"],
            access=["walk_in", "phone"],
            insurance=["no_cost"],
            residency=["county:hennepin"],
            assured_date=ago(70),
        ),
        Listing(
            key="family-warmline",
            name="Parent and Family Warmline (sample)",
            organization="Example Family Resource Center",
            description=SAMPLE
            + "Talk with a parent coach; help for families of someone in a mental health crisis.",
            needs=["family_support", "mental_health_care"],
            phones=[("612-555-0104", "voice")],
            hours=Hours([_weekly(WEEKDAYS, "09:00", "21:00"), _weekly("SA", "10:00", "14:00")]),
            hours_tags=["closed_on_holidays"],
            languages=["en", "es", "hmn"],
            access=["phone"],
            insurance=["no_cost"],
            assured_date=ago(10),
        ),
    ]


def documents(today: date) -> list[tuple[str, dict[str, Any]]]:
    return [("service", service_doc(listing)) for listing in listings(today)]
