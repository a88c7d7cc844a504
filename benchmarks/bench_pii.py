"""PII masking throughput and findings: govern's two modes vs raw Presidio, side by side in one run.

    python benchmarks/bench_pii.py [--rounds 3] [--set both|presidio|own] [--no-ner] [--ablation]

Contenders, timed alternately over the same passages (best of N interleaved rounds):

* raw Presidio, patterns = ``AnalyzerEngine`` with its default English recognizer
  registry on a blank spaCy pipeline + ``AnonymizerEngine`` (replace with ``<TYPE>``):
  Presidio without a downloaded model;
* govern pattern mode = ``PiiEngine.mask_many`` with the default settings;
* raw Presidio + spaCy sm = the same registry on ``en_core_web_sm`` (Presidio's own
  spaCy engine) + ``AnonymizerEngine``;
* govern NER mode = ``PiiEngine.mask_many`` with ``nlp_model: en_core_web_sm`` (its
  default types: the 8 pattern types + LOCATION, ORGANIZATION, NRP, DATE_TIME,
  STREET_ADDRESS, ZIP_CODE, AGE).

Passages: the external labelled set (presidio-evaluator's generator, 1,500
sentences) and govern's own (357), tests/pii/data. Findings are scored on the
same passages: recall per broad type and retention (govern/pii/evaluation.py).
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

from govern.pii import PiiEngine, PiiSettings  # noqa: E402
from govern.pii.evaluation import (  # noqa: E402
    coverage,
    coverage_table,
    engine_predictions,
    load_passages,
    raw_predictions,
    raw_presidio,
)

DATA = ROOT / "tests" / "pii" / "data"
SETS = {"presidio": ["eval_presidio.jsonl"], "own": ["eval_faker.jsonl", "eval_hard.jsonl"]}
SETS["both"] = SETS["presidio"] + SETS["own"]


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
    ap.add_argument("--set", choices=sorted(SETS), default="both")
    ap.add_argument("--no-ner", action="store_true", help="pattern mode only")
    ap.add_argument("--ablation", action="store_true", help="also time govern pattern mode with each saver turned off")
    args = ap.parse_args(argv)

    passages = load_passages(*(DATA / f for f in SETS[args.set]))
    texts = [p.text for p in passages]
    ctxs = [p.context for p in passages]
    analyzer, anonymizer = raw_presidio()
    engine = PiiEngine(PiiSettings())
    n_raw_recs = len(analyzer.registry.recognizers)

    contenders: dict[str, object] = {
        f"raw Presidio, patterns ({n_raw_recs} recognizers)": lambda: run_raw(analyzer, anonymizer, texts),
        "govern pattern mode (mask_many)": lambda: engine.mask_many(texts, contexts=ctxs),
        "govern pattern mode (mask, one by one)": lambda: [engine.mask(x, context=c) for x, c in zip(texts, ctxs)],
    }
    ner = ner_analyzer = None
    if not args.no_ner:
        ner_analyzer, _ = raw_presidio("en_core_web_sm")
        ner = PiiEngine(PiiSettings(nlp_model="en_core_web_sm"))
        contenders["raw Presidio + spaCy sm"] = lambda: run_raw(ner_analyzer, anonymizer, texts)
        contenders["govern NER mode (mask_many)"] = lambda: ner.mask_many(texts, contexts=ctxs)
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
    names = list(contenders)
    raw_pat = n / timings[names[0]]
    raw_ner = n / timings["raw Presidio + spaCy sm"] if ner is not None else None
    print(f"{n} passages (set {args.set}), best of {args.rounds} interleaved rounds\n")
    print(f"{'':<46}{'passages/s':>12}{'x raw':>8}")
    for k, t in timings.items():
        base = raw_ner if ("NER" in k or "spaCy" in k) and raw_ner else raw_pat
        print(f"{k:<46}{n / t:>12.0f}{n / t / base:>8.2f}")
    print("(x raw: against raw Presidio with patterns; NER rows against raw Presidio + spaCy sm)\n")

    covs = {"Presidio patterns": coverage(passages, *raw_predictions(analyzer, passages))}
    covs["govern pattern"] = coverage(passages, *engine_predictions(engine, passages))
    if ner is not None:
        covs["Presidio + spaCy sm"] = coverage(passages, *raw_predictions(ner_analyzer, passages))
        covs["govern NER"] = coverage(passages, *engine_predictions(ner, passages))
    print(coverage_table(covs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
