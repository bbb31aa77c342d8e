"""An incident typed by the CAD as a NENA EIDO document: the example `POST /api/v1/eido` documents.

Fictional (MECC-shaped ids, a 555 number); a test maps it, so the documented example stays valid.
"""

from __future__ import annotations

from typing import Any

_AGENCY = {"$ref": "mecc.minneapolismn.gov"}
_PIDF_LO = (
    '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"'
    ' xmlns:gml="http://www.opengis.net/gml" entity="pres:caller@mecc.minneapolismn.gov"><tuple id="t1">'
    "<status><gp:geopriv><gp:location-info>"
    '<civicAddress xmlns="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"><country>US</country>'
    "<A1>MN</A1><A3>Minneapolis</A3><PRD>S</PRD><RD>5th</RD><STS>St</STS><HNO>350</HNO></civicAddress>"
    '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>44.9773 -93.2655</gml:pos></gml:Point>'
    "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>"
)
# An incident typed by the CAD, as `POST /api/v1/eido` documents it (and a test maps it).
EXAMPLE_EIDO: dict[str, Any] = {
    "$id": "urn:emergency:uid:incidentid:MP-26-000101:mecc.minneapolismn.gov",
    "lastUpdateTimeStamp": "2026-11-25T12:59:10-06:00",
    "updatedByAgencyReference": _AGENCY,
    "eidoVersion": "1.0",
    "issuingElementIdentification": "cad.mecc.minneapolismn.gov",
    "incidentComponent": {
        "$id": "urn:emergency:uid:incidentid:MP-26-000101:mecc.minneapolismn.gov",
        "lastUpdateTimeStamp": "2026-11-25T12:59:10-06:00",
        "updatedByAgencyReference": _AGENCY,
        "incidentTypeInternalText": "Emotionally Disturb Person",
        "incidentTypeCommonRegistryText": "EDP",
        "incidentPriorityInternalText": "3",
        "locationReference": [{"$ref": "loc-1"}],
        "notesReference": [{"$ref": "note-1"}],
    },
    "callComponent": [
        {
            "$id": "urn:emergency:uid:callid:c-26-4471:mecc.minneapolismn.gov",
            "lastUpdateTimeStamp": "2026-11-25T12:59:10-06:00",
            "updatedByAgencyReference": _AGENCY,
            "standardPrimaryCallType": "emergency",
            "direction": "incoming",
            "callStartTimestamp": "2026-11-25T12:58:00-06:00",
            "callStateRegistryText": "callAnswered",
            "callBackReference": {"$ref": "cb-1"},
            "locationReference": [{"$ref": "loc-1"}],
        }
    ],
    "callbackComponent": [
        {
            "$id": "cb-1",
            "lastUpdateTimeStamp": "2026-11-25T12:58:00-06:00",
            "updatedByAgencyReference": _AGENCY,
            "callBackInformationUri": ["tel:+16125550142"],
        }
    ],
    "locationComponent": [
        {
            "$id": "loc-1",
            "lastUpdateTimeStamp": "2026-11-25T12:58:30-06:00",
            "updatedByAgencyReference": _AGENCY,
            "locationTypeDescriptionRegistryText": "Incident",
            "locationByValue": _PIDF_LO,
        }
    ],
    "notesComponent": [
        {
            "$id": "note-1",
            "lastUpdateTimeStamp": "2026-11-25T12:59:10-06:00",
            "updatedByAgencyReference": _AGENCY,
            "notesActionComments": "<p>Brother is talking about not wanting to live; no weapons.</p>",
        }
    ],
    "agencyComponent": [
        {
            "$id": "mecc.minneapolismn.gov",
            "lastUpdateTimeStamp": "2026-11-25T12:58:00-06:00",
            "updatedByAgencyReference": _AGENCY,
            "agencyRoleDescriptionRegistryText": ["CallReceiving"],
            "agencyType": ["psap"],
        }
    ],
}
