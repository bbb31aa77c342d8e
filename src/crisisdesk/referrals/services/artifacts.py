"""Outgoing artifacts of a referral: what the agency gets, through the 42 CFR Part 2 gate.

Every artifact (the referral sent, its FHIR export, its text packet) is a disclosure: it goes
through `domain.part2.may_disclose` (Part 2 items without a covering consent are left out, the rest
goes) and writes its disclosure-ledger row (`casework.services.disclosures.disclose`) in the
transaction that produces it. The FHIR export and the packet are use cases of their own (one
durable transaction, audited); sending calls `disclose_referral` inside its own transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import transaction

from crisisdesk.audit.services import record
from crisisdesk.casework.models import Disclosure
from crisisdesk.casework.services.common import now_or
from crisisdesk.casework.services.disclosures import Disclosed, case_facts, disclose
from crisisdesk.domain.part2 import REDISCLOSURE_NOTICE, Item, Purpose, Recipient, case_items
from crisisdesk.referrals.fhir import ExportFacts, Part2Stamp, SharedItem
from crisisdesk.referrals.models import Referral

# What a referral's artifacts are for, as the disclosure gate compares it with a consent's purpose.
REFERRAL_PURPOSE = Purpose.CARE_COORDINATION


def referral_items(referral: Referral) -> tuple[Item, ...]:
    """What an artifact of the referral carries from the case: its need, its text for the agency,
    and the case items the social worker chose to share (in that order), each tagged Part 2 or not."""
    pk = str(referral.pk)
    items = case_items(
        case_facts(
            referral.case, referral_key=pk, referral_need=referral.need,
            referral_need_label=referral.need.replace("_", " "), request_text=referral.request_text,
            request_text_part2=referral.request_text_part2,
        )
    )  # fmt: skip
    by_key = {i.key: i for i in items}
    own = [i for i in items if i.key.startswith(f"referral:{pk}:")]
    # An item shared when the referral was written and gone since (it cannot be: nothing is
    # deleted) would simply not be sent.
    return (*own, *(by_key[k] for k in referral.shared_items if k in by_key))


def _recipient(referral: Referral) -> tuple[Recipient, int | None]:
    organization = referral.service.organization
    key = organization.hsds_id if organization is not None else ""
    return Recipient(key, referral.organization_name), (organization.pk if organization else None)


def disclose_referral(actor: Any, referral: Referral, artifact: str, now: datetime) -> Disclosed:
    recipient, organization_id = _recipient(referral)
    return disclose(
        actor, referral.case, items=referral_items(referral), artifact=artifact, recipient=recipient,
        recipient_organization_id=organization_id, purpose=REFERRAL_PURPOSE, now=now,
        referral_id=referral.pk, person_id=referral.person_id,
    )  # fmt: skip


def _gated(facts: ExportFacts, referral: Referral, disclosed: Disclosed) -> ExportFacts:
    """The export facts as the gate allows them: Part 2 items not covered are gone, the rest stays."""
    going = {i.key for i in disclosed.items}
    decision, consent = disclosed.decision, disclosed.consent
    pk = referral.pk
    stamp = Part2Stamp(
        withheld=len(decision.withheld),
        notice=REDISCLOSURE_NOTICE if decision.notice_required else "",
        consent_key=str(consent.pk) if consent is not None and decision.notice_required else "",
        consent_expires_at=consent.expires_at if consent is not None and decision.notice_required else None,
        purpose=REFERRAL_PURPOSE.value if decision.notice_required else "",
        need_withheld=f"referral:{pk}:need" in decision.withheld,
    )
    return replace(
        facts,
        request_text=facts.request_text if f"referral:{pk}:request_text" in going else "",
        shared=tuple(
            SharedItem(f"{i.label} [42 CFR part 2]" if i.part2 else i.label, i.text)
            for i in disclosed.items
            if i.key in referral.shared_items
        ),
        part2=stamp,
    )


def _artifact(actor: Any, referral_id: int, artifact: str, now: datetime) -> tuple[ExportFacts, Disclosed]:
    from crisisdesk.referrals import queries

    facts = queries.export_facts(actor, referral_id)  # view_referrals, else 404
    referral = Referral.objects.select_related("case", "service__organization").get(pk=referral_id)
    disclosed = disclose_referral(actor, referral, artifact, now)
    return _gated(facts, referral, disclosed), disclosed


def export_referral(actor: Any, referral_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The referral as a FHIR R4 Bundle (referrals.fhir), through the disclosure gate, with its
    ledger row and an audit row of who exported it when."""
    from crisisdesk.referrals.fhir import build_bundle

    now = now_or(now)
    with transaction.atomic(durable=True):
        facts, disclosed = _artifact(actor, referral_id, Disclosure.Artifact.FHIR_BUNDLE, now)
        bundle = build_bundle(facts, now)
        record(
            actor,
            "referral.export_fhir",
            disclosed.row.referral,
            details={"status": facts.status.value, "disclosure_id": disclosed.row.pk},
        )
    return bundle


def referral_packet(actor: Any, referral_id: int, now: datetime | None = None) -> str:
    """The referral as text for the agency (fax, e-mail, read on the phone), through the same gate,
    with its ledger row and audit row."""
    from crisisdesk.referrals.packet import render_packet

    now = now_or(now)
    with transaction.atomic(durable=True):
        facts, disclosed = _artifact(actor, referral_id, Disclosure.Artifact.REFERRAL_PACKET, now)
        packet = render_packet(facts, facts.need.value.replace("_", " "), now)
        record(
            actor,
            "referral.packet",
            disclosed.row.referral,
            details={"status": facts.status.value, "disclosure_id": disclosed.row.pk},
        )
    return packet


__all__ = ["REFERRAL_PURPOSE", "disclose_referral", "export_referral", "referral_items", "referral_packet"]
