#!/usr/bin/env python
"""PII masking throughput: govern's PiiEngine vs raw Presidio, side by side in one run.

    python benchmarks/bench_pii.py [--rounds 3] [--ner]

Raw Presidio = ``AnalyzerEngine`` with its default (pattern) recognizer registry
for English on a blank spaCy pipeline + ``AnonymizerEngine`` (replace with
``<TYPE>``), i.e. what you get from Presidio without a downloaded model.
govern = ``PiiEngine.mask`` (one call per passage) and ``PiiEngine.mask_many``
(one call per set) with the default settings (8 entity types, phone regions
US+GB) and the passages' context names.

Both run over the same labelled passages (tests/pii/data), alternating, best of
N rounds; findings are scored against the gold spans for both.
(Presidio's EmailRecognizer calls ``tldextract.extract``, which would fetch the
public suffix list over HTTP; for the raw baseline that module function is
replaced, in this process only, by the same offline extractor govern uses.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tldextract  # noqa: E402
from presidio_analyzer import AnalyzerEngine  # noqa: E402
from presidio_analyzer.predefined_recognizers import SpacyRecognizer  # noqa: E402
from presidio_anonymizer import AnonymizerEngine  # noqa: E402

from govern.pii import PiiEngine, PiiSettings  # noqa: E402
from govern.pii.evaluation import engine_predictions, load_passages, score  # noqa: E402
from govern.pii.nlp import BlankSpacyNlpEngine, offline_tldextract  # noqa: E402

DATA = ROOT / "tests" / "pii" / "data"


def raw_presidio() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    tldextract.extract = offline_tldextract()  # no network for the baseline either
    nlp = BlankSpacyNlpEngine()
    nlp.load()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    for rec in list(analyzer.registry.recognizers):
        if isinstance(rec, SpacyRecognizer):  # no model: nothing to read entities from
            analyzer.registry.remove_recognizer(rec.name)
    return analyzer, AnonymizerEngine()


def run_raw(analyzer, anonymizer, texts):
    out = []
    for t in texts:
        res = analyzer.analyze(text=t, language="en")
        anonymizer.anonymize(text=t, analyzer_results=res)
        out.append(res)
    return out


def best_of(fn, rounds: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ner", action="store_true", help="also time NER mode (en_core_web_sm)")
    ap.add_argument("--ablation", action="store_true", help="also time govern with each saver turned off")
    args = ap.parse_args(argv)

    passages = load_passages(DATA / "eval_faker.jsonl", DATA / "eval_hard.jsonl")
    texts = [p.text for p in passages]
    ctxs = [p.context for p in passages]
    analyzer, anonymizer = raw_presidio()
    engine = PiiEngine(PiiSettings())
    n_raw_recs = len(analyzer.registry.recognizers)

    contenders: dict[str, object] = {
        f"raw Presidio ({n_raw_recs} recognizers)": lambda: run_raw(analyzer, anonymizer, texts),
        "govern PiiEngine.mask": lambda: [engine.mask(x, context=c) for x, c in zip(texts, ctxs)],
        "govern PiiEngine.mask_many": lambda: engine.mask_many(texts, contexts=ctxs),
    }
    if args.ner:
        ner = PiiEngine(PiiSettings(nlp_model="en_core_web_sm"))
        contenders["govern NER mode mask_many"] = lambda: ner.mask_many(texts, contexts=ctxs)
    if args.ablation:
        eight = ["US", "GB", "DE", "FR", "IL", "IN", "CA", "BR"]
        variants = {
            "  ablation: no gates": (PiiSettings(), {"_gates": False}),
            "  ablation: no blanking before phone": (PiiSettings(), {"_blank_structured": False}),
            "  ablation: context for every finding": (PiiSettings(), {"_context_all": True}),
            "  ablation: 8 phone regions": (PiiSettings(phone_regions=eight), {}),
            "  ablation: all savers off, 8 regions": (
                PiiSettings(phone_regions=eight),
                {"_gates": False, "_blank_structured": False, "_context_all": True},
            ),
        }
        for name, (st, kw) in variants.items():
            contenders[name] = (lambda e: (lambda: e.mask_many(texts, contexts=ctxs)))(PiiEngine(st, **kw))
    for fn in contenders.values():  # warm up (lazy loads, regex compilation)
        fn()
    timings = {k: float("inf") for k in contenders}
    for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits all alike
        for k, fn in contenders.items():
            t0 = time.perf_counter()
            fn()
            timings[k] = min(timings[k], time.perf_counter() - t0)

    n = len(texts)
    raw_name = next(iter(contenders))
    raw_pps = n / timings[raw_name]
    print(f"{n} passages, best of {args.rounds} interleaved rounds\n")
    print(f"{'':<40}{'passages/s':>12}{'x raw':>8}")
    for k, t in timings.items():
        print(f"{k:<40}{n / t:>12.0f}{n / t / raw_pps:>8.2f}")
    raw_res = [analyzer.analyze(text=t, language="en") for t in texts]

    # findings compared on the labelled set
    raw_preds = [[(r.start, r.end, r.entity_type) for r in res] for res in raw_res]
    rep_raw = score(passages, raw_preds, [[(s, e) for s, e, _ in pr] for pr in raw_preds])
    preds, masked = engine_predictions(engine, passages)
    rep_gov = score(passages, preds, masked)
    print()
    print(rep_raw.table("findings: raw Presidio"))
    print()
    print(rep_gov.table("findings: govern pattern mode"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
