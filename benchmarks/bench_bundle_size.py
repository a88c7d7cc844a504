"""A 10,000-line grants bundle next to a 10-line one, side by side in one run.

Both bundles are the demo bundle (policies/) with its grants.csv replaced, written
to a temporary directory:

  small: 10 lines, the grants of the benchmark principal's role (eve, sales_rep);
  large: the same 10 lines and 9,990 more for 2,000 other roles (columns and table
         wildcards of the catalog, allows and denies, and `g` lines among those roles).

Interleaved rounds; each figure is the fastest of its runs (the least disturbed by the
other processes on the machine: on a shared machine medians spread far more than the
difference measured):
  load          Governor.from_path (read, validate, compile; grants indexed by role)
  first         the first check_sql of a freshly loaded governor
  steady        check_sql once the caches are warm, per demo query

and the ratio large / small of each (targets: load and first within 2x, steady 1.2x).

    python benchmarks/bench_bundle_size.py [--lines 10000] [--rounds 5] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govern import Governor  # noqa: E402
from govern.audit import AuditTrail  # noqa: E402

QUERIES = [
    "SELECT name, region FROM customers WHERE segment = 'enterprise'",
    "SELECT c.name, SUM(o.total) AS revenue FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name",
    "SELECT o.id, o.status FROM orders o WHERE o.ordered_at >= DATE '2024-01-01' ORDER BY o.id DESC LIMIT 10",
    "SELECT * FROM employees",
    "SELECT t.subject FROM support_tickets t WHERE t.customer_id IN (SELECT id FROM customers WHERE region = 'EU')",
]

SMALL = [
    "g, sales_lead, sales_rep",
    "p, sales_rep, regions.*, select, allow",
    "p, sales_rep, employees.*, select, allow",
    "p, sales_rep, customers.*, select, allow",
    "p, sales_rep, customers.national_id, select, deny",
    "p, sales_rep, accounts.*, select, allow",
    "p, sales_rep, orders.*, select, allow",
    "p, sales_rep, order_items.*, select, allow",
    "p, sales_rep, support_tickets.*, select, allow",
    "p, sales_rep, support_tickets.body, select, deny",
]


def padding(n: int, tables: dict[str, list[str]], seed: int = 7) -> list[str]:
    """``n`` grant lines for roles r0..r1999 over the catalog's tables and columns."""
    rnd = random.Random(seed)
    names = sorted(tables)
    lines = []
    for i in range(n):
        role = f"r{i % 2000}"
        if i % 50 == 49:
            lines.append(f"g, {role}, r{rnd.randrange(2000)}x")  # a parent role of its own: no cycles
            continue
        table = rnd.choice(names)
        obj = f"{table}.*" if i % 7 == 0 else f"{table}.{rnd.choice(tables[table])}"
        lines.append(f"p, {role}, {obj}, select, {'deny' if i % 11 == 0 else 'allow'}")
    return lines


def write_bundle(dst: Path, lines: list[str]) -> Path:
    shutil.copytree(ROOT / "policies", dst, ignore=shutil.ignore_patterns("tests"))
    (dst / "grants.csv").write_text("\n".join(lines) + "\n")
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("GOVERN_HASH_KEY", "bench-key-bench-key")

    with tempfile.TemporaryDirectory() as tmp:
        small_dir = write_bundle(Path(tmp) / "small", SMALL)
        catalog = Governor.from_path(small_dir, audit=AuditTrail.null()).bundle.catalog
        tables = {t.name: [c.name for c in t.columns] for t in catalog}
        large_dir = write_bundle(Path(tmp) / "large", SMALL + padding(args.lines - len(SMALL), tables))
        dirs = {"small": small_dir, "large": large_dir}
        load, first = {k: [] for k in dirs}, {k: [] for k in dirs}
        governors = {}
        for r in range(args.rounds):
            for name in (("small", "large") if r % 2 == 0 else ("large", "small")):  # no position bias
                t = time.perf_counter()
                gov = Governor.from_path(dirs[name], audit=AuditTrail.null())
                load[name].append(time.perf_counter() - t)
                who = gov.principal("eve")
                t = time.perf_counter()
                decision = gov.check_sql(QUERIES[1], who)
                first[name].append(time.perf_counter() - t)
                assert decision.allowed, decision.reasons
                governors[name] = gov
        steady = []
        for sql in QUERIES:
            runs = {k: [] for k in dirs}
            for gov in governors.values():
                assert gov.check_sql(sql, gov.principal("eve")).allowed
            for _ in range(args.repeat):
                for name, gov in governors.items():
                    who = gov.principal("eve")
                    t = time.perf_counter_ns()
                    gov.check_sql(sql, who)
                    runs[name].append(time.perf_counter_ns() - t)
            steady.append((min(runs["large"]), min(runs["small"])))

    def best(xs):
        return min(xs)

    n_large = len(SMALL) + args.lines - len(SMALL)
    print(f"grants bundle size: {n_large:,} lines against {len(SMALL)}; fastest of {args.rounds} interleaved rounds; "
          f"steady: fastest of {args.repeat} runs of each of {len(QUERIES)} demo queries as eve (sales_rep)")
    print(f"{'':28}{'10 lines':>12}{f'{n_large:,} lines':>14}{'ratio':>8}  target")
    for label, values, target in (("load (from_path)", load, 2.0), ("first check_sql", first, 2.0)):
        s, lg = best(values["small"]), best(values["large"])
        print(f"{label:28}{s * 1000:10.1f}ms{lg * 1000:12.1f}ms{lg / s:7.2f}x  <= {target}x {'ok' if lg / s <= target else 'ABOVE'}")
    ratios = [lg / s for lg, s in steady]
    med = statistics.median
    s_us, lg_us = med([s for _, s in steady]) / 1000, med([lg for lg, _ in steady]) / 1000
    print(f"{'steady check_sql':28}{s_us:10.0f}us{lg_us:12.0f}us{med(ratios):7.2f}x  <= 1.2x "
          f"{'ok' if med(ratios) <= 1.2 else 'ABOVE'} (median over the queries; max {max(ratios):.2f}x)")


if __name__ == "__main__":
    main()
