"""check_sql against a bare sqlglot parse + generate of the same query, side by side in one run.

For every corpus query (../shared/corpus/text2sql/queries.jsonl) and one principal
of that database's test bundle, take the median of N timed runs (the cases taking turns run by run) of
  bare:     sqlglot.parse_one(sql, read=d).sql(dialect=d)
  governed: gov.check_sql(sql, principal, dialect=d)   (null audit sink)
interleaved so machine noise hits both alike, and print the distribution of the
ratio governed / bare. Also reports check_sql with the JSON-lines audit file on,
and with --breakdown where its time goes: each pass of the pipeline timed as
check_sql runs it, and what check_sql does after them (building the decision,
the audit record on the null sink), each timed directly.

    python benchmarks/bench_sql.py [--repeat 15] [--limit N] [--breakdown]
"""

from __future__ import annotations

import argparse
import json
import os
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

CORPUS = ROOT.parent / "shared" / "corpus" / "text2sql" / "queries.jsonl"
BUNDLES = ROOT / "tests" / "corpus" / "policies"


def interleaved_medians_ns(fns, repeat: int, best: list | None = None) -> list[float]:
    """Median time of each function, the functions taking turns run by run: load from other
    processes on the machine falls on all of them alike, not on whichever ran during a burst.
    ``best``, when given, receives each function's fastest run (the least disturbed one)."""
    times: list[list[int]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times):
            t = time.perf_counter_ns()
            fn()
            out.append(time.perf_counter_ns() - t)
    if best is not None:
        best[:] = [min(t) for t in times]
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--breakdown", action="store_true", help="also time each pass of the pipeline")
    args = parser.parse_args()
    os.environ.setdefault("GOVERN_HASH_KEY", "bench-key-bench-key")

    queries = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()][: args.limit]
    governors, principals, unverified = {}, {}, {}
    audited = {}
    with tempfile.TemporaryDirectory() as tmp:
        for db in sorted({q["db"] for q in queries}):
            governors[db] = Governor.from_path(BUNDLES / db, audit=AuditTrail.null())
            principals[db] = next(iter(governors[db].bundle.principals.values()))
            audited[db] = Governor.from_path(BUNDLES / db, audit=AuditTrail.to_file(Path(tmp) / f"{db}.jsonl"))
            unverified[db] = Governor.from_path(_without_output_check(BUNDLES / db, Path(tmp) / db), audit=AuditTrail.null())

        ratios, audit_ratios, fast_ratios, allowed, bare_us, governed_us, best_ratios = [], [], [], 0, [], [], []
        shares: dict[str, list[float]] = {}
        for q in queries:
            sql, dialect, db = q["sql"], q["dialect"], q["db"]
            try:
                sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect)
            except Exception:
                continue
            gov, who = governors[db], principals[db]
            allowed += gov.check_sql(sql, who, dialect=dialect).allowed
            for _ in range(2):  # warm caches on both sides
                sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect)
                gov.check_sql(sql, who, dialect=dialect)
            fastest: list[int] = []
            bare, governed, with_audit, fast = interleaved_medians_ns([
                lambda: sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect),
                lambda: gov.check_sql(sql, who, dialect=dialect),
                lambda: audited[db].check_sql(sql, who, dialect=dialect),
                lambda: unverified[db].check_sql(sql, who, dialect=dialect)], args.repeat, fastest)
            best_ratios.append(fastest[1] / fastest[0])
            fast_ratios.append(fast / bare)
            ratios.append(governed / bare)
            bare_us.append(bare / 1000)
            governed_us.append(governed / 1000)
            audit_ratios.append(with_audit / bare)
            if args.breakdown:
                steps = pass_times(gov, sql, who, dialect, args.repeat)
                steps["all passes together (sum of the medians)"] = sum(steps.values())
                for name, ns in steps.items():
                    shares.setdefault(name, []).append(ns / bare)

    def describe(name, values):
        qs = statistics.quantiles(values, n=20)
        print(f"{name:<34} median {statistics.median(values):5.2f}  p10 {qs[1]:5.2f}  p90 {qs[17]:5.2f}  max {max(values):5.2f}")

    print(f"sqlglot {sqlglot.__version__} (compiled: {_compiled()}); {len(ratios)} corpus queries, {allowed} allowed; median of {args.repeat} runs each")
    print(f"absolute medians: bare parse+generate {statistics.median(bare_us):.0f} us, check_sql {statistics.median(governed_us):.0f} us")
    describe("check_sql / bare parse+generate", ratios)
    describe("  the same, fastest run of each", best_ratios)
    describe("check_sql+audit file / bare", audit_ratios)
    describe("check_sql, verify_output off / bare", fast_ratios)
    if shares:
        print("where check_sql's time goes, each part / bare parse+generate of the same query (medians of ratios do not add up;"
              " what check_sql measures beyond their sum is not attributed: allocation, garbage collection, noise):")
        for name, values in shares.items():
            print(f"  {name:<45} median {statistics.median(values):5.2f}")


def pass_times(gov: Governor, sql: str, who, dialect: str, repeat: int) -> dict[str, float]:
    """Median time of each pass over ``repeat`` runs of the pipeline, run as check_sql runs it;
    a denied query has no time for the passes after the one that denied it."""
    from govern.errors import Denied
    from govern.sql.decision import SqlContext
    from govern.sql.passes import PASSES

    bundle = gov.bundle
    runs: dict[str, list[int]] = {step.__name__: [] for step in PASSES}
    runs["decision (SqlDecision)"], runs["audit record (null sink)"] = [], []
    for _ in range(repeat):
        ctx = SqlContext(sql=sql, principal=who, dialect=dialect, bundle=bundle, hash_key=gov.hash_key, handle_key=gov.hash_key,
                         roles=bundle.grants.expand_roles(tuple(who.roles)))
        reasons: list[str] = []
        for step in PASSES:
            start = time.perf_counter_ns()
            try:
                step(ctx)
            except Denied as denied:
                reasons = denied.reasons
                break
            finally:
                runs[step.__name__].append(time.perf_counter_ns() - start)
        # what check_sql does after the passes, timed the same way
        start = time.perf_counter_ns()
        decision = gov._decision(ctx, reasons)
        runs["decision (SqlDecision)"].append(time.perf_counter_ns() - start)
        start = time.perf_counter_ns()
        gov._audit_sql("check_sql", ctx, decision, time.perf_counter(), None)
        runs["audit record (null sink)"].append(time.perf_counter_ns() - start)
    return {name: statistics.median(times) for name, times in runs.items() if times}


def _without_output_check(bundle: Path, copy: Path) -> Path:
    """A copy of the bundle with settings.verify_output false."""
    import shutil

    import yaml

    shutil.copytree(bundle, copy)
    rules = yaml.safe_load((copy / "rules.yaml").read_text())
    rules.setdefault("settings", {})["verify_output"] = False
    (copy / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    return copy


def _compiled() -> bool:
    import sqlglot.parser

    return sqlglot.parser.__file__.endswith(".so")  # sqlglotc installs compiled modules in place


if __name__ == "__main__":
    main()
