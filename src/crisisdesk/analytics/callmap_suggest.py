"""Suggest an APCO type and a behavioural-health class for each call type of a new CAD vocabulary.

The method is lexical and transparent, so a reviewer can see why each suggestion was made:

1. **Split the code from the text.** ``"46A - CIT"`` is code ``46A`` and text ``CIT``; a code such
   as ``1140OD`` is a number (``1140``) and a suffix (``OD``); ``5150V`` is ``5150`` + ``V``.
2. **Look up known terms** (``callmap_data/terms.yaml``): abbreviations (``TRBL`` = trouble,
   ``EDP``, ``CIT``), statute and radio code numbers (California W&I 5150, ten-codes), MPDS
   protocol numbers, code suffixes, and signal words (weapons and "in progress" are emergencies,
   "report" means after the fact). Each hit is evidence, and may point to an APCO type.
3. **Match the expanded text against the APCO 2012 definitions** with a character n-gram TF-IDF
   (numpy, no model download): abbreviations and truncated words still match their definitions.
4. **Combine**: APCO score = similarity + term hints; a softmax over the scores gives a
   distribution over APCO types, and through the class policy (``apco_policy.csv``: one class per
   APCO type, written from the programs' published exclusions) a distribution over classes.
   Signal words then move probability: emergency words towards ``emergency_only``, medical words
   (person down) out of the eligible classes, report words away from ``emergency_only``.
5. **Decide and explain**: the class group with the most probability wins (in_scope and conditional
   together form the *eligible* group, which matters most); confidence is that probability scaled
   by how much evidence matched. Nothing matched at all means ``unknown`` (never guessed).

Everything is deterministic: same vocabulary and knowledge, same map.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from crisisdesk.analytics.callmap import ELIGIBLE_CLASSES, BhClass, CallTypeEntry

DATA_DIR = Path(__file__).resolve().parent / "callmap_data"

# Softmax temperature over APCO scores: a lead of 0.2 in score is about 10:1 in probability.
TEMPERATURE = 0.08
# Below this best score (similarity + hints) nothing meaningful matched: the class is unknown.
UNKNOWN_BELOW = 0.18
# A best score at or above this counts as full evidence for the confidence.
FULL_EVIDENCE = 0.5
DEFAULT_WEIGHT = 0.5
DEFAULT_STRENGTH = 0.9
# Hits that come from the code rather than the text count a little less: codes are reused loosely.
CODE_FACTOR = 0.8
ALPHA_CODE_FACTOR = 0.5
RADIO_GUESS_FACTOR = 0.7  # "1141" read as the radio code "11-41"
TRUNCATED_AT_MOST = 2  # letters a truncated last word may miss ("WEAPO" for WEAPON)

# Words that carry no meaning for matching (in definitions or call types).
_STOP = frozenset(
    {
        *("THE", "OF", "A", "AN", "AND", "OR", "TO", "FOR", "IN", "ON", "AT", "BY", "WITH", "FROM", "IS"),
        *("BE", "AS", "ANY", "ALL", "OTHER", "THAN", "ETC", "RELATED", "TYPE", "TYPES"),
        *("INCLUDES", "INCLUDE", "INCLUDING", "INCIDENT", "INCIDENTS", "CALL", "CALLS"),
    }
)
_TOKEN = re.compile(r"W/O|W/|O/D|\d+(?:[-.]\d+)?[A-Z]*|[A-Z]+\d*[A-Z]*")
_NUMERIC_CODE = re.compile(
    r"^(?P<prefix>[A-Z]{1,3}(?=\d))?(?P<num>\d+(?:[-.]\d+)?)(?P<suffix>[A-Z]*)(?:[-/ ](?P<tail>[A-Z]+))?$"
)
_MPDS = re.compile(r"^(?P<proto>\d{1,2})-?(?P<level>[OABCDE])-?\d{1,2}[A-Z]?$")
_LEADING_CODE = re.compile(r"^\s*(?P<code>\S*\d\S*)\s*(?:-|:|\s)\s*(?P<text>.*[A-Za-z].*)$")


# ---- knowledge ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One known term (see the header of terms.yaml for the meaning of each field)."""

    forms: tuple[tuple[str, ...], ...]
    kind: str
    means: str
    apco: str
    weight: float
    signal: str
    strength: float
    origin: str
    source: str


@dataclass(frozen=True)
class Policy:
    bh_class: BhClass
    bh_related: bool
    why: str


@dataclass(frozen=True)
class Knowledge:
    """Everything the suggester knows; data files only, so a new fact is a data change."""

    version: str
    apco: dict[str, str]  # code -> definition
    policy: dict[str, Policy]
    terms: tuple[Term, ...]
    sources: dict[str, str]
    excluded_origins: frozenset[str] = frozenset()

    def without(self, *origins: str) -> Knowledge:
        """The same knowledge less the terms of these origins (e.g. ``vocab:san_diego``)."""
        gone = frozenset(origins)
        return replace(
            self,
            terms=tuple(t for t in self.terms if t.origin not in gone),
            excluded_origins=self.excluded_origins | gone,
        )

    def cite(self, term: Term) -> str:
        """Short citation for evidence: the source key (see terms.yaml `sources`) or its text."""
        return term.source if term.source in self.sources else term.source or term.origin


def tokens(text: str) -> list[str]:
    """Upper-case tokens of a CAD string: ``"TRBL W/SUBJ-DV"`` -> ``[TRBL, W/, SUBJ, DV]``."""
    norm = text.upper().replace("&", " AND ").replace("'", "")
    return _TOKEN.findall(norm)


@cache
def load_knowledge(data_dir: str = str(DATA_DIR)) -> Knowledge:
    """Read apco_2012.csv, apco_policy.csv and terms.yaml (cached; the result is immutable)."""
    base = Path(data_dir)
    with open(base / "apco_2012.csv", encoding="utf-8", newline="") as fh:
        apco = {row["code"]: row["definition"] for row in csv.DictReader(fh)}
    policy: dict[str, Policy] = {}
    with open(base / "apco_policy.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            policy[row["apco"]] = Policy(BhClass(row["class"]), row["bh_related"] == "yes", row["why"])
    with open(base / "terms.yaml", encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    terms: list[Term] = []
    for raw in doc["terms"]:
        kind = str(raw.get("kind", "word"))
        forms = tuple(
            (str(f).upper(),) if kind in ("code", "suffix", "mpds") else tuple(tokens(str(f)))
            for f in raw["forms"]
        )
        apco_code = str(raw.get("apco") or "")
        if apco_code and apco_code not in apco:
            raise ValueError(f"terms.yaml: {raw['forms']} points to unknown APCO type {apco_code!r}")
        terms.append(
            Term(
                forms=forms,
                kind=kind,
                means=str(raw.get("means") or ""),
                apco=apco_code,
                weight=float(raw.get("weight", DEFAULT_WEIGHT)),
                signal=str(raw.get("signal") or ""),
                strength=float(raw.get("strength", DEFAULT_STRENGTH)),
                origin=str(raw.get("origin") or "general"),
                source=str(raw.get("source") or ""),
            )
        )
    missing = sorted(set(apco) - set(policy))
    if missing:
        raise ValueError(f"apco_policy.csv lacks {missing}")
    terms.extend(_title_terms(apco, terms))
    return Knowledge(str(doc.get("version", "")), apco, policy, tuple(terms), dict(doc.get("sources") or {}))


def _title_terms(apco: dict[str, str], curated: Sequence[Term]) -> list[Term]:
    """The standard's own titles as terms ("ROBBERY" -> ROBBERY, "WIRES DOWN" -> WIRES).

    Without them a long definition that merely mentions a word can beat the type named by it
    ("ROBBERY ALARM SILENT - Includes hold up alarms" over "ROBBERY - Includes strong arm ...").
    Titles shared by several types, and forms already curated in terms.yaml, are skipped.
    """
    taken = {form for t in curated for form in t.forms}
    by_title: dict[tuple[str, ...], list[str]] = {}
    for code, definition in apco.items():
        title = tuple(tokens(definition.split(" - ")[0]))
        if title and all(w.isalpha() for w in title):
            by_title.setdefault(title, []).append(code)
    return [
        Term((title,), "word", " ".join(title).lower(), codes[0], DEFAULT_WEIGHT, "", 0.0, "apco", "apco")
        for title, codes in sorted(by_title.items())
        if len(codes) == 1 and title not in taken
    ]


# ---- character n-gram TF-IDF over the APCO definitions -----------------------------------------


def _features(text: str) -> list[str]:
    feats: list[str] = []
    for tok in tokens(text):
        if tok in _STOP or not any(ch.isalpha() for ch in tok):
            continue
        word = tok[:-1] if len(tok) > 3 and tok.endswith("S") and not tok.endswith("SS") else tok
        feats.append("w:" + word)
        padded = f" {tok} "
        for n in (3, 4, 5):
            feats.extend("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return feats


class ApcoIndex:
    """TF-IDF vectors of the APCO definitions, each enriched with the meanings of its known terms."""

    def __init__(self, knowledge: Knowledge):
        self.codes = sorted(knowledge.apco)
        docs = {c: [knowledge.apco[c]] for c in self.codes}
        for term in knowledge.terms:
            if term.apco and term.means:
                docs[term.apco].append(term.means)
        doc_feats = [set(_features(" ".join(docs[c]))) for c in self.codes]
        vocab = sorted(set().union(*doc_feats))
        self.index = {f: i for i, f in enumerate(vocab)}
        df = np.zeros(len(vocab))
        for feats in doc_feats:
            for f in feats:
                df[self.index[f]] += 1
        # Smoothed IDF: features shared by many definitions ("person", "includes") count less.
        self.idf = np.log((1 + len(self.codes)) / (1 + df)) + 1.0
        matrix = np.zeros((len(self.codes), len(vocab)))
        for row, feats in enumerate(doc_feats):
            for f in feats:
                matrix[row, self.index[f]] = self.idf[self.index[f]]
        self.matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def similarity(self, text: str) -> np.ndarray:
        """Cosine similarity of the text to every APCO definition (zeros when nothing is shared)."""
        # The query vector is sparse: multiply only the columns of the features it has.
        cols = np.array(
            sorted({i for f in _features(text) if (i := self.index.get(f)) is not None}), dtype=int
        )
        if cols.size == 0:
            return np.zeros(len(self.codes))
        weights = self.idf[cols]
        return np.asarray(self.matrix[:, cols] @ (weights / np.linalg.norm(weights)))


# ---- reading one call type ---------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    term: Term
    surface: str
    where: str  # code | suffix | text
    factor: float = 1.0


def split_code(code: str, text: str) -> tuple[str, str]:
    """(code part, text part): a vocabulary without descriptions may carry ``"46A - CIT"``."""
    code, text = code.strip(), text.strip()
    if not text:
        m = _LEADING_CODE.match(code)
        if m and re.search(r"[A-Za-z]{2}", m["text"]):
            return m["code"].strip(" -:"), m["text"].strip()
        return ("", code) if not re.search(r"\d", code) or " " in code else (code, "")
    return code, text


class Reader:
    """Finds known terms in a call type's code and text."""

    def __init__(self, knowledge: Knowledge):
        self.codes: dict[str, Term] = {}
        self.suffixes: dict[str, Term] = {}
        self.mpds: dict[str, Term] = {}
        self.words: dict[tuple[str, ...], Term] = {}
        for term in knowledge.terms:
            table = {"code": self.codes, "suffix": self.suffixes, "mpds": self.mpds}.get(term.kind)
            for form in term.forms:
                if table is None:
                    self.words.setdefault(form, term)
                else:
                    table.setdefault(form[0], term)
        self.longest = max((len(f) for f in self.words), default=1)
        self.single = sorted(f[0] for f in self.words if len(f) == 1)

    def read_code(self, code: str) -> tuple[list[Hit], list[str]]:
        """Hits in a code such as ``5150V``, ``1140OD``, ``25A01``; also the code's unread parts."""
        code = code.upper().strip()
        if not code:
            return [], []
        m = _MPDS.match(code)
        if m and m["proto"].lstrip("0") in self.mpds:
            return [Hit(self.mpds[m["proto"].lstrip("0")], code, "code", CODE_FACTOR)], []
        m = _NUMERIC_CODE.match(code)
        if not m:
            # An alphabetic code (CW, NARC): an abbreviation of the text, weaker evidence. Codes
            # are abbreviated on purpose, not cut short: no truncated-word reading here.
            alpha_hits, alpha_rest = self.read_text(code, truncated=False)
            return [
                replace(h, where="code", factor=h.factor * ALPHA_CODE_FACTOR) for h in alpha_hits
            ], alpha_rest
        num, suffix, tail = m["num"], m["suffix"], m["tail"] or ""
        hits: list[Hit] = []
        rest: list[str] = []
        if suffix and num + suffix in self.codes:
            hits.append(Hit(self.codes[num + suffix], num + suffix, "code", CODE_FACTOR))
            suffix = ""
        elif num in self.codes:
            hits.append(Hit(self.codes[num], num, "code", CODE_FACTOR))
        elif re.fullmatch(r"1[01]\d\d", num) and f"{num[:2]}-{num[2:]}" in self.codes:
            hits.append(
                Hit(self.codes[f"{num[:2]}-{num[2:]}"], num, "code", CODE_FACTOR * RADIO_GUESS_FACTOR)
            )
        else:
            rest.append(num)
        for part in (suffix, tail):
            if not part:
                continue
            term: Term | None = self.suffixes.get(part)
            if term is None and len(part) >= 2:
                term = self.words.get((part,))
            if term is not None:
                hits.append(Hit(term, part, "suffix", CODE_FACTOR))
            else:
                rest.append(part)
        return hits, rest

    def read_text(self, text: str, *, truncated: bool = True) -> tuple[list[Hit], list[str]]:
        """Hits in the text (longest phrase first) and the words no term explained.

        ``truncated``: the last word may be cut short (CADs cut descriptions at a fixed width).
        """
        toks = tokens(text)
        hits: list[Hit] = []
        rest: list[str] = []
        i = 0
        while i < len(toks):
            found = self._phrase_at(toks, i)
            if found:
                n, term = found
                hits.append(Hit(term, " ".join(toks[i : i + n]), "text"))
                i += n
                continue
            tok = toks[i]
            if tok[0].isdigit():
                code_hits, _ = self.read_code(tok)
                hits.extend(replace(h, where="text") for h in code_hits)
            elif truncated and i == len(toks) - 1 and len(tok) >= 5:
                # CADs truncate descriptions (Milwaukee cuts at 16 characters): "WEAPO" is WEAPON.
                cands = {
                    id(self.words[(w,)]): w
                    for w in self.single
                    if w.startswith(tok) and 0 < len(w) - len(tok) <= TRUNCATED_AT_MOST
                }
                if len(cands) == 1:  # one term (WEAPO: WEAPON and WEAPONS are forms of one term)
                    hits.append(Hit(self.words[(next(iter(cands.values())),)], tok, "text", 0.8))
                else:
                    rest.append(tok)
            else:
                rest.append(tok)
            i += 1
        return hits, rest

    def _phrase_at(self, toks: Sequence[str], i: int) -> tuple[int, Term] | None:
        for n in range(min(self.longest, len(toks) - i), 0, -1):
            window = tuple(toks[i : i + n])
            term = self.words.get(window)
            if term is not None:
                return n, term
            if n > 1:
                # In a phrase, a word may be cut short ("IN PROGR", "EMOTIONALLY DISTURB").
                for form, t in self.words.items():
                    if len(form) == n and form[0] == window[0] and _prefix_match(window, form):
                        return n, t
        return None


def _prefix_match(window: tuple[str, ...], form: tuple[str, ...]) -> bool:
    return all(w == f or (len(w) >= 4 and f.startswith(w)) for w, f in zip(window, form, strict=True))


# ---- suggesting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VocabularyItem:
    """One call type of a CAD vocabulary: its code, its description (may be empty), its count."""

    code: str
    text: str = ""
    count: int = 0


@dataclass(frozen=True)
class Suggestion:
    code: str
    text: str
    count: int
    apco: str
    bh_class: BhClass
    confidence: float
    evidence: str
    class_probability: dict[BhClass, float] = field(default_factory=dict)
    alternatives: tuple[tuple[str, float], ...] = ()

    @property
    def eligible(self) -> bool:
        return self.bh_class in ELIGIBLE_CLASSES

    def entry(self) -> CallTypeEntry:
        return CallTypeEntry(
            code=self.code,
            text=self.text,
            apco=self.apco,
            bh_class=self.bh_class,
            confidence=self.confidence,
            evidence=self.evidence,
            status="suggested",
            count=self.count,
        )


class Suggester:
    """Suggests (APCO type, class, confidence, evidence) for call types; see the module docstring."""

    def __init__(self, knowledge: Knowledge | None = None):
        self.knowledge = knowledge or load_knowledge()
        self.index = ApcoIndex(self.knowledge)
        self.reader = Reader(self.knowledge)

    def suggest_all(self, items: Iterable[VocabularyItem]) -> list[Suggestion]:
        return [self.suggest(item) for item in items]

    def suggest(self, item: VocabularyItem) -> Suggestion:
        code_part, text_part = split_code(item.code, item.text)
        code_hits, code_rest = self.reader.read_code(code_part)
        text_hits, text_rest = self.reader.read_text(text_part)
        hits = code_hits + text_hits
        # Signal-only words (VIOLENT, REPORT, IN PROGRESS) say how, not what: they stay out of the
        # text matched against the APCO definitions.
        meanings = [h.term.means for h in hits if h.term.means and (h.term.apco or not h.term.signal)]
        expanded = " ".join(meanings + text_rest).strip()
        codes = self.index.codes
        sims = self.index.similarity(expanded) if expanded else np.zeros(len(codes))
        boost = np.zeros(len(codes))
        for h in hits:
            if h.term.apco:
                boost[codes.index(h.term.apco)] += h.term.weight * h.factor
        score = sims + np.minimum(boost, 1.0)
        order = sorted(range(len(codes)), key=lambda i: (-score[i], codes[i]))
        top = order[0]
        best = float(score[top])
        notes = [_describe_hit(h, self.knowledge) for h in hits]
        unread = [w for w in code_rest if w] + [w for w in text_rest if w not in _STOP]
        if best < UNKNOWN_BELOW:
            notes.append("no known term or APCO definition matched: classify by hand")
            if unread:
                notes.append("no term for: " + " ".join(unread))
            return Suggestion(item.code, item.text, item.count, "", BhClass.UNKNOWN, 0.0, "; ".join(notes))
        weights = np.exp((score - best) / TEMPERATURE)
        probs = weights / weights.sum()
        dist: dict[BhClass, float] = {c: 0.0 for c in BhClass if c is not BhClass.UNKNOWN}
        for i, p in enumerate(probs):
            dist[self.knowledge.policy[codes[i]].bh_class] += float(p)
        dist, signal_notes = _apply_signals(dist, hits)
        chosen, group_p = _decide(dist)
        apco = codes[top]
        strength = min(1.0, best / FULL_EVIDENCE)
        confidence = round(group_p * (0.5 + 0.5 * strength), 3)
        policy = self.knowledge.policy[apco]
        notes.append(f"APCO {apco} '{self.knowledge.apco[apco]}' (text similarity {sims[top]:.2f})")
        alternatives = tuple((codes[i], round(float(probs[i]), 3)) for i in order[:3])
        others = [f"{c} {p:.2f}" for c, p in alternatives[1:] if p >= 0.05]
        if others:
            notes.append("also " + ", ".join(others))
        notes.append(f"policy {apco} = {policy.bh_class.value}")
        notes.extend(signal_notes)
        if unread:
            notes.append("no term for: " + " ".join(unread))
        return Suggestion(
            item.code,
            item.text,
            item.count,
            apco,
            chosen,
            confidence,
            "; ".join(notes),
            {k: round(v, 4) for k, v in dist.items()},
            alternatives,
        )


def _describe_hit(hit: Hit, knowledge: Knowledge) -> str:
    where = {"code": "code", "suffix": "code suffix", "text": ""}[hit.where]
    target = f" -> {hit.term.apco}" if hit.term.apco else ""
    signal = f" [{hit.term.signal}]" if hit.term.signal and hit.term.signal != "none" else ""
    label = f"{where} '{hit.surface}'".strip()
    cite = knowledge.cite(hit.term)
    origin = "" if cite == hit.term.origin else f"{hit.term.origin}: "
    return f"{label} = {hit.term.means}{target}{signal} ({origin}{cite})"


def _apply_signals(dist: dict[BhClass, float], hits: Sequence[Hit]) -> tuple[dict[BhClass, float], list[str]]:
    """Move class probability for emergency, medical and report words (in that order)."""
    out = dict(dist)
    notes: list[str] = []

    def strongest(signal: str) -> tuple[float, str]:
        found = [(h.term.strength * h.factor, h.surface) for h in hits if h.term.signal == signal]
        return max(found) if found else (0.0, "")

    e, word = strongest("emergency")
    if e:
        out = {k: v * (1 - e) for k, v in out.items()}
        out[BhClass.EMERGENCY_ONLY] += e
        notes.append(f"'{word}' is an emergency indicator ({e:.2f} towards emergency_only)")
    m, word = strongest("medical")
    if m:
        moved = m * (out[BhClass.IN_SCOPE] + out[BhClass.CONDITIONAL])
        out[BhClass.IN_SCOPE] *= 1 - m
        out[BhClass.CONDITIONAL] *= 1 - m
        out[BhClass.NOT_IN_SCOPE] += moved
        notes.append(f"'{word}' is presumed medical: EMS first ({m:.2f} out of the eligible classes)")
    r, word = strongest("report")
    if r:
        moved = r * out[BhClass.EMERGENCY_ONLY]
        out[BhClass.EMERGENCY_ONLY] -= moved
        out[BhClass.NOT_IN_SCOPE] += moved
        if moved > 0.01:
            notes.append(f"'{word}' means after the fact ({r:.2f} of emergency_only to not_in_scope)")
    return out, notes


def _decide(dist: dict[BhClass, float]) -> tuple[BhClass, float]:
    """The class group with most probability; in_scope + conditional compete as one group."""
    eligible = dist[BhClass.IN_SCOPE] + dist[BhClass.CONDITIONAL]
    groups = [
        (eligible, 0, None),
        (dist[BhClass.EMERGENCY_ONLY], 1, BhClass.EMERGENCY_ONLY),
        (dist[BhClass.NOT_IN_SCOPE], 2, BhClass.NOT_IN_SCOPE),
    ]
    p, _, chosen = max(groups, key=lambda g: (g[0], -g[1]))
    if chosen is None:
        in_s, cond = dist[BhClass.IN_SCOPE], dist[BhClass.CONDITIONAL]
        chosen = BhClass.IN_SCOPE if in_s >= cond else BhClass.CONDITIONAL
    return chosen, min(1.0, max(0.0, p if math.isfinite(p) else 0.0))
