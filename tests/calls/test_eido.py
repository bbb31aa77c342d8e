"""NENA EIDO intake: the mapping (pure, on the official sample and variants of it) and
`POST /api/v1/eido` against the real URLs and database.

The official sample (tests/data/nena-eido, unchanged copy) is a "call transfer" EIDO: a call
component, a callback, two locations (one civic PIDF-LO, one by reference) and no incident
component, so its call type is the call's LogEvent type "emergency".
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from crisisdesk.accounts.services import issue_api_token
from crisisdesk.calls.eido import CHANNEL, EidoError, eido_to_cad
from crisisdesk.calls.eido_example import EXAMPLE_EIDO
from crisisdesk.calls.models import Call, IntakeConflict, RejectedRecord
from tests.conftest import sign_in

DATA = Path(__file__).resolve().parents[1] / "data" / "nena-eido"
SAMPLE = DATA / "sample-call-transfer-eido.json"
URL = "/api/v1/eido"
JSON = "application/json"
CIVIC = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"


def sample() -> dict[str, Any]:
    return dict(json.loads(SAMPLE.read_text(encoding="utf-8")))


def incident(**fields: Any) -> dict[str, Any]:
    return {
        "$id": "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us",
        "lastUpdateTimeStamp": "2021-04-30T14:43:49.439-04:00",
        "updatedByAgencyReference": {"$ref": "state.pa.us"},
        **fields,
    }


def pidf(inner: str) -> str:
    return (
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"'
        ' xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0"'
        f' entity="pres:x@example.org"><tuple id="a"><status><gp:geopriv><gp:location-info>{inner}'
        "</gp:location-info></gp:geopriv></status></tuple></presence>"
    )


def civic(**elements: str) -> str:
    return (
        f'<civicAddress xmlns="{CIVIC}">'
        + "".join(f"<{k}>{v}</{k}>" for k, v in elements.items())
        + "</civicAddress>"
    )


def point(lat_lon: str, srs: str = "urn:ogc:def:crs:EPSG::4326", shape: str = "gml:Point") -> str:
    return f'<{shape} srsName="{srs}"><gml:pos>{lat_lon}</gml:pos></{shape}>'


def location(doc: dict[str, Any], loc_id: str, kind: str, by_value: str) -> None:
    """Add a location component and reference it from the call component (first)."""
    doc["locationComponent"].append(
        {
            "$id": loc_id,
            "lastUpdateTimeStamp": "2021-04-30T14:41:00.0-04:00",
            "updatedByAgencyReference": {"$ref": "state.pa.us"},
            "locationTypeDescriptionRegistryText": kind,
            "locationByValue": by_value,
        }
    )
    doc["callComponent"][0]["locationReference"].insert(0, {"$ref": loc_id})


def errors_of(doc: Any) -> list[str]:
    with pytest.raises(EidoError) as exc:
        eido_to_cad(doc)
    assert all(e["reason"] and e["type"] for e in exc.value.errors)
    return [e["field"] for e in exc.value.errors]


# --- the data ---------------------------------------------------------------------------------


def test_the_sample_is_the_unchanged_official_copy() -> None:
    note = (DATA / "SOURCE.txt").read_text(encoding="utf-8")
    digest = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert digest in note.replace("\n", "")
    assert "NENA911/EIDO-JSON" in note and "unchanged" in note


# --- the mapping ------------------------------------------------------------------------------


def test_official_sample_maps_to_the_expected_record() -> None:
    doc = sample()
    cad = eido_to_cad(doc)

    assert cad.incident_id == doc["$id"] == "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"
    assert doc["issuingElementIdentification"] == "idx.state.pa.us"
    assert cad.source == "eido:idx.state.pa.us"
    # No incident component: the call is not typed yet; the call's LogEvent primary type is kept raw.
    assert "incidentComponent" not in doc
    assert doc["callComponent"][0]["standardPrimaryCallType"] == "emergency" == cad.call_type
    assert doc["callComponent"][0]["callStartTimestamp"] == "2021-04-30T14:40:00.0-04:00"
    assert cad.received_at == datetime(2021, 4, 30, 14, 40, tzinfo=timezone(timedelta(hours=-4)))
    assert cad.received_at.utcoffset() == timedelta(hours=-4)
    assert cad.received_at.astimezone(UTC) == datetime(2021, 4, 30, 18, 40, tzinfo=UTC)
    assert cad.priority == "" and "priorityIdentifier" not in doc["callComponent"][0]
    # The call references a RoutingLocation (civic PIDF-LO) and a Caller location given only by
    # reference (not dereferenced): the address comes from the first one's civicAddress.
    locations = {c["$id"]: c for c in doc["locationComponent"]}
    routing, caller = (locations[r["$ref"]] for r in doc["callComponent"][0]["locationReference"])
    assert routing["locationTypeDescriptionRegistryText"] == "RoutingLocation"
    for element in ("<country>US</country>", "<A1>DE</A1>", "<A3>Wilmington</A3>", "<PRD>W</PRD>"):
        assert element in routing["locationByValue"]
    for element in ("<RD>Cellular</RD>", "<STS>Street</STS>", "<HNO>42</HNO>"):
        assert element in routing["locationByValue"]
    assert caller["locationTypeDescriptionRegistryText"] == "Caller" and "locationByValue" not in caller
    assert cad.location is not None
    assert cad.location.address == "42 W Cellular Street, Wilmington, DE, US"
    assert cad.location.latitude is None and cad.location.longitude is None  # no gml shape in it
    callback = doc["callbackComponent"][0]
    assert callback["$id"] == doc["callComponent"][0]["callBackReference"]["$ref"]
    assert callback["callBackInformationUri"] == ["sip:8195551212@osp.com", "tel:8195551212"]
    assert cad.caller is not None and cad.caller.phone == "8195551212"
    assert "notesComponent" not in doc and cad.narrative == ""


def test_the_documented_example_maps_and_matches_a_mecc_call_type() -> None:
    cad = eido_to_cad(copy.deepcopy(EXAMPLE_EIDO))
    assert cad.model_dump(mode="json") == {
        "source": "eido:cad.mecc.minneapolismn.gov",
        "incident_id": "urn:emergency:uid:incidentid:MP-26-000101:mecc.minneapolismn.gov",
        "call_type": "Emotionally Disturb Person",
        "received_at": "2026-11-25T12:58:00-06:00",
        "priority": "3",
        "location": {
            "address": "350 S 5th St, Minneapolis, MN, US",
            "neighbourhood": "",
            "latitude": 44.9773,
            "longitude": -93.2655,
        },
        "caller": {"phone": "+16125550142"},
        "narrative": "Brother is talking about not wanting to live; no weapons.",
    }


def test_the_local_incident_type_wins_then_the_common_registry_type() -> None:
    doc = sample()
    doc["incidentComponent"] = incident(
        incidentTypeInternalText="Emotionally Disturb Person", incidentTypeCommonRegistryText="EDP"
    )
    assert eido_to_cad(doc).call_type == "Emotionally Disturb Person"
    del doc["incidentComponent"]["incidentTypeInternalText"]
    assert eido_to_cad(doc).call_type == "EDP"
    del doc["incidentComponent"]["incidentTypeCommonRegistryText"]
    assert errors_of(doc) == ["incidentComponent.incidentTypeCommonRegistryText"]


def test_an_incident_component_array_uses_the_one_with_the_documents_id_else_the_first() -> None:
    doc = sample()
    other = incident(incidentTypeCommonRegistryText="Fight")
    other["$id"] = "urn:emergency:uid:incidentid:other:bcf.state.pa.us"
    doc["incidentComponent"] = [other, incident(incidentTypeCommonRegistryText="Disturbance")]
    assert eido_to_cad(doc).call_type == "Disturbance"
    doc["incidentComponent"][1]["$id"] = "urn:emergency:uid:incidentid:third:bcf.state.pa.us"
    assert eido_to_cad(doc).call_type == "Fight"
    doc["incidentComponent"] = [incident()]
    assert errors_of(doc) == ["incidentComponent[0].incidentTypeCommonRegistryText"]


def test_priority_from_the_incident_then_the_call() -> None:
    doc = sample()
    doc["callComponent"][0]["priorityIdentifier"] = "high"
    assert eido_to_cad(doc).priority == "high"
    doc["incidentComponent"] = incident(incidentTypeCommonRegistryText="X", incidentCommonPriorityNumber=2)
    assert eido_to_cad(doc).priority == "2"
    doc["incidentComponent"]["incidentPriorityInternalText"] = "P1"
    assert eido_to_cad(doc).priority == "P1"
    doc["incidentComponent"]["incidentPriorityInternalText"] = "a priority text over 16"
    assert errors_of(doc) == ["incidentComponent.incidentPriorityInternalText"]


def test_received_at_without_a_call_component_is_the_incidents_last_update() -> None:
    doc = sample()
    del doc["callComponent"]
    doc["incidentComponent"] = incident(incidentTypeCommonRegistryText="Disturbance")
    cad = eido_to_cad(doc)
    assert cad.received_at == datetime(2021, 4, 30, 14, 43, 49, 439000, tzinfo=timezone(timedelta(hours=-4)))
    assert cad.location is None and cad.caller is None  # those came through the call component
    del doc["incidentComponent"]["lastUpdateTimeStamp"]
    doc["lastUpdateTimeStamp"] = "2021-04-30T18:50:00Z"
    assert eido_to_cad(doc).received_at == datetime(2021, 4, 30, 18, 50, tzinfo=UTC)
    doc["lastUpdateTimeStamp"] = "2021-04-30T18:50:00"
    assert errors_of(doc) == ["lastUpdateTimeStamp"]


@pytest.mark.parametrize("value", ["2021-04-30T14:40:00", "2021-04-30", "yesterday", 1619808000, None])
def test_the_call_start_must_be_an_iso_string_with_an_offset(value: Any) -> None:
    doc = sample()
    doc["callComponent"][0]["callStartTimestamp"] = value
    assert errors_of(doc) == ["callComponent[0].callStartTimestamp"]


def test_an_incident_location_wins_and_its_point_gives_coordinates() -> None:
    doc = sample()
    location(
        doc,
        "loc-incident",
        "Incident",
        pidf(
            civic(HNO="350", PRD="S", RD="5th", STS="St", A3="Minneapolis", A1="MN", PC="55415")
            + point("44.9773 -93.2655")
        ),
    )
    cad = eido_to_cad(doc)
    assert cad.location is not None
    assert cad.location.address == "350 S 5th St, Minneapolis, MN 55415"
    assert (cad.location.latitude, cad.location.longitude) == (44.9773, -93.2655)


def test_a_circle_gives_its_centre_and_a_polygon_no_point() -> None:
    doc = sample()
    doc["locationComponent"][0]["locationByValue"] = pidf(
        '<gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>39.74 -75.55</gml:pos>'
        '<gs:radius uom="urn:ogc:def:uom:EPSG::9001">850</gs:radius></gs:Circle>'
    )
    cad = eido_to_cad(doc)
    assert cad.location is not None and cad.location.address == ""
    assert (cad.location.latitude, cad.location.longitude) == (39.74, -75.55)
    doc["locationComponent"][0]["locationByValue"] = pidf(
        '<gml:Polygon srsName="urn:ogc:def:crs:EPSG::4326"><gml:exterior><gml:LinearRing>'
        "<gml:pos>39.7 -75.5</gml:pos><gml:pos>39.8 -75.5</gml:pos><gml:pos>39.8 -75.6</gml:pos>"
        "<gml:pos>39.7 -75.5</gml:pos></gml:LinearRing></gml:exterior></gml:Polygon>"
    )
    assert eido_to_cad(doc).location is None  # no centroid is made up; the other location is by reference


def test_the_civic_address_keeps_unit_and_building_details() -> None:
    doc = sample()
    doc["locationComponent"][0]["locationByValue"] = pidf(
        civic(
            NAM="Hennepin County Government Center",
            HNO="300",
            PRD="S",
            A6="6th",
            STS="St",
            BLD="A",
            FLR="3",
            UNIT="310",
            A3="Minneapolis",
            A1="MN",
            country="US",
        )
    )
    cad = eido_to_cad(doc)
    assert cad.location is not None
    assert cad.location.address == (
        "Hennepin County Government Center, 300 S 6th St, Bldg A, Floor 3, Unit 310, Minneapolis, MN, US"
    )


@pytest.mark.parametrize(
    "by_value",
    [
        pidf(point("44.9 -93.2", srs="urn:ogc:def:crs:EPSG::3857")),
        pidf(point("44.9")),
        pidf(point("north west")),
        pidf(point("nan -93.2")),
        "<presence><unclosed></presence>",
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><presence>&a;</presence>',
    ],
    ids=["other-crs", "one-number", "not-numbers", "nan", "malformed-xml", "dtd"],
)
def test_an_unreadable_pidf_lo_is_an_error_at_its_path(by_value: str) -> None:
    doc = sample()
    doc["locationComponent"][0]["locationByValue"] = by_value
    assert errors_of(doc) == ["locationComponent[0].locationByValue"]


def test_coordinates_out_of_range_are_reported_where_they_came_from() -> None:
    doc = sample()
    doc["locationComponent"][0]["locationByValue"] = pidf(point("95.0 -75.5"))
    assert errors_of(doc) == ["locationComponent[0].locationByValue"]


def test_the_phone_is_the_first_tel_uri_without_parameters() -> None:
    doc = sample()
    doc["callbackComponent"][0]["callBackInformationUri"] = [
        "sip:+16125550142@osp.com",
        "tel:+1-612-555-0142;ext=12",
    ]
    cad = eido_to_cad(doc)
    assert cad.caller is not None and cad.caller.phone == "+1-612-555-0142"
    doc["callbackComponent"][0]["callBackInformationUri"] = ["sip:8195551212@osp.com"]
    assert eido_to_cad(doc).caller is None  # a SIP URI is not turned into a number
    doc["callbackComponent"][0]["updatedCbn"] = {
        "$id": "cbn-1",
        "lastUpdateTimeStamp": "2021-04-30T14:41:00.0-04:00",
        "updatedByAgencyReference": {"$ref": "state.pa.us"},
        "updatedCbnIdentifierUri": "tel:6125550199",
    }
    cad = eido_to_cad(doc)
    assert cad.caller is not None and cad.caller.phone == "6125550199"


def test_without_a_call_callback_the_callers_person_callback_is_used() -> None:
    doc = sample()
    del doc["callComponent"][0]["callBackReference"]
    cad = eido_to_cad(doc)  # the sample's Caller person points at the same callback component
    assert cad.caller is not None and cad.caller.phone == "8195551212"
    doc["personComponent"][0]["personIncidentRoleRegistryText"] = ["Witness"]
    assert eido_to_cad(doc).caller is None
    doc["callComponent"][0]["callBackReference"] = {"$ref": "no-such-callback"}
    assert errors_of(doc) == ["callComponent[0].callBackReference.$ref"]


def test_notes_become_the_narrative_as_text_bounded_to_4000_characters() -> None:
    doc = sample()
    doc["notesComponent"] = [
        {
            "$id": f"note-{i}",
            "lastUpdateTimeStamp": "2021-04-30T14:42:00.0-04:00",
            "updatedByAgencyReference": {"$ref": "state.pa.us"},
            "notesActionComments": html,
        }
        for i, html in enumerate(
            [
                "<p>Caller&#39;s brother   says he <b>doesn&#39;t</b> want to live.</p><p>No weapons &amp; alone.</p>",
                "<script>alert(1)</script>Lives on the 2nd floor",
            ]
        )
    ]
    doc["callComponent"][0]["notesReference"] = [{"$ref": "note-0"}, {"$ref": "note-1"}]
    assert eido_to_cad(doc).narrative == (
        "Caller's brother says he doesn't want to live.\nNo weapons & alone.\nLives on the 2nd floor"
    )
    doc["notesComponent"][1]["notesActionComments"] = "a\u0000b"
    assert errors_of(doc) == ["notesComponent[1].notesActionComments"]
    doc["notesComponent"][1]["notesActionComments"] = "x" * 5000
    narrative = eido_to_cad(doc).narrative
    assert len(narrative) == 4000 and narrative.endswith("x…")
    doc["callComponent"][0]["notesReference"].append({"$ref": "note-9"})
    assert errors_of(doc) == ["callComponent[0].notesReference[2].$ref"]


def test_values_the_cad_record_refuses_are_reported_at_their_eido_path() -> None:
    doc = sample()
    doc["$id"] = "urn:emergency:uid:incidentid:" + "9" * 110 + ":bcf.state.pa.us"  # over 128
    doc["issuingElementIdentification"] = "idx state pa us"
    doc["callbackComponent"][0]["callBackInformationUri"] = ["tel:" + "1" * 40]
    assert sorted(errors_of(doc)) == [
        "$id",
        "callbackComponent[0].callBackInformationUri[0]",
        "issuingElementIdentification",
    ]


def test_every_problem_is_reported_at_once() -> None:
    doc = sample()
    del doc["$id"]
    doc["eidoVersion"] = "2.0"
    doc["callComponent"][0]["callStartTimestamp"] = "2021-04-30T14:40:00"
    doc["callComponent"][0]["locationReference"][1] = {"$ref": "nowhere"}
    assert errors_of(doc) == [
        "$id",
        "eidoVersion",
        "callComponent[0].callStartTimestamp",
        "callComponent[0].locationReference[1].$ref",
    ]


@pytest.mark.parametrize(
    ("doc", "fields"),
    [
        ([], ["(body)"]),
        ({"$id": "x", "eidoVersion": "1.0", "issuingElementIdentification": "idx"}, ["callComponent"]),
        (
            {"$id": "x", "eidoVersion": "1.0", "issuingElementIdentification": "idx", "callComponent": "c"},
            ["callComponent"],
        ),
        (
            {"$id": 7, "eidoVersion": "1.0", "issuingElementIdentification": "idx", "callComponent": [3]},
            ["$id", "callComponent[0]"],
        ),
    ],
    ids=["array", "no-components", "call-not-array", "wrong-types"],
)
def test_shapes_that_are_not_an_eido(doc: Any, fields: list[str]) -> None:
    assert errors_of(doc) == fields


# --- POST /api/v1/eido ------------------------------------------------------------------------


@pytest.fixture
def cad_client(cad: Any) -> Client:
    return Client(headers={"Authorization": f"Bearer {issue_api_token(cad, 'EIDO feed')[1]}"})


def post(client: Client, body: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type=JSON)


@pytest.mark.django_db
def test_posting_the_sample_creates_a_call_then_repeats_are_idempotent_and_changes_conflict(
    mecc_protocol: Any, cad_client: Client
) -> None:
    created = post(cad_client, SAMPLE.read_bytes())
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"],
        "source": "eido:idx.state.pa.us",
        "incident_id": "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us",
        "call_type": "",
        "call_type_raw": "emergency",
        "call_type_needs_review": True,  # "emergency" is not a MECC call type: a person types it
        "scope": "",
        "duplicate": False,
    }
    call = Call.objects.get(pk=body["id"])
    assert call.received_at == datetime(2021, 4, 30, 18, 40, tzinfo=UTC)
    assert call.address == "42 W Cellular Street, Wilmington, DE, US"
    assert call.caller_phone == "8195551212" and call.origin == "cad"

    again = post(cad_client, SAMPLE.read_bytes())
    assert again.status_code == 200 and again.json()["duplicate"] is True and again.json()["id"] == call.pk

    # An update touching only parts the adapter does not read changes nothing that is kept.
    touched = sample()
    touched["lastUpdateTimeStamp"] = "2021-04-30T14:45:00.0-04:00"
    touched["agentComponent"][0]["agentWorkstationPositionIdentification"] = "7"
    assert post(cad_client, touched).status_code == 200

    changed = sample()
    changed["callbackComponent"][0]["callBackInformationUri"] = ["tel:8195550000"]
    conflict = post(cad_client, changed)
    assert conflict.status_code == 409, conflict.content
    assert conflict.json()["code"] == "intake_conflict" and conflict.json()["call_id"] == call.pk
    kept = IntakeConflict.objects.get(pk=conflict.json()["conflict_id"])
    assert kept.call_id == call.pk and kept.payload["caller"] == {"phone": "8195550000"}
    call.refresh_from_db()
    assert call.caller_phone == "8195551212"  # never applied silently
    assert Call.objects.count() == 1 and not RejectedRecord.objects.exists()


def _without(key: str) -> dict[str, Any]:
    doc = sample()
    del doc[key]
    return doc


def _with_call(**fields: Any) -> dict[str, Any]:
    doc = sample()
    doc["callComponent"][0].update(fields)
    return doc


MALFORMED = {
    "not-json": ("{not json", ["(body)"]),
    "missing-$id": (_without("$id"), ["$id"]),
    "no-call-or-incident": (_without("callComponent"), ["callComponent"]),
    "no-offset": (
        _with_call(callStartTimestamp="2021-04-30T14:40:00.0"),
        ["callComponent[0].callStartTimestamp"],
    ),
    "dangling-location": (
        _with_call(locationReference=[{"$ref": "123e4567-dead-12d3-a456-426614174000"}, {"$ref": "gone"}]),
        ["callComponent[0].locationReference[1].$ref"],
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "fields"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_eido_is_a_422_with_eido_paths_and_is_kept(
    mecc_protocol: Any, cad: Any, cad_client: Client, body: Any, fields: list[str]
) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    response = post(cad_client, text)
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["code"] == "invalid" and [e["field"] for e in answer["detail"]] == fields
    assert all(e["reason"] and e["type"] for e in answer["detail"])
    rejected = RejectedRecord.objects.get(pk=answer["rejected_id"])
    assert rejected.channel == CHANNEL == "POST /api/v1/eido"
    assert rejected.body == text and rejected.errors == answer["detail"] and rejected.received_by == cad
    assert not Call.objects.exists()
    # A reviewer can tell which incident was refused, from the EIDO's own identifiers.
    if isinstance(body, dict):
        assert rejected.source == "eido:idx.state.pa.us"
        assert rejected.incident_id == body.get("$id", "")


@pytest.mark.django_db
def test_an_eido_with_a_mecc_call_type_is_matched_to_the_protocol(
    mecc_protocol: Any, cad_client: Client
) -> None:
    doc = sample()
    doc["incidentComponent"] = [incident(incidentTypeCommonRegistryText="Emotionally Disturb Person")]
    response = post(cad_client, doc)
    assert response.status_code == 201, response.content
    assert response.json()["call_type"] == "Emotionally Disturb Person"
    assert response.json()["call_type_needs_review"] is False and response.json()["scope"] == "in_scope"
    call = Call.objects.get(pk=response.json()["id"])
    assert call.apco_code == "EDP" and call.call_type_raw == "Emotionally Disturb Person"


@pytest.mark.django_db
def test_who_may_post_an_eido(mecc_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    anonymous = post(Client(), SAMPLE.read_bytes())
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    worker = Client()
    sign_in(worker, social_worker)
    refused = post(worker, "{not even json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert not RejectedRecord.objects.exists()  # refused before anything is read or kept
    person = Client()
    sign_in(person, telecommunicator)
    assert post(person, SAMPLE.read_bytes()).status_code == 201


@pytest.mark.django_db
def test_without_a_published_protocol_the_answer_is_503(cad_client: Client) -> None:
    response = post(cad_client, SAMPLE.read_bytes())
    assert response.status_code == 503 and response.json()["code"] == "no_active_protocol"


@pytest.mark.django_db
def test_openapi_documents_the_eido_endpoint() -> None:
    operation = Client().get("/api/v1/openapi.json").json()["paths"][URL]["post"]
    assert {"201", "200", "409", "422", "401", "403", "503"} <= set(operation["responses"])
    content = operation["requestBody"]["content"][JSON]
    assert content["example"]["$id"] == EXAMPLE_EIDO["$id"]
    assert {"$id", "eidoVersion", "issuingElementIdentification"} == set(content["schema"]["required"])
