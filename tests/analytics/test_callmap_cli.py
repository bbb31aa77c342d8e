"""`crisisdesk callmap`: suggest -> review -> accept -> to-protocol, and the shipped maps."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
import yaml

from crisisdesk.analytics.callmap import (
    BhClass,
    CallMap,
    CallMapError,
    CallTypeEntry,
    dump_call_map,
    load_call_map,
    parse_call_map,
    to_protocol_call_types,
)
from crisisdesk.analytics.callmap_cli import (
    DOC_END,
    DOC_START,
    accept,
    main,
    parse_setting,
    read_lookup,
    read_vocabulary,
    review_order,
    write_doc,
)
from crisisdesk.domain.protocol import Scope, parse_protocol
from crisisdesk.protocols import DEFAULT_PROTOCOL

pytestmark = pytest.mark.analytics

VOCAB = Path(__file__).resolve().parents[1] / "data" / "vocabularies"
TODAY = date(2026, 11, 25)


def _entry(
    code: str, cls: BhClass, count: int, conf: float, apco: str = "EDP", status: str = "suggested"
) -> CallTypeEntry:
    return CallTypeEntry(code, f"text {code}", apco, cls, conf, "evidence", status, count)


def _map(*entries: CallTypeEntry) -> CallMap:
    return CallMap("test", "2026-11-25.1", {CallMap.key(e.code): e for e in entries})


@pytest.fixture
def vocabulary(tmp_path: Path) -> Path:
    f = tmp_path / "vocab.csv"
    f.write_text(
        "code,text,count\n5150,,40\n5150V,,5\n1140OD,AMBULANCE CALL OVERDOSE,12\n46A - CIT,,7\n"
        "T,TRAFFIC STOP WITH PLATE,300\nQQZ,,2\n"
    )
    return f


def test_suggest_review_accept_to_protocol(
    vocabulary: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "map.yaml"
    assert (
        main(["suggest", "--vocabulary", str(vocabulary), "--center", "springfield", "--out", str(out)]) == 0
    )
    suggested = load_call_map(out)
    assert suggested.extra["status"] == "suggested"
    assert {e.status for e in suggested.entries.values()} == {"suggested"}
    assert suggested.entries["5150"].bh_class is BhClass.IN_SCOPE
    assert suggested.entries["46A - CIT"].apco == "EDP"
    assert suggested.entries["QQZ"].bh_class is BhClass.UNKNOWN

    assert main(["review", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "6 to review" in printed and "5150" in printed

    # A class without an APCO type is refused; with one it is accepted.
    assert main(["accept", str(out), "--reviewer", "QA lead", "--set", "QQZ=not_in_scope"]) == 2
    assert "needs an APCO type" in capsys.readouterr().err
    assert main(["accept", str(out), "--reviewer", "QA lead", "--set", "QQZ=not_in_scope:admin"]) == 0
    reviewed = load_call_map(out)
    assert reviewed.extra["status"] == "reviewed"
    assert reviewed.reviewed_by.startswith("QA lead (")
    qqz = reviewed.entries["QQZ"]
    assert (qqz.apco, qqz.bh_class, qqz.confidence, qqz.status) == (
        "ADMIN",
        BhClass.NOT_IN_SCOPE,
        1.0,
        "reviewed",
    )
    assert qqz.evidence.startswith("set by QA lead: - unknown -> ADMIN not_in_scope")

    proto_out = tmp_path / "call_types.yaml"
    assert main(["to-protocol", str(out), "--out", str(proto_out)]) == 0
    section = yaml.safe_load(proto_out.read_text())["call_types"]
    # The section drops into a protocol document and the protocol parser accepts it.
    doc = yaml.safe_load(DEFAULT_PROTOCOL.read_text())
    doc = copy.deepcopy(doc) | {"call_types": section}
    protocol = parse_protocol(doc)
    ct = protocol.find_call_type("5150")
    assert ct is not None and ct.scope is Scope.IN_SCOPE and ct.apco == "EDP"
    overdose = protocol.find_call_type("1140od")
    assert overdose is not None and overdose.scope is Scope.EMERGENCY_ONLY
    assert "AMBULANCE CALL OVERDOSE" in overdose.note


def test_accept_partial_and_versions() -> None:
    m = _map(
        _entry("A", BhClass.IN_SCOPE, 100, 0.9),
        _entry("B", BhClass.NOT_IN_SCOPE, 50, 0.4),
        _entry("C", BhClass.UNKNOWN, 10, 0.0, apco=""),
    )
    once = accept(m, "dev", today=TODAY, top=1)
    assert {k: e.status for k, e in once.entries.items()} == {
        "A": "reviewed",
        "B": "suggested",
        "C": "suggested",
    }
    assert once.version == "2026-11-25.2" and once.extra["status"] == "partly reviewed"
    twice = accept(once, "lead", today=date(2026, 12, 1), settings=[("b", BhClass.CONDITIONAL, "WELFARE")])
    assert twice.version == "2026-12-01.1"
    assert twice.reviewed_by == "dev (2026-11-25); lead (2026-12-01)"
    assert twice.entries["B"].bh_class is BhClass.CONDITIONAL and twice.entries["B"].apco == "WELFARE"
    assert twice.entries["C"].status == "reviewed"  # neither codes nor top: every entry
    with pytest.raises(CallMapError, match="not in the map: Z"):
        accept(m, "dev", today=TODAY, codes=["Z"])


def test_review_order_is_calls_times_uncertainty_unreviewed_first() -> None:
    m = _map(
        _entry("SURE", BhClass.NOT_IN_SCOPE, 1000, 0.99),  # 10 uncertain calls
        _entry("DOUBT", BhClass.CONDITIONAL, 100, 0.5),  # 50
        _entry("NEW", BhClass.UNKNOWN, 30, 0.0, apco=""),  # 30
        _entry("DONE", BhClass.IN_SCOPE, 5000, 0.2, status="reviewed"),
    )
    assert [e.code for e in review_order(m)] == ["DOUBT", "NEW", "SURE", "DONE"]


def test_parse_setting() -> None:
    assert parse_setting("TRBL W/SUBJ=conditional:welfare") == ("TRBL W/SUBJ", BhClass.CONDITIONAL, "WELFARE")
    assert parse_setting("5150V=in_scope") == ("5150V", BhClass.IN_SCOPE, None)
    with pytest.raises(ValueError, match="class must be one of"):
        parse_setting("5150=maybe")
    with pytest.raises(ValueError, match="expected CODE=class"):
        parse_setting("5150")


def test_to_protocol_refuses_unreviewed_and_maps_conditional() -> None:
    m = _map(
        _entry("CW", BhClass.CONDITIONAL, 10, 0.8, apco="WELFARE", status="reviewed"),
        _entry("X", BhClass.UNKNOWN, 1, 0.0, apco="", status="reviewed"),
        _entry("Y", BhClass.NOT_IN_SCOPE, 1, 0.9, apco="ADMIN"),
    )
    with pytest.raises(CallMapError, match="1 entries are not reviewed: Y"):
        to_protocol_call_types(m)
    rows = to_protocol_call_types(m, include_suggested=True)
    assert [r["name"] for r in rows] == ["CW", "Y"]  # unknown left out
    assert rows[0]["scope"] == "in_scope" and "Conditional" in rows[0]["note"]
    assert "Suggested, not reviewed." in rows[1]["note"]


def test_map_file_keeps_counts_and_extra_keys() -> None:
    m = CallMap(
        "c", "2026-11-25.1", {"A": _entry("A", BhClass.IN_SCOPE, 7, 0.5)}, "me", {"status": "suggested"}
    )
    again = parse_call_map(yaml.safe_load(dump_call_map(m)))
    assert again.entries["A"].count == 7 and again.extra == {"status": "suggested"}


def test_write_doc_replaces_only_the_generated_block(tmp_path: Path) -> None:
    doc = tmp_path / "eval.md"
    doc.write_text(f"# Title\nwritten text\n{DOC_START}\nold\n{DOC_END}\nafter\n")
    write_doc(doc, "| new |\n")
    text = doc.read_text()
    assert "old" not in text and "| new |" in text and text.startswith("# Title\nwritten text\n")
    assert text.endswith(f"{DOC_END}\nafter\n")


@pytest.mark.parametrize(
    ("center", "vocabulary", "column"),
    [
        ("san_diego", "san_diego/call_type_counts.csv", None),
        ("milwaukee", "milwaukee/nature_counts.csv", None),
        ("toronto", "toronto/event_type_counts.csv", None),
    ],
)
def test_shipped_maps_cover_their_vocabularies(center: str, vocabulary: str, column: str | None) -> None:
    m = load_call_map(center)
    assert m.center == center
    assert "not the agency" in m.reviewed_by
    codes = {i.code for i in read_vocabulary(VOCAB / vocabulary, code_column=column)}
    assert codes <= {e.code for e in m.entries.values()}
    reviewed = [e for e in m.entries.values() if e.status == "reviewed"]
    assert reviewed and all(e.bh_class is BhClass.UNKNOWN or e.apco for e in reviewed)


def test_shipped_maps_classify_the_core_call_types() -> None:
    sd, tor, mke = load_call_map("san_diego"), load_call_map("toronto"), load_call_map("milwaukee")
    assert sd.classify("5150") == ("EDP", BhClass.IN_SCOPE)
    assert sd.classify(" 5150v ") == ("EDP", BhClass.EMERGENCY_ONLY)
    assert sd.classify("CW") == ("WELFARE", BhClass.CONDITIONAL)
    assert sd.classify("1140OD") == ("OD", BhClass.EMERGENCY_ONLY)
    assert sd.classify("nope") == ("", BhClass.UNKNOWN)
    assert tor.classify("Person in Crisis") == ("EDP", BhClass.IN_SCOPE)
    assert tor.classify("Overdose")[1] is BhClass.EMERGENCY_ONLY
    assert mke.classify("WELFARE CITIZEN") == ("WELFARE", BhClass.CONDITIONAL)
    assert mke.classify("SUBJ WITH GUN")[1] is BhClass.EMERGENCY_ONLY


def test_evaluate_command_writes_the_doc_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "eval.md"
    doc.write_text(f"intro\n{DOC_START}\n{DOC_END}\n")
    assert main(["evaluate", "--data", str(VOCAB), "--write-doc", str(doc)]) == 0
    assert "| mecc | leave-one-out |" in doc.read_text()
    assert "| san_diego | leave-one-out |" in capsys.readouterr().out


def test_suggest_from_a_cad_export_with_its_profile(tmp_path: Path) -> None:
    """The profile names the call-type column, the lookup beside the file and the center."""
    export = (
        Path(__file__).resolve().parents[1]
        / "data"
        / "cad"
        / "san_diego"
        / "pd_calls_for_service_2023_datasd.csv"
    )
    out = tmp_path / "sd.yaml"
    assert main(["suggest", "--vocabulary", str(export), "--profile", "san_diego", "--out", str(out)]) == 0
    m = load_call_map(out)
    assert m.center == "san_diego"
    lookup = read_lookup(export.parent / "pd_cfs_calltypes_datasd.csv", key="call_type", value="description")
    assert set(lookup) <= set(m.entries)  # every call type of the CAD's table, seen or not
    assert m.entries["5150"].text == "MENTAL CASE"
    counted = read_vocabulary(export, code_column="call_type")
    assert sum(e.count for e in m.entries.values()) == sum(i.count for i in counted)
    assert main(["suggest", "--vocabulary", str(export), "--out", str(out)]) == 2  # no center, no profile
