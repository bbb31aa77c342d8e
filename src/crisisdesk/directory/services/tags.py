"""Rebuilding the search tags (ServiceTag) and sample flags of services after a write.

Called inside the transaction of the write that changed the service (import, edit), never alone.
Tags of a service come from:
- its attributes whose taxonomy term maps to a (kind, value) (TaxonomyTerm.tag_kind/tag_value);
- the languages of the service, of its phones and of the locations it is offered at;
- is_sample is set from the tag ("data", "sample"); an organization is sample when its own
  attributes say so or every one of its services is sample.
"""

from __future__ import annotations

from collections.abc import Iterable

from crisisdesk.directory import models as m
from crisisdesk.directory.vocab import TagKind, language_code

CHUNK = 900  # ids per query: under SQLite's old limit of 999 variables


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def rebuild_tags(service_pks: set[int]) -> None:
    for chunk in _chunks(sorted(service_pks)):
        _rebuild(chunk)


def _rebuild(pks: list[int]) -> None:
    tags: dict[tuple[int, str, str], str] = {}
    for service_id, kind, value, code in m.Attribute.objects.filter(
        service_id__in=pks, taxonomy_term__tag_kind__gt=""
    ).values_list("service_id", "taxonomy_term__tag_kind", "taxonomy_term__tag_value", "taxonomy_term__code"):
        tags.setdefault((service_id, kind, value), code or "attribute")
    language_rows = [
        *m.Language.objects.filter(service_id__in=pks).values_list("service_id", "code", "name"),
        *m.Language.objects.filter(phone__service_id__in=pks).values_list(
            "phone__service_id", "code", "name"
        ),
    ]
    at = m.ServiceAtLocation.objects.filter(service_id__in=pks).values_list("service_id", "location_id")
    services_at: dict[int, set[int]] = {}
    for service_id, location_id in at:
        services_at.setdefault(location_id, set()).add(service_id)
    for location_id, code, name in m.Language.objects.filter(location_id__in=list(services_at)).values_list(
        "location_id", "code", "name"
    ):
        language_rows += [(s, code, name) for s in services_at[location_id]]
    for service_id, code, name in language_rows:
        key = language_code(code, name)
        if key:
            tags.setdefault((service_id, TagKind.LANGUAGE.value, key), "language")
    m.ServiceTag.objects.filter(service_id__in=pks).delete()
    m.ServiceTag.objects.bulk_create(
        [m.ServiceTag(service_id=s, kind=k, value=v, source=src[:128]) for (s, k, v), src in tags.items()],
        batch_size=1000,
    )
    sample = {s for (s, k, v) in tags if k == TagKind.DATA and v == "sample"}
    m.Service.objects.filter(pk__in=pks).exclude(pk__in=sample).update(is_sample=False)
    m.Service.objects.filter(pk__in=sample).update(is_sample=True)
    org_ids = set(m.Service.objects.filter(pk__in=pks).values_list("organization_id", flat=True)) - {None}
    _flag_organizations(org_ids)


def _flag_organizations(org_ids: set[int]) -> None:
    orgs = dict(m.Organization.objects.filter(pk__in=org_ids).values_list("hsds_id", "pk"))
    own = set(
        m.Attribute.objects.filter(
            link_id__in=list(orgs), taxonomy_term__tag_kind=TagKind.DATA, taxonomy_term__tag_value="sample"
        ).values_list("link_id", flat=True)
    )
    flags: dict[int, list[bool]] = {}
    for org_id, is_sample in m.Service.objects.filter(organization_id__in=org_ids).values_list(
        "organization_id", "is_sample"
    ):
        flags.setdefault(org_id, []).append(is_sample)
    sample = {pk for hsds_id, pk in orgs.items() if hsds_id in own or all(flags.get(pk, [False]))}
    m.Organization.objects.filter(pk__in=org_ids).exclude(pk__in=sample).update(is_sample=False)
    m.Organization.objects.filter(pk__in=sample).update(is_sample=True)
