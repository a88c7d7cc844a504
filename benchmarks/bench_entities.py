"""Extra rewrite cost of entity scopes next to plain row filters: same queries, one run.

Two governors over the same bundle, one as written (row filters + entity scopes)
and one with `entities` / `entity_scopes` removed (row filters only), govern the
same queries as the same principals, interleaved so machine noise hits both
alike; a bare sqlglot parse + generate is timed beside them. Query sets:

* demo: the demo questions and the adversarial SAME cases (tests/test_sql_adversarial.py)
  plus the entity cases (tests/test_entities.py), for eve, sam, tara and ada (policies/);
* corpus: every broker and car_dealership corpus query for each principal of
  their test bundles (tests/corpus/policies/), which scope a customer entity.

Times are check_sql with a null audit sink and warm template caches (the
steady state: templates are built once per table, role set and dialect).
The cold cost (first request: templates built) is reported separately.

    python benchmarks/bench_entities.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlglot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govern import Governor  # noqa: E402
from govern.audit import AuditTrail  # noqa: E402
from govern.bundle.loader import load_bundle  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "text2sql" / "queries.jsonl"
ENTITY_SECTIONS = re.compile(r"^(entities|entity_scopes):\n(?:(?:[ #].*)?\n)*", re.M)


def without_entities(bundle: Path, tmp: Path) -> Path:
    """A copy of ``bundle`` with the entities and entity_scopes sections removed."""
    out = tmp / bundle.name
    shutil.copytree(bundle, out)
    rules = out / "rules.yaml"
    text = ENTITY_SECTIONS.sub("", rules.read_text())
    rules.write_text(text)
    # principals keep their attributes; row filters are untouched
    return out


def median_ns(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t)
    return statistics.median(times)


def workloads():
    from govern.demo.questions import QUESTIONS
    from tests.test_entities import ENTITY_CASES
    from tests.test_sql_adversarial import SAME

    demo = [sql for _, sql in QUESTIONS] + list(SAME.values()) + list(ENTITY_CASES.values())
    yield "demo", ROOT / "policies", ["eve", "sam", "tara", "ada"], [(sql, "duckdb") for sql in demo]
    corpus = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    for db in ("broker", "car_dealership"):
        bundle = ROOT / "tests" / "corpus" / "policies" / db
        principals = [p.id for p in load_bundle(bundle).principals.values()]
        yield db, bundle, principals, [(q["sql"], q["dialect"]) for q in corpus if q["db"] == db]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("GOVERN_HASH_KEY", "bench-key-bench-key")
    print(f"sqlglot {sqlglot.__version__}; median of {args.repeat} runs per (query, principal); warm template caches")
    print(f"{'workload':<15}{'cases':>6}{'allowed':>8}  {'bare us':>8}{'rows us':>9}{'rows+ent us':>12}"
          f"  {'ent/rows':>8} (p10..p90)  {'rows/bare':>9}{'ent/bare':>9}  {'SQL chars x':>11}  {'cold ent/rows':>13}")
    all_ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, bundle, principal_ids, queries in workloads():
            scoped = Governor.from_path(bundle, audit=AuditTrail.null())
            plain = Governor.from_path(without_entities(bundle, Path(tmp)), audit=AuditTrail.null())
            assert scoped.bundle.rules.entity_scopes and not plain.bundle.rules.entity_scopes
            ratios, bare_us, plain_us, scoped_us, chars, cold = [], [], [], [], [], []
            cases = allowed = 0
            for pid in principal_ids:
                principal = scoped.principal(pid)
                for sql, dialect in queries:
                    try:
                        sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect)
                    except Exception:
                        continue
                    cases += 1
                    t0 = time.perf_counter_ns()
                    first_plain = plain.check_sql(sql, principal, dialect=dialect)
                    t1 = time.perf_counter_ns()
                    first_scoped = scoped.check_sql(sql, principal, dialect=dialect)
                    t2 = time.perf_counter_ns()
                    if not (first_plain.allowed and first_scoped.allowed):
                        continue  # denied (grant or attribute): both sides stop before the rewrite
                    allowed += 1
                    cold.append((t2 - t1) / max(t1 - t0, 1))
                    chars.append(len(first_scoped.sql) / len(first_plain.sql))
                    for _ in range(2):
                        plain.check_sql(sql, principal, dialect=dialect)
                        scoped.check_sql(sql, principal, dialect=dialect)
                    bare = median_ns(lambda: sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect), args.repeat)
                    p = median_ns(lambda: plain.check_sql(sql, principal, dialect=dialect), args.repeat)
                    s = median_ns(lambda: scoped.check_sql(sql, principal, dialect=dialect), args.repeat)
                    ratios.append(s / p)
                    bare_us.append(bare / 1000)
                    plain_us.append(p / 1000)
                    scoped_us.append(s / 1000)
            all_ratios += ratios
            q = statistics.quantiles(ratios, n=10)
            print(f"{name:<15}{cases:>6}{allowed:>8}  {statistics.median(bare_us):>8.0f}{statistics.median(plain_us):>9.0f}"
                  f"{statistics.median(scoped_us):>12.0f}  {statistics.median(ratios):>8.2f} ({q[0]:.2f}..{q[-1]:.2f})"
                  f"  {statistics.median(p / b for p, b in zip(plain_us, bare_us)):>9.2f}"
                  f"{statistics.median(s / b for s, b in zip(scoped_us, bare_us)):>9.2f}"
                  f"  {statistics.median(chars):>11.2f}  {statistics.median(cold):>13.2f}")
    print(f"all allowed cases: check_sql with entity scopes / with row filters only: median {statistics.median(all_ratios):.2f}, "
          f"max {max(all_ratios):.2f} ({len(all_ratios)} cases)")


if __name__ == "__main__":
    main()
