"""Precision and recall of the call-type suggester against labelled vocabularies.

Three labelled vocabularies, each with the label it can justify (docs/callmap-evaluation.md says why):

- **san_diego**: San Diego PD call types (code + description, 20 days of call counts) labelled by a
  third party's simple types (``ct_map.csv``): ``mental`` -> in_scope, ``homeless`` -> conditional
  (both *eligible*), every other simple type -> not eligible. It does not separate not_in_scope
  from emergency_only, so only the eligible decision is scored.
- **mecc**: the Minneapolis call-type names with the scope and APCO type of
  ``protocols/mecc.yaml`` (in_scope -> eligible; not_in_scope; emergency_only) weighted by the
  use-of-force counts. Written by this project with the same exclusion rules as the class policy,
  so it measures consistency more than independent validity.
- **toronto**: the three event types of Toronto's "Persons in Crisis" calls, all behavioural-health
  by the dataset's definition: only recall of *behavioural-health related* can be scored.

Honesty: the suggester is run **leave-one-vocabulary-out**: the terms learned from the evaluated
center's vocabulary (origin ``vocab:<center>``) are removed from the knowledge first. Two more runs
show what the rest of the knowledge contributes: ``codes_only`` (San Diego codes without their
descriptions: abbreviations and code numbers alone) and ``no_statutes`` (text alone, without the
statute and radio-code tables that were written with California in view).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crisisdesk.analytics.callmap import ELIGIBLE_CLASSES, BhClass, CallMap
from crisisdesk.analytics.callmap_cli import read_lookup, read_vocabulary
from crisisdesk.analytics.callmap_suggest import (
    Knowledge,
    Suggester,
    Suggestion,
    VocabularyItem,
    load_knowledge,
)

REPO = Path(__file__).resolve().parents[3]
DEFAULT_DATA = REPO / "tests" / "data" / "vocabularies"
MECC_PROTOCOL = Path(__file__).resolve().parents[1] / "protocols" / "mecc.yaml"

# ct_map simple type -> (class label, eligible, behavioural-health related)
SAN_DIEGO_LABELS: dict[str, tuple[BhClass | None, bool, bool]] = {
    "mental": (BhClass.IN_SCOPE, True, True),
    "homeless": (BhClass.CONDITIONAL, True, True),
    "disturbing": (None, False, False),
    "policing": (None, False, False),
    "traffic": (None, False, False),
    "other": (None, False, False),
}
MECC_SCOPES = {
    "in_scope": (BhClass.IN_SCOPE, True),
    "not_in_scope": (BhClass.NOT_IN_SCOPE, False),
    "emergency_only": (BhClass.EMERGENCY_ONLY, False),
}


@dataclass(frozen=True)
class LabelledItem:
    item: VocabularyItem
    eligible: bool | None  # None: the source gives no eligibility label
    bh_related: bool | None = None
    bh_class: BhClass | None = None  # where the source separates classes (mecc)
    apco: str = ""
    label_text: str = ""  # the label as the source wrote it


@dataclass(frozen=True)
class LabelledVocabulary:
    name: str
    origin: str  # the knowledge origin left out when this vocabulary is evaluated
    items: tuple[LabelledItem, ...]
    labels: str  # one line: where the labels come from
    skipped: int = 0  # vocabulary entries without a label (not scored)


def load_san_diego(data: Path = DEFAULT_DATA, *, codes_only: bool = False) -> LabelledVocabulary:
    """San Diego codes with descriptions and counts; labels from ct_map.csv by description."""
    base = data / "san_diego"
    lookup = read_lookup(base / "pd_cfs_calltypes_datasd.csv")
    counts = {i.code.upper(): i.count for i in read_vocabulary(base / "call_type_counts.csv")}
    simple = {
        i.code.strip().upper(): i.text for i in read_vocabulary(base / "ct_map.csv", text_column="simple_ct")
    }
    items: list[LabelledItem] = []
    skipped = 0
    for code, desc in lookup.items():
        label = simple.get(desc.strip().upper())
        if label is None:
            skipped += 1
            continue
        bh_class, eligible, bh = SAN_DIEGO_LABELS[label]
        vocab_item = VocabularyItem(code, "" if codes_only else desc, counts.get(code, 0))
        items.append(LabelledItem(vocab_item, eligible, bh, bh_class, label_text=label))
    return LabelledVocabulary(
        "san_diego_codes_only" if codes_only else "san_diego",
        "vocab:san_diego",
        tuple(items),
        "ct_map.csv simple types (third party): mental -> in_scope, homeless -> conditional, others not eligible",
        skipped,
    )


def load_mecc(data: Path = DEFAULT_DATA, protocol: Path = MECC_PROTOCOL) -> LabelledVocabulary:
    """MECC call-type names labelled with mecc.yaml's scope and APCO type; use-of-force counts."""
    counts = {
        i.code.upper(): i.count
        for i in read_vocabulary(
            data / "minneapolis" / "mpd_problem_types.csv", count_column="use_of_force_rows"
        )
    }
    with open(protocol, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    items = []
    for ct in doc["call_types"]:
        bh_class, eligible = MECC_SCOPES[ct["scope"]]
        name = str(ct["name"])
        vocab_item = VocabularyItem(name, "", counts.get(name.upper(), 0))
        items.append(LabelledItem(vocab_item, eligible, None, bh_class, str(ct["apco"]), ct["scope"]))
    return LabelledVocabulary(
        "mecc",
        "vocab:mecc",
        tuple(items),
        "mecc.yaml scope (in_scope -> eligible) and APCO type (this project)",
    )


def load_toronto(data: Path = DEFAULT_DATA) -> LabelledVocabulary:
    items = read_vocabulary(data / "toronto" / "event_type_counts.csv")
    return LabelledVocabulary(
        "toronto",
        "vocab:toronto",
        tuple(LabelledItem(i, None, True, label_text="behavioural health") for i in items),
        "every Toronto 'Persons in Crisis' event type is behavioural-health by the dataset's definition",
    )


# ---- metrics -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binary:
    """Confusion counts of one yes/no decision, by call type and weighted by call count."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    tp_w: int = 0
    fp_w: int = 0
    fn_w: int = 0
    tn_w: int = 0

    @staticmethod
    def of(pairs: Sequence[tuple[bool, bool, int]]) -> Binary:
        """From (predicted, actual, weight) triples."""
        c = {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "tp_w": 0, "fp_w": 0, "fn_w": 0, "tn_w": 0}
        for pred, actual, w in pairs:
            k = ("tp" if actual else "fp") if pred else ("fn" if actual else "tn")
            c[k] += 1
            c[k + "_w"] += w
        return Binary(**c)

    @staticmethod
    def _ratio(a: int, b: int) -> float | None:
        return a / b if b else None

    @property
    def precision(self) -> float | None:
        return self._ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return self._ratio(self.tp, self.tp + self.fn)

    @property
    def precision_w(self) -> float | None:
        return self._ratio(self.tp_w, self.tp_w + self.fp_w)

    @property
    def recall_w(self) -> float | None:
        return self._ratio(self.tp_w, self.tp_w + self.fn_w)


@dataclass(frozen=True)
class Result:
    vocabulary: str
    mode: str
    n: int
    eligible: Binary | None
    bh_related: Binary | None
    per_class: dict[str, Binary]
    apco_top1: float | None
    apco_top3: float | None
    unknown: int
    calibration: list[tuple[str, int, float | None]]  # (confidence band, n, eligible-decision accuracy)
    disagreements: list[tuple[LabelledItem, Suggestion]] = field(default_factory=list)


def evaluate(vocab: LabelledVocabulary, knowledge: Knowledge, mode: str) -> Result:
    """Run the suggester over the vocabulary and score it against the vocabulary's labels."""
    suggester = Suggester(knowledge)
    rows = [(li, suggester.suggest(li.item)) for li in vocab.items]
    elig = [(s.eligible, li.eligible, li.item.count) for li, s in rows if li.eligible is not None]
    bh = [
        (_bh_related(s, knowledge), li.bh_related, li.item.count)
        for li, s in rows
        if li.bh_related is not None
    ]
    per_class: dict[str, Binary] = {}
    # Per-class scores only where the labels separate not_in_scope from emergency_only (mecc).
    if any(li.bh_class is BhClass.EMERGENCY_ONLY for li, _ in rows):
        for group in ("eligible", BhClass.NOT_IN_SCOPE.value, BhClass.EMERGENCY_ONLY.value):
            per_class[group] = Binary.of(
                [(_group(s.bh_class) == group, _group(li.bh_class) == group, li.item.count) for li, s in rows]
            )
    with_apco = [(li, s) for li, s in rows if li.apco]
    top1 = sum(s.apco == li.apco for li, s in with_apco) / len(with_apco) if with_apco else None
    top3 = (
        sum(li.apco in {c for c, _ in s.alternatives} for li, s in with_apco) / len(with_apco)
        if with_apco
        else None
    )
    bands: list[tuple[str, int, float | None]] = []
    for name, lo, hi in (("0.8-1.0", 0.8, 1.01), ("0.5-0.8", 0.5, 0.8), ("0-0.5", 0.0, 0.5)):
        inside = [(li, s) for li, s in rows if li.eligible is not None and lo <= s.confidence < hi]
        acc = sum(s.eligible == li.eligible for li, s in inside) / len(inside) if inside else None
        bands.append((name, len(inside), acc))
    wrong = [(li, s) for li, s in rows if li.eligible is not None and s.eligible != li.eligible]
    wrong += [
        (li, s) for li, s in rows if li.eligible is None and li.bh_related and not _bh_related(s, knowledge)
    ]
    wrong.sort(key=lambda r: (-r[0].item.count, r[0].item.code))
    return Result(
        vocab.name,
        mode,
        len(rows),
        Binary.of(elig) if elig else None,
        Binary.of(bh) if bh else None,
        per_class,
        top1,
        top3,
        sum(s.bh_class is BhClass.UNKNOWN for _, s in rows),
        bands,
        wrong,
    )


def _group(c: BhClass | None) -> str:
    if c in (BhClass.IN_SCOPE, BhClass.CONDITIONAL):
        return "eligible"
    return c.value if c is not None else ""


def _bh_related(s: Suggestion, knowledge: Knowledge) -> bool:
    """Behavioural-health related: an eligible class, or an APCO type the policy marks as such."""
    return s.eligible or (bool(s.apco) and knowledge.policy[s.apco].bh_related)


def run_all(data: Path = DEFAULT_DATA, protocol: Path = MECC_PROTOCOL) -> list[Result]:
    """Every run reported in docs/callmap-evaluation.md, in the order shown there."""
    k = load_knowledge()
    sd, mecc, tor = load_san_diego(data), load_mecc(data, protocol), load_toronto(data)
    sd_codes = load_san_diego(data, codes_only=True)
    no_statutes = ("statute", "radio", "mpds")
    return [
        evaluate(sd, k.without(sd.origin), "leave-one-out"),
        evaluate(sd_codes, k.without(sd.origin), "leave-one-out, codes only"),
        evaluate(sd, k.without(sd.origin, *no_statutes), "leave-one-out, no statute/radio codes"),
        evaluate(sd, k, "all knowledge (leaky)"),
        evaluate(mecc, k.without(mecc.origin), "leave-one-out"),
        evaluate(mecc, k, "all knowledge (leaky)"),
        evaluate(tor, k.without(tor.origin), "leave-one-out"),
    ]


# ---- review effort on the shipped maps ---------------------------------------------------------

_SET_BY = re.compile(r"^set by [^:]+: (?P<apco>\S+) (?P<old>\w+) -> (?P<new_apco>\S+) (?P<new>\w+)")


@dataclass(frozen=True)
class ReviewEffort:
    """How much a reviewer changed the suggestions of a map (from the entries' `set by` evidence)."""

    center: str
    entries: int
    reviewed: int
    reviewed_calls_share: float
    apco_changed: int
    class_changed: int
    eligibility_changed: int


def review_effort(call_map: CallMap) -> ReviewEffort:
    reviewed = [e for e in call_map.entries.values() if e.status == "reviewed"]
    total = sum(e.count for e in call_map.entries.values()) or 1
    apco = cls = elig = 0
    for e in reviewed:
        m = _SET_BY.match(e.evidence)
        if not m:
            continue
        apco += m["apco"] != m["new_apco"]
        cls += m["old"] != m["new"]
        elig += (BhClass(m["old"]) in ELIGIBLE_CLASSES) != (BhClass(m["new"]) in ELIGIBLE_CLASSES)
    share = sum(e.count for e in reviewed) / total
    return ReviewEffort(call_map.center, len(call_map.entries), len(reviewed), share, apco, cls, elig)


# ---- report ------------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def report_markdown(
    results: Sequence[Result], *, efforts: Sequence[ReviewEffort] = (), disagreements: int = 12
) -> str:
    """The generated results section of docs/callmap-evaluation.md."""
    out = [
        "| vocabulary | run | types | eligible P | eligible R | P (calls) | R (calls) | BH-related R | APCO top-1 / top-3 | unknown |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        e, b = r.eligible, r.bh_related
        tp = f" ({e.tp} TP, {e.fp} FP, {e.fn} FN)" if e else ""
        out.append(
            f"| {r.vocabulary} | {r.mode} | {r.n} | {_pct(e.precision if e else None)}{tp} | "
            f"{_pct(e.recall if e else None)} | {_pct(e.precision_w if e else None)} | "
            f"{_pct(e.recall_w if e else None)} | {_pct(b.recall if b else None)} | "
            f"{_pct(r.apco_top1)} / {_pct(r.apco_top3)} | {r.unknown} |"
        )
    for r in results:
        if r.per_class:
            out += [
                "",
                f"Per class, {r.vocabulary} ({r.mode}):",
                "",
                "| class | P | R | P (calls) | R (calls) | n (labelled) |",
            ]
            out.append("|---|---:|---:|---:|---:|---:|")
            for name, b in r.per_class.items():
                out.append(
                    f"| {name} | {_pct(b.precision)} | {_pct(b.recall)} | {_pct(b.precision_w)} | "
                    f"{_pct(b.recall_w)} | {b.tp + b.fn} |"
                )
    out += ["", "Confidence and the eligible decision (leave-one-out runs):", ""]
    out += ["| vocabulary | band | types | accuracy |", "|---|---|---:|---:|"]
    for r in results:
        if r.mode == "leave-one-out" and r.eligible:
            out += [f"| {r.vocabulary} | {band} | {n} | {_pct(acc)} |" for band, n, acc in r.calibration]
    if efforts:
        out += ["", "Review of the shipped maps (suggestions the developer changed while reviewing):", ""]
        out += [
            "| map | call types | reviewed | calls covered by review | APCO changed | class changed | eligibility changed |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        out += [
            f"| {e.center} | {e.entries} | {e.reviewed} | {_pct(e.reviewed_calls_share)} | {e.apco_changed} | "
            f"{e.class_changed} | {e.eligibility_changed} |"
            for e in efforts
        ]
    for r in results:
        if r.mode != "leave-one-out" or not r.disagreements:
            continue
        out += ["", f"Disagreements, {r.vocabulary} (leave-one-out), most calls first:", ""]
        out += ["| code | text | count | label | suggested | conf |", "|---|---|---:|---|---|---:|"]
        for li, s in r.disagreements[:disagreements]:
            out.append(
                f"| {li.item.code} | {li.item.text} | {li.item.count} | {li.label_text} | "
                f"{s.apco} {s.bh_class.value} | {s.confidence:.2f} |"
            )
    return "\n".join(out) + "\n"


def as_dict(r: Result) -> dict[str, Any]:
    """Machine-readable summary of one run (for `crisisdesk callmap evaluate --json`)."""

    def b(x: Binary | None) -> dict[str, Any] | None:
        if x is None:
            return None
        return {
            "precision": x.precision,
            "recall": x.recall,
            "precision_calls": x.precision_w,
            "recall_calls": x.recall_w,
            "tp": x.tp,
            "fp": x.fp,
            "fn": x.fn,
            "tn": x.tn,
        }

    return {
        "vocabulary": r.vocabulary,
        "mode": r.mode,
        "types": r.n,
        "eligible": b(r.eligible),
        "bh_related": b(r.bh_related),
        "per_class": {k: b(v) for k, v in r.per_class.items()},
        "apco_top1": r.apco_top1,
        "apco_top3": r.apco_top3,
        "unknown": r.unknown,
    }
