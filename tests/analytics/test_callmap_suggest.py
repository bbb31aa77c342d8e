"""The call-type suggester: reading codes and abbreviations, classes, evidence, knowledge files."""

from __future__ import annotations

from pathlib import Path

import pytest

from crisisdesk.analytics.callmap import BhClass
from crisisdesk.analytics.callmap_cli import read_lookup, read_vocabulary
from crisisdesk.analytics.callmap_suggest import Suggester, VocabularyItem, load_knowledge, split_code, tokens

pytestmark = pytest.mark.analytics

VOCAB = Path(__file__).resolve().parents[1] / "data" / "vocabularies"


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return Suggester()


def test_tokens_split_abbreviations_and_slashes() -> None:
    assert tokens("TRBL W/SUBJ-DV") == ["TRBL", "W/", "SUBJ", "DV"]
    assert tokens("Coroner's case, 10-96 & EDP") == ["CORONERS", "CASE", "10-96", "AND", "EDP"]


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        ("46A - CIT", "", ("46A", "CIT")),
        ("10-96 MENTAL SUBJECT", "", ("10-96", "MENTAL SUBJECT")),
        ("1140OD", "", ("1140OD", "")),
        ("TRBL W/SUBJ", "", ("", "TRBL W/SUBJ")),
        ("5150", "MENTAL CASE", ("5150", "MENTAL CASE")),
        ("Person in Crisis", "", ("", "Person in Crisis")),
    ],
)
def test_split_code(code: str, text: str, expected: tuple[str, str]) -> None:
    assert split_code(code, text) == expected


# Strings written for this test (not from any evaluated vocabulary): codes, prefixes, abbreviations.
@pytest.mark.parametrize(
    ("code", "text", "apco", "bh_class"),
    [
        ("5150", "", "EDP", BhClass.IN_SCOPE),  # California W&I 5150, code only
        ("1140OD", "", "OD", BhClass.EMERGENCY_ONLY),  # unknown number, known suffix
        ("46A - CIT", "", "EDP", BhClass.IN_SCOPE),  # code prefix + crisis intervention team
        ("10-96", "", "EDP", BhClass.IN_SCOPE),  # APCO ten-code: mental subject
        ("25A01", "", "EDP", BhClass.IN_SCOPE),  # MPDS protocol 25 determinant
        ("WELCK", "", "WELFARE", BhClass.CONDITIONAL),
        ("X1", "SUICIDAL PERS", "SUICTHRT", BhClass.CONDITIONAL),
        ("X2", "INTOX PERS", "INTOX", BhClass.CONDITIONAL),
        ("X3", "PSYCH W/WEAPON", "EDP", BhClass.EMERGENCY_ONLY),  # weapon pushes to emergency
        ("X4", "MENTAL SUBJ IP", "EDP", BhClass.EMERGENCY_ONLY),  # IP = in progress
        ("X5", "NON VIOLENT EDP", "EDP", BhClass.IN_SCOPE),  # negation consumes VIOLENT
        ("X6", "SUICIDE ATTEMPT", "SUICIDE", BhClass.EMERGENCY_ONLY),
        ("X7", "MAN DOWN", "WELFARE", BhClass.NOT_IN_SCOPE),  # presumed medical: EMS first
        ("X8", "ROBBERY RPT", "ROBBERY", BhClass.NOT_IN_SCOPE),
        ("X9", "SHOTS FIRED", "SHOOT", BhClass.EMERGENCY_ONLY),
        ("X10", "ABAND/PROP WEAPO", "", BhClass.EMERGENCY_ONLY),  # truncated WEAPON still read
        ("X11", "EMOTIONALLY DISTURB PERSON", "EDP", BhClass.IN_SCOPE),  # truncated phrase
    ],
)
def test_unseen_codes_and_abbreviations(
    suggester: Suggester, code: str, text: str, apco: str, bh_class: BhClass
) -> None:
    s = suggester.suggest(VocabularyItem(code, text, 10))
    assert s.bh_class is bh_class, s.evidence
    if apco:
        assert s.apco == apco, s.evidence
    assert 0.0 < s.confidence <= 1.0
    assert s.evidence


def test_nothing_known_is_unknown_not_guessed(suggester: Suggester) -> None:
    s = suggester.suggest(VocabularyItem("QQZ", "", 5))
    assert (s.apco, s.bh_class, s.confidence) == ("", BhClass.UNKNOWN, 0.0)
    assert "classify by hand" in s.evidence


def test_evidence_names_the_code_and_its_source(suggester: Suggester) -> None:
    s = suggester.suggest(VocabularyItem("5150V", "", 3))
    assert "code '5150'" in s.evidence and "Welfare and Institutions Code" in s.evidence
    assert "emergency" in s.evidence
    assert s.bh_class is BhClass.EMERGENCY_ONLY  # V = violent (a San Diego convention)


def test_leaving_out_a_center_removes_what_was_learned_from_it() -> None:
    full = Suggester(load_knowledge())
    without = Suggester(load_knowledge().without("vocab:san_diego"))
    item = VocabularyItem("SLEEPER", "SLEEPER", 134)
    assert full.suggest(item).bh_class is BhClass.CONDITIONAL
    assert without.suggest(item).bh_class is BhClass.UNKNOWN
    assert not [t for t in without.knowledge.terms if t.origin == "vocab:san_diego"]


def test_suggestions_are_deterministic_and_bounded(suggester: Suggester) -> None:
    items = read_vocabulary(VOCAB / "milwaukee" / "nature_counts.csv")
    first = suggester.suggest_all(items)
    again = Suggester(load_knowledge()).suggest_all(items)
    assert first == again
    assert all(0.0 <= s.confidence <= 1.0 for s in first)
    assert all(s.apco == "" for s in first if s.bh_class is BhClass.UNKNOWN)
    assert all(s.apco in suggester.knowledge.apco for s in first if s.apco)


def test_knowledge_files_are_consistent() -> None:
    k = load_knowledge()
    assert len(k.apco) == 197 and set(k.policy) == set(k.apco)
    assert k.policy["EDP"].bh_class is BhClass.IN_SCOPE
    assert k.policy["WEAPON"].bh_class is BhClass.EMERGENCY_ONLY
    allowed = {"apco", "statute", "radio", "mpds", "general"}
    for term in k.terms:
        assert term.origin in allowed or term.origin.startswith("vocab:"), term
        assert term.source, term
        assert term.signal in {"", "emergency", "report", "medical", "none"}, term
        assert 0.0 <= term.strength <= 1.0 and 0.0 <= term.weight <= 1.0, term


def test_read_vocabulary_counts_a_cad_export_and_merges_codes(tmp_path: Path) -> None:
    export = tmp_path / "calls.csv"
    export.write_text(
        "\ufeffid,call_type,priority\n1,5150,2\n2,cw,3\n3,CW ,3\n4,,1\n5,5150,1\n", encoding="utf-8"
    )
    lookup = tmp_path / "types.csv"
    lookup.write_text("code,description\nCW,CHECK THE WELFARE\n5150,MENTAL CASE\nPARTY,LOUD PARTY\n")
    items = read_vocabulary(export, lookup=read_lookup(lookup))
    assert [(i.code, i.text, i.count) for i in items] == [
        ("5150", "MENTAL CASE", 2),
        ("cw", "CHECK THE WELFARE", 2),
        ("PARTY", "LOUD PARTY", 0),
    ]


def test_read_vocabulary_with_counts_and_named_columns(tmp_path: Path) -> None:
    f = tmp_path / "v.csv"
    f.write_text("nature,calls,label\nTRBL W/SUBJ,10,x\nWELFARE CITIZEN,4,y\n")
    items = read_vocabulary(f, count_column="calls")
    assert [(i.code, i.count) for i in items] == [("TRBL W/SUBJ", 10), ("WELFARE CITIZEN", 4)]
    with pytest.raises(ValueError, match="no count column"):
        read_vocabulary(f, count_column="volume")
