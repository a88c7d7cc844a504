"""Scoring detections against a labelled set (used by scripts/pii_report.py,
benchmarks/bench_pii.py and the recall tests).

A predicted span is correct if it overlaps a gold span of the same type; a gold
span is found if a predicted span of the same type overlaps it (the usual
lenient span match). ``masked`` is the fail-closed view: the share of gold spans
fully covered by masked findings of *any* type (what did not leak).
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
