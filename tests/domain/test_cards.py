"""The `crisisdesk triage --batch` command on the shipped MECC cards and on broken input (no database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from crisisdesk.domain.reasons import Outcome, Reason
from crisisdesk.protocols import DEFAULT_CARDS, DEFAULT_PROTOCOL, read_protocol_document

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
WIRE_KEYS = {"id", "outcome", "reasons", "protocol_version", "fallback_options"}
ALL_CLEAR = {
    "weapon": False,
    "violence": False,
    "crime_in_progress": False,
    "medical_emergency": False,
    "imminent_risk": False,
    "caller_requests_police": False,
    "caller_accepts_social_worker": True,
}
OPEN = "2026-11-25T13:00:00-06:00"


def triage(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    return subprocess.run(
        [sys.executable, "-m", "crisisdesk.cli", "triage", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_cards(tmp_path: Path, cards: list[dict[str, Any] | str]) -> Path:
    path = tmp_path / "cards.jsonl"
    path.write_text(
        "".join((c if isinstance(c, str) else json.dumps(c)) + "\n" for c in cards), encoding="utf-8"
    )
    return path


def card(card_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": card_id,
        "call_type": "Emotionally Disturb Person",
        "answers": ALL_CLEAR,
        "at": OPEN,
    } | fields


# --- the shipped card set -----------------------------------------------------------------------------

SHIPPED = [
    json.loads(line) for line in DEFAULT_CARDS.read_text(encoding="utf-8").splitlines() if line.strip()
]


@pytest.fixture(scope="module")
def shipped_run() -> subprocess.CompletedProcess[str]:
    return triage("--batch", DEFAULT_CARDS, "--check")


def test_shipped_cards_pass_check(shipped_run: subprocess.CompletedProcess[str]) -> None:
    assert shipped_run.returncode == 0, shipped_run.stderr
    assert "MISMATCH" not in shipped_run.stderr
    assert f"{len(SHIPPED)} cards, 0 unreadable, 0 not as expected (protocol 2026.11.1)" in shipped_run.stderr


def test_shipped_cards_print_one_wire_line_per_card(shipped_run: subprocess.CompletedProcess[str]) -> None:
    lines = json_lines(shipped_run.stdout)
    assert [line["id"] for line in lines] == [c["id"] for c in SHIPPED]
    for line in lines:
        assert set(line) == WIRE_KEYS, line
        assert line["protocol_version"] == "2026.11.1"


def test_shipped_cards_cover_every_outcome_and_reason(shipped_run: subprocess.CompletedProcess[str]) -> None:
    lines = json_lines(shipped_run.stdout)
    assert {line["outcome"] for line in lines} == {o.value for o in Outcome}
    seen = {reason for line in lines for reason in line["reasons"]}
    missing = sorted(r.value for r in Reason if r.value not in seen)
    assert missing == [], f"add a card to {DEFAULT_CARDS.name} for each of: {missing}"


def test_shipped_cards_are_well_formed() -> None:
    ids = [c["id"] for c in SHIPPED]
    assert len(SHIPPED) >= 40
    assert len(set(ids)) == len(ids)
    for c in SHIPPED:
        assert set(c["expect"]) == {"outcome", "reasons", "fallback_options"}, c["id"]
        assert datetime.fromisoformat(c["at"]).tzinfo is not None, c["id"]


def test_shipped_cards_use_real_call_type_names() -> None:
    names = {" ".join(ct["name"].split()).casefold() for ct in read_protocol_document()["call_types"]}
    for c in SHIPPED:
        known = " ".join(c["call_type"].split()).casefold() in names
        assert known is (c["expect"]["reasons"] != ["call_type_unknown"]), c["id"]


def test_batch_from_standard_input() -> None:
    result = triage("--batch", "-", stdin=json.dumps(card("stdin")) + "\n\n")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [
        {
            "id": "stdin",
            "outcome": "transfer",
            "reasons": ["eligible"],
            "protocol_version": "2026.11.1",
            "fallback_options": [],
        }
    ]


# --- unreadable cards ---------------------------------------------------------------------------------

BAD_CARDS: list[tuple[str, dict[str, Any] | str, str]] = [
    # (expected id in the output, line, fragment of the error)
    ("line 2", "{this is not json", "line 2:"),
    ("naive-at", card("naive-at", at="2026-11-25T13:00:00"), "UTC offset"),
    (
        "unknown-question",
        card("unknown-question", answers=ALL_CLEAR | {"wepon": False}),
        "unknown question ids",
    ),
    ("non-boolean", card("non-boolean", answers=ALL_CLEAR | {"weapon": "no"}), "must be true, false or null"),
    ("no-call-type", {"id": "no-call-type", "answers": ALL_CLEAR, "at": OPEN}, "missing field 'call_type'"),
    ("bad-at", card("bad-at", at="next tuesday"), "line 7:"),
    ("answers-list", card("answers-list", answers=[True]), "answers must be an object"),
    ("busy-string", card("busy-string", social_worker_available="yes"), "social_worker_available"),
    ("line 10", "[1, 2, 3]", "a card must be a JSON object"),
]


def test_unreadable_cards_give_per_line_errors_and_exit_1(tmp_path: Path) -> None:
    lines: list[dict[str, Any] | str] = [json.dumps(card("good-first"))]
    lines += [line for _, line, _ in BAD_CARDS]
    lines += [json.dumps(card("good-last"))]
    result = triage("--batch", write_cards(tmp_path, lines))
    assert result.returncode == 1
    out = json_lines(result.stdout)
    assert [o["id"] for o in out] == ["good-first", *(cid for cid, _, _ in BAD_CARDS), "good-last"]
    assert set(out[0]) == WIRE_KEYS
    assert set(out[-1]) == WIRE_KEYS
    for line, (_, _, fragment) in zip(out[1:-1], BAD_CARDS, strict=True):
        assert set(line) == {"id", "error"}, line
        assert fragment in line["error"], line
    assert f"{len(lines)} cards, {len(BAD_CARDS)} unreadable" in result.stderr
    assert "Traceback" not in result.stderr


def test_regression_a_non_string_call_type_is_an_unreadable_card(tmp_path: Path) -> None:
    """FAILS today: `"call_type": 5` passes _parse_card, then decide() raises TypeError outside the
    per-card try, so the command dies with a traceback and the cards after it are never run."""
    path = write_cards(tmp_path, [card("numeric", call_type=5), card("after")])
    result = triage("--batch", path)
    assert result.returncode == 1
    out = json_lines(result.stdout)
    assert [o["id"] for o in out] == ["numeric", "after"]
    assert set(out[0]) == {"id", "error"}


# --- --check ------------------------------------------------------------------------------------------


def test_check_reports_a_wrong_expectation(tmp_path: Path) -> None:
    right = card("right", expect={"outcome": "transfer", "reasons": ["eligible"], "fallback_options": []})
    wrong = card(
        "wrong",
        at="2026-11-25T21:00:00-06:00",
        expect={"outcome": "transfer", "reasons": ["eligible"], "fallback_options": []},
    )
    path = write_cards(tmp_path, [right, wrong])
    result = triage("--batch", path, "--check")
    assert result.returncode == 1
    assert "MISMATCH wrong: outcome: expected 'transfer', got 'fallback'" in result.stderr
    assert "MISMATCH right" not in result.stderr
    assert "2 cards, 0 unreadable, 1 not as expected" in result.stderr
    # The result is still printed for the mismatching card.
    assert [o["id"] for o in json_lines(result.stdout)] == ["right", "wrong"]


def test_check_compares_only_the_keys_the_card_expects(tmp_path: Path) -> None:
    path = write_cards(tmp_path, [card("partial", expect={"outcome": "transfer"})])
    assert triage("--batch", path, "--check").returncode == 0


def test_without_check_expectations_are_ignored(tmp_path: Path) -> None:
    path = write_cards(tmp_path, [card("wrong", expect={"outcome": "dispatch"})])
    result = triage("--batch", path)
    assert result.returncode == 0
    assert "MISMATCH" not in result.stderr


# --- --protocol ---------------------------------------------------------------------------------------


def test_a_broken_protocol_exits_2_with_every_problem(tmp_path: Path) -> None:
    doc = read_protocol_document(DEFAULT_PROTOCOL)
    doc["timezone"] = "America/Minneapolis"
    doc["fallbacks"]["holiday"] = ["mobile_crisis_team", "pager"]
    doc["transfer_timeout_seconds"] = 5
    draft = tmp_path / "draft.yaml"
    draft.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = triage("--batch", DEFAULT_CARDS, "--protocol", draft, "--check")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "invalid protocol" in result.stderr
    assert "timezone: 'America/Minneapolis' is not an IANA time zone" in result.stderr
    assert "fallbacks.holiday: 'pager' is not in fallback_options" in result.stderr
    assert "transfer_timeout_seconds" in result.stderr


@pytest.mark.parametrize(
    "content",
    [pytest.param("- just\n- a list\n", id="not-a-mapping"), pytest.param(None, id="missing-file")],
)
def test_an_unreadable_protocol_exits_2(tmp_path: Path, content: str | None) -> None:
    draft = tmp_path / "draft.yaml"
    if content is not None:
        draft.write_text(content, encoding="utf-8")
    result = triage("--batch", DEFAULT_CARDS, "--protocol", draft)
    assert result.returncode == 2
    assert result.stderr.startswith("crisisdesk triage: ")


def test_regression_a_yaml_syntax_error_exits_2(tmp_path: Path) -> None:
    """FAILS today: yaml.YAMLError is not a ValueError, so cli.py lets it escape as a traceback (exit 1)."""
    draft = tmp_path / "draft.yaml"
    draft.write_text("center: [unclosed\nname: x\n", encoding="utf-8")
    result = triage("--batch", DEFAULT_CARDS, "--protocol", draft)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_a_modified_protocol_changes_the_recorded_version(tmp_path: Path) -> None:
    doc = read_protocol_document(DEFAULT_PROTOCOL)
    doc["version"] = "2027.1.0-draft"
    draft = tmp_path / "draft.yaml"
    draft.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = triage("--batch", DEFAULT_CARDS, "--protocol", draft, "--check")
    assert result.returncode == 0, result.stderr
    assert {line["protocol_version"] for line in json_lines(result.stdout)} == {"2027.1.0-draft"}
