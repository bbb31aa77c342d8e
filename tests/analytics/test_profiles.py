"""Column-mapping profiles: shipped profiles load, bad ones list every problem, formats are RE2-safe."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml

from crisisdesk.analytics.profiles import (
    PROFILE_DIR,
    ProfileError,
    compile_format,
    load_profile,
    parse_profile,
)

pytestmark = pytest.mark.analytics


def test_shipped_profiles_load_and_say_what_they_map() -> None:
    names = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
    assert names == ["generic", "milwaukee", "san_diego", "toronto"]
    sd = load_profile("san_diego")
    assert (sd.center, sd.timezone) == ("san_diego", "America/Los_Angeles")
    assert sd.incident_id == ("incident_num",)
    assert sd.received is not None and sd.received.zone == "America/Los_Angeles"
    assert {lk.target for lk in sd.lookups} == {"call_type_text", "disposition_text", "neighborhood"}
    assert sd.address[0] == "address_number_primary" and sd.needs_linkage_key
    mke = load_profile("milwaukee")
    assert mke.fields["call_type"] == ("nature",) and mke.timezone == "America/Chicago"
    tor = load_profile("toronto")
    assert tor.hour_only and tor.derived_id and tor.received_parts is not None
    assert not tor.address and not tor.caller and not tor.needs_linkage_key
    generic = load_profile("generic")
    assert "caller" in generic.optional_columns and not generic.needs_linkage_key


def test_profile_by_path_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text((PROFILE_DIR / "milwaukee.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_profile(path).path == path
    with pytest.raises(ProfileError, match="generic, milwaukee, san_diego, toronto"):
        load_profile("chicago")


def test_every_problem_is_listed_at_once() -> None:
    doc = {
        "profile": "broken",
        "center": {"id": "bad id!", "timezone": "Mars/Olympus"},
        "colour": "blue",
        "columns": {
            "received": {"column": "t", "formats": ["%Y-%m-%d %Q"]},
            "received_parts": {"year": "y"},
            "caller_kind": "pigeon",
        },
        "lookups": {"neighborhood": {"file": "beats.csv", "key": "beat"}},
    }
    with pytest.raises(ProfileError) as err:
        parse_profile(doc, where="broken.yaml")
    text = str(err.value)
    for expected in (
        "unknown key 'colour'",
        "center.id",
        "'Mars/Olympus' is not an IANA time zone",
        "%Q is not supported",
        "needs a column for month, day_of_week, hour",
        "columns.call_type: required",
        "columns.incident_id: required",
        "'pigeon' must be phone or text",
        "lookups.neighborhood: needs file, key and value",
    ):
        assert expected in text, expected
    assert len(err.value.problems) >= 10


def test_required_columns_cannot_be_optional() -> None:
    doc = yaml.safe_load((PROFILE_DIR / "generic.yaml").read_text(encoding="utf-8"))
    doc["optional_columns"] = ["call_type", "priority"]
    with pytest.raises(ProfileError, match="'call_type' is the incident id, received time or call type"):
        parse_profile(doc)


def test_with_center_overrides_center_and_zone() -> None:
    p = load_profile("generic").with_center("st_paul", "America/Chicago")
    assert p.center == "st_paul"
    q = load_profile("generic").with_center(timezone="America/Denver")
    assert q.timezone == "America/Denver" and q.received is not None and q.received.zone == "America/Denver"
    with pytest.raises(ProfileError, match="IANA"):
        load_profile("generic").with_center(timezone="Central")


FORMAT_CASES = [
    ("%Y-%m-%d %H:%M:%S", "2024-03-10 02:30:00", True),
    ("%Y-%m-%d %H:%M:%S", "2024-3-1 2:30:00", True),
    ("%Y-%m-%d %H:%M:%S", "2024-03-10T02:30:00", False),
    ("%Y-%m-%d %H:%M:%S", "2024-03-10 02:30:00\n", False),
    ("%Y-%m-%d %H:%M:%S", "x2024-03-10 02:30:00", False),
    ("%Y-%m-%dT%H:%M:%S.%f%z", "2024-11-03T01:30:00.5-05:00", True),
    ("%Y-%m-%dT%H:%M:%S%z", "2024-11-03T06:30:00Z", True),
    ("%m/%d/%Y %I:%M %p", "11/3/2024 1:30 am", True),
    ("%d %b %Y %H:%M", "3 Nov 2024 01:30", True),
    ("%d %b %Y %H:%M", "3 NOVEMBER 2024 01:30", True),
    ("%d %b %Y %H:%M", "3 Nobember 2024 01:30", False),
    ("%Y.%m.%d (%H:%M)", "2024.11.03 (01:30)", True),
    ("%Y.%m.%d (%H:%M)", "2024x11x03 (01:30)", False),
]


@pytest.mark.parametrize(("fmt", "value", "matches"), FORMAT_CASES)
def test_formats_compile_to_the_same_regex_meaning_in_python_and_duckdb(
    fmt: str, value: str, matches: bool
) -> None:
    compiled = compile_format(fmt)
    # Python's re reads \z only from 3.14: \Z there means what \z means in RE2 and Java.
    py = re.search(compiled.regex.replace("\\z", "\\Z"), value) is not None
    (duck,) = duckdb.execute("SELECT regexp_matches(?, ?)", [value, compiled.regex]).fetchone() or (None,)
    assert py == duck == matches


def test_bad_formats_are_refused() -> None:
    for bad, why in [
        ("%H:%M", "needs a year"),
        ("%Y-%m-%d %I:%M", "%I needs %p"),
        ("%Y-%m-%d %H %H", "twice"),
        ("%Y-%m-%d %H%", "lone %"),
    ]:
        with pytest.raises(ValueError, match=why):
            compile_format(bad)
