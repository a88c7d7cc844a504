"""What `import govern` and loading a bundle cost, side by side in one run.

Each case runs in a fresh interpreter (nothing imported yet) and times itself from
inside, so interpreter start-up is left out; cases are interleaved, median of N:

  deps          import sqlglot, casbin, pydantic, structlog, yaml (what govern's SQL path needs)
  govern        import govern
  govern+load   import govern, Governor.from_path(policies/), one check_sql
  pii stack     import presidio_analyzer, presidio_anonymizer, spacy (what a PII feature loads)

and whether Presidio or spaCy is in sys.modules after govern+load (it must not be:
they load on the first use of a PII feature; tests/test_import_cost.py asserts it).

    python benchmarks/bench_import.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRELUDE = "import time, sys, json\nt = time.perf_counter()\n"
CASES = {
    "deps": "import sqlglot, casbin, pydantic, structlog, yaml",
    "govern": "import govern",
    "govern+load": ("import govern\nfrom govern.audit import AuditTrail\n"
                    f"gov = govern.Governor.from_path({str(ROOT / 'policies')!r}, audit=AuditTrail.null(), hash_key='bench-key-bench')\n"
                    "gov.check_sql('SELECT name FROM customers', gov.principal('eve'))"),
    "pii stack": "import presidio_analyzer, presidio_anonymizer, spacy",
}
EPILOGUE = ("\nheavy = sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('presidio_analyzer', 'spacy')})\n"
            "print(json.dumps([time.perf_counter() - t, heavy]))")


def run(code: str) -> tuple[float, list[str]]:
    out = subprocess.run([sys.executable, "-c", PRELUDE + code + EPILOGUE], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    heavy: dict[str, list[str]] = {}
    for _ in range(args.runs):
        for name, code in CASES.items():
            seconds, heavy[name] = run(code)
            times[name].append(seconds)
    med = {name: statistics.median(values) for name, values in times.items()}
    print(f"import cost, fresh interpreter per run, median of {args.runs} interleaved runs")
    for name in CASES:
        print(f"  {name:<14}{med[name] * 1000:8.0f} ms  {med[name] / med['deps']:5.2f}x deps")
    print(f"presidio/spaCy loaded after import govern + from_path + check_sql: {heavy['govern+load'] or 'no'}")
    print(f"loading them would add {med['pii stack'] / med['govern+load']:.1f}x the cost of import + load + check_sql")


if __name__ == "__main__":
    main()
