"""Scoring detections against a labelled set (used by scripts/pii_report.py,
benchmarks/bench_pii.py and the recall tests).

Two views, both kept:

* :func:`score` (govern's own set, exact types): a predicted span is correct if
  it overlaps a gold span of the same type; a gold span is found if a predicted
  span of the same type overlaps it (the usual lenient span match). ``masked``
  is the fail-closed view: the share of gold spans fully covered by masked
  findings of *any* type (what did not leak).
* :func:`coverage` (any labelled set, also one whose type names are not
  govern's): a gold span counts as *recalled* when every letter and digit of it
  lies inside findings of its broad type (``BROAD``: a GPE, street address or
  ZIP code is recalled by LOCATION / STREET_ADDRESS / ZIP_CODE findings, a
  DOMAIN_NAME by URL findings, a TITLE by the PERSON finding it is part of; punctuation and white space between findings do
  not count), and *retention* is the share of the letters and digits outside
  every gold span that no masked finding touches (what masking did not destroy).
  Overlap alone is not recall here: masking half of an address leaks the rest.
  Two looser readings are reported beside it: *masked* (every letter and digit
  covered by masked findings of any type) and *overlapped* (some masked finding
  of any type overlaps the span: how side-by-side tables of PII tools usually
  count, and how the issue's held-back measurements read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

Span = tuple[int, int, str]  # start, end, type


@dataclass
class Passage:
    id: str
    kind: str
    text: str
    spans: list[Span]
    context: dict


def load_passages(*paths: str | Path) -> list[Passage]:
    out = []
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    d = json.loads(line)
                    out.append(
                        Passage(
                            d["id"],
                            d.get("kind", ""),
                            d["text"],
                            [(s["start"], s["end"], s["type"]) for s in d["spans"]],
                            d.get("context") or {},
                        )
                    )
    return out


@dataclass
class TypeScore:
    gold: int = 0
    found: int = 0  # gold spans matched
    predicted: int = 0
    correct: int = 0  # predictions matching a gold span
    masked: int = 0  # gold spans fully covered by masked spans of any type

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def masked_rate(self) -> float:
        return self.masked / self.gold if self.gold else 1.0


@dataclass
class Report:
    by_type: dict[str, TypeScore] = field(default_factory=dict)
    other_types: dict[str, int] = field(default_factory=dict)  # predictions of unlabelled types

    def t(self, typ: str) -> TypeScore:
        return self.by_type.setdefault(typ, TypeScore())

    def total(self) -> TypeScore:
        s = TypeScore()
        for v in self.by_type.values():
            s.gold += v.gold
            s.found += v.found
            s.predicted += v.predicted
            s.correct += v.correct
            s.masked += v.masked
        return s

    def table(self, title: str = "") -> str:
        lines = [title] if title else []
        lines.append(f"{'type':<15}{'gold':>6}{'pred':>6}{'precision':>11}{'recall':>8}{'masked':>8}")
        for typ in sorted(self.by_type):
            v = self.by_type[typ]
            lines.append(
                f"{typ:<15}{v.gold:>6}{v.predicted:>6}{v.precision:>11.3f}{v.recall:>8.3f}{v.masked_rate:>8.3f}"
            )
        v = self.total()
        lines.append(f"{'ALL':<15}{v.gold:>6}{v.predicted:>6}{v.precision:>11.3f}{v.recall:>8.3f}{v.masked_rate:>8.3f}")
        if self.other_types:
            lines.append("unlabelled types predicted: " + ", ".join(f"{k}={n}" for k, n in sorted(self.other_types.items())))
        return "\n".join(lines)


def _overlap(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def score(
    passages: Sequence[Passage],
    predictions: Sequence[Iterable[Span]],
    masked: Sequence[Iterable[tuple[int, int]]] | None = None,
    labelled_types: Iterable[str] | None = None,
) -> Report:
    """Score per-passage predictions (start, end, type) against the gold spans."""
    labelled = set(labelled_types) if labelled_types is not None else {s[2] for p in passages for s in p.spans}
    rep = Report()
    for t in sorted(labelled):
        rep.t(t)
    for i, p in enumerate(passages):
        preds = list(predictions[i])
        mspans = list(masked[i]) if masked is not None else []
        for g0, g1, gt in p.spans:
            ts = rep.t(gt)
            ts.gold += 1
            if any(pt == gt and _overlap(g0, g1, p0, p1) for p0, p1, pt in preds):
                ts.found += 1
            if _covered(g0, g1, mspans):
                ts.masked += 1
        for p0, p1, pt in preds:
            if pt not in labelled:
                rep.other_types[pt] = rep.other_types.get(pt, 0) + 1
                continue
            ts = rep.t(pt)
            ts.predicted += 1
            if any(gt == pt and _overlap(g0, g1, p0, p1) for g0, g1, gt in p.spans):
                ts.correct += 1
    return rep


def _covered(g0: int, g1: int, spans: list[tuple[int, int]]) -> bool:
    """Every non-space character of [g0, g1) lies in some masked span."""
    pos = g0
    for s0, s1 in sorted(spans):
        if s0 <= pos < s1:
            pos = s1
        if pos >= g1:
            return True
    return pos >= g1


def engine_predictions(engine, passages: Sequence[Passage], use_context: bool = True):
    """(predictions, masked spans) of a PiiEngine over the passages (nothing revealed)."""
    results = engine.mask_many([p.text for p in passages], contexts=[p.context if use_context else None for p in passages])
    preds = [[(f.start, f.end, f.type) for f in m.findings] for m in results]
    masked = [[(f.start, f.end) for f in m.findings if f.operator != "reveal"] for m in results]
    return preds, masked


# ---- broad types: gold label -> the finding types that recall it ----------------------------
_LOC = frozenset({"LOCATION", "STREET_ADDRESS", "ZIP_CODE"})
BROAD: dict[str, frozenset[str]] = {
    "GPE": _LOC,
    "LOCATION": _LOC,
    "STREET_ADDRESS": _LOC,
    "ADDRESS": _LOC,
    "ZIP_CODE": _LOC,
    "DOMAIN_NAME": frozenset({"URL"}),
    # a courtesy title is masked with the name it stands before (cues.py); job titles are not found
    "TITLE": frozenset({"TITLE", "PERSON"}),
    "URL": frozenset({"URL"}),
}
# Labelled types of the pattern recognizers (the "pattern types" row of the report).
PATTERN_GOLD_TYPES = frozenset(
    {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS", "DOMAIN_NAME", "URL"}
)


def broad(gold_type: str) -> frozenset[str]:
    return BROAD.get(gold_type, frozenset({gold_type}))


@dataclass
class Coverage:
    gold: dict[str, int] = field(default_factory=dict)
    recalled: dict[str, int] = field(default_factory=dict)  # covered by findings of the broad type
    masked: dict[str, int] = field(default_factory=dict)  # covered by masked findings of any type
    touched: dict[str, int] = field(default_factory=dict)  # overlapped by a masked finding of any type
    kept_chars: int = 0  # letters/digits outside gold spans left unmasked
    other_chars: int = 0  # letters/digits outside gold spans

    def recall(self, types: Iterable[str] | None = None) -> float:
        ts = list(self.gold) if types is None else [t for t in types if t in self.gold]
        n = sum(self.gold[t] for t in ts)
        return sum(self.recalled.get(t, 0) for t in ts) / n if n else 1.0

    def masked_rate(self, types: Iterable[str] | None = None) -> float:
        ts = list(self.gold) if types is None else [t for t in types if t in self.gold]
        n = sum(self.gold[t] for t in ts)
        return sum(self.masked.get(t, 0) for t in ts) / n if n else 1.0

    def touched_rate(self, types: Iterable[str] | None = None) -> float:
        """The loosest reading (a masked finding of any type overlaps the span), the one
        side-by-side comparisons of PII tools commonly report."""
        ts = list(self.gold) if types is None else [t for t in types if t in self.gold]
        n = sum(self.gold[t] for t in ts)
        return sum(self.touched.get(t, 0) for t in ts) / n if n else 1.0

    @property
    def retention(self) -> float:
        return self.kept_chars / self.other_chars if self.other_chars else 1.0

    def pattern_types(self) -> list[str]:
        return sorted(t for t in self.gold if t in PATTERN_GOLD_TYPES)


def _alnum_positions(text: str, a: int, b: int) -> list[int]:
    return [i for i in range(a, b) if text[i].isalnum()]


def coverage(
    passages: Sequence[Passage],
    predictions: Sequence[Iterable[Span]],
    masked: Sequence[Iterable[tuple[int, int]]],
) -> Coverage:
    """Per-type recall (covered by findings of the broad type) and retention."""
    cov = Coverage()
    for i, p in enumerate(passages):
        preds = list(predictions[i])
        mspans = list(masked[i])
        n = len(p.text)
        in_mask = bytearray(n)
        for a, b in mspans:
            in_mask[max(a, 0) : min(b, n)] = b"\x01" * (min(b, n) - max(a, 0))
        in_gold = bytearray(n)
        for g0, g1, gt in p.spans:
            in_gold[g0:g1] = b"\x01" * (g1 - g0)
            cov.gold[gt] = cov.gold.get(gt, 0) + 1
            pos = _alnum_positions(p.text, g0, g1)
            ok = broad(gt)
            by_type = bytearray(n)
            for a, b, t in preds:
                if t in ok and a < g1 and g0 < b:
                    by_type[max(a, 0) : min(b, n)] = b"\x01" * (min(b, n) - max(a, 0))
            if all(by_type[j] for j in pos):
                cov.recalled[gt] = cov.recalled.get(gt, 0) + 1
            if all(in_mask[j] for j in pos):
                cov.masked[gt] = cov.masked.get(gt, 0) + 1
            if any(in_mask[g0:g1]):
                cov.touched[gt] = cov.touched.get(gt, 0) + 1
        for j, c in enumerate(p.text):
            if not in_gold[j] and c.isalnum():
                cov.other_chars += 1
                cov.kept_chars += not in_mask[j]
    return cov


def coverage_table(columns: dict[str, Coverage], gold_types: Sequence[str] | None = None) -> str:
    """Recall per gold type, pattern types, all types, and retention; one column per contender."""
    names = list(columns)
    first = columns[names[0]]
    types = list(gold_types) if gold_types is not None else sorted(first.gold, key=lambda t: (-first.gold[t], t))
    w = max(14, *(len(n) + 2 for n in names))
    lines = [f"{'recall':<26}" + "".join(f"{n:>{w}}" for n in names)]
    for t in types:
        lines.append(f"{t + f' ({first.gold.get(t, 0)})':<26}" + "".join(f"{columns[n].recall([t]):>{w}.3f}" for n in names))
    pt = first.pattern_types()
    lines.append(f"{'pattern types':<26}" + "".join(f"{columns[n].recall(pt):>{w}.3f}" for n in names))
    lines.append(f"{'all labelled types':<26}" + "".join(f"{columns[n].recall():>{w}.3f}" for n in names))
    lines.append(f"{'masked, any type (all)':<26}" + "".join(f"{columns[n].masked_rate():>{w}.3f}" for n in names))
    lines.append(f"{'overlapped, any type: pat.':<26}" + "".join(f"{columns[n].touched_rate(pt):>{w}.3f}" for n in names))
    lines.append(f"{'overlapped, any type: all':<26}" + "".join(f"{columns[n].touched_rate():>{w}.3f}" for n in names))
    lines.append(f"{'retention of non-PII':<26}" + "".join(f"{columns[n].retention:>{w}.3f}" for n in names))
    return "\n".join(lines)


# ---- raw Presidio, for the side-by-side baseline ----------------------------------------------
def raw_presidio(nlp_model: str | None = None):
    """(AnalyzerEngine, AnonymizerEngine) as Presidio comes: its default English
    recognizer registry, on a blank spaCy pipeline (patterns only) or on an
    installed spaCy model (loaded by Presidio's own engine, parser included).
    Presidio's EmailRecognizer calls ``tldextract.extract``, which would fetch the
    public suffix list over HTTP; that module function is replaced, in this
    process, by the offline extractor govern uses."""
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer
    from presidio_anonymizer import AnonymizerEngine

    from .nlp import BlankSpacyNlpEngine, offline_tldextract, resolve_model

    tldextract.extract = offline_tldextract()
    if nlp_model is None:
        nlp = BlankSpacyNlpEngine()
    else:
        nlp = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": resolve_model(nlp_model)}])
    nlp.load()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    if nlp_model is None:
        for rec in list(analyzer.registry.recognizers):
            if isinstance(rec, SpacyRecognizer):  # no model: nothing to read entities from
                analyzer.registry.remove_recognizer(rec.name)
    return analyzer, AnonymizerEngine()


def raw_predictions(analyzer, passages: Sequence[Passage]):
    """(predictions, masked spans) of a raw Presidio analyzer: every result is masked."""
    preds = []
    for p in passages:
        res = analyzer.analyze(text=p.text, language="en")
        preds.append([(r.start, r.end, r.entity_type) for r in res])
    return preds, [[(a, b) for a, b, _ in pr] for pr in preds]
