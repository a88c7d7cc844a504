"""How check_sql's time grows with the size of adversarial queries (issue: bounded analysis).

For each shape, queries of growing size are governed (null audit sink, demo bundle, the
auditor) and timed (median of --repeat runs); the script prints time against input size
(characters), the time per kilobyte at the smallest and the largest size, and the slope of a
least-squares fit of time on size. Linear growth shows as a flat time per KB; a query over the
bundle's work budget is denied ("query too complex") in bounded time and is reported as such.

Shapes: fan-out CTE chains (each CTE reads the previous one twice), chained SELECT * CTEs
joined USING, wide IN lists, deep derived-table nesting, deep correlated subqueries, wide
select lists, many-way joins, long OR chains.

    python benchmarks/bench_guard_scaling.py [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govern import Governor  # noqa: E402
from govern.audit import AuditTrail  # noqa: E402


def fan_out(n: int) -> str:
    parts = ["WITH q0 AS (SELECT id AS v FROM regions)"]
    parts += [f", q{i} AS (SELECT a.v FROM q{i - 1} a JOIN q{i - 1} b ON a.v = b.v)" for i in range(1, n)]
    return "".join(parts) + f" SELECT v FROM q{n - 1}"


def star_chain(n: int) -> str:
    parts = ["WITH c0 AS (SELECT * FROM customers)"]
    parts += [f", c{i} AS (SELECT * FROM c{i - 1} x JOIN c{i - 1} y USING (id))" for i in range(1, n)]
    return "".join(parts) + f" SELECT id FROM c{n - 1}"


def wide_in(n: int) -> str:
    return "SELECT id FROM orders WHERE id IN (" + ", ".join(str(i) for i in range(n)) + ")"


def deep_derived(n: int) -> str:
    sql = "SELECT id AS c0 FROM orders"
    for i in range(1, n):
        sql = f"SELECT c{i - 1} AS c{i} FROM ({sql}) s{i}"
    return sql


def deep_correlated(n: int) -> str:
    inner = "SELECT count(*) FROM regions r0 WHERE r0.id = o.id"
    for i in range(1, n):
        inner = f"SELECT count(*) FROM regions r{i} WHERE r{i}.id = o.id AND EXISTS ({inner})"
    return f"SELECT o.id, ({inner}) FROM orders o"


def wide_select(n: int) -> str:
    return "SELECT " + ", ".join(f"id + {i} AS c{i}" for i in range(n)) + " FROM orders"


def many_joins(n: int) -> str:
    joins = " ".join(f"JOIN orders o{i} ON o{i}.id = o0.id" for i in range(1, n))
    return f"SELECT o0.id FROM orders o0 {joins}"


def or_chain(n: int) -> str:
    return "SELECT id FROM orders WHERE " + " OR ".join(f"id = {i}" for i in range(n))


SHAPES = {
    "fan-out CTE chain": (fan_out, [10, 40, 160, 400]),
    "chained SELECT * CTEs": (star_chain, [5, 20, 80, 200]),
    "wide IN list": (wide_in, [100, 1_000, 10_000, 100_000]),
    "deep derived tables": (deep_derived, [10, 40, 100, 150]),
    "deep correlated subqueries": (deep_correlated, [5, 20, 60, 100]),
    "wide select list": (wide_select, [50, 200, 1_000, 4_000]),
    "many-way join": (many_joins, [5, 20, 80, 200]),
    "OR chain": (or_chain, [50, 200, 400, 2_000]),
}


def timed(gov: Governor, sql: str, principal, repeat: int) -> tuple[float, bool, str]:
    times, decision = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        decision = gov.check_sql(sql, principal, dialect="duckdb")
        times.append(time.perf_counter() - start)
    reason = "" if decision.allowed else decision.reasons[0][:60]
    return statistics.median(times), decision.allowed, reason


def slope(points: list[tuple[int, float]]) -> float:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the two smallest sizes of each shape only")
    args = parser.parse_args()
    gov = Governor.from_path(ROOT / "policies", audit=AuditTrail.null(), hash_key="bench-key")
    ada = gov.principal("ada")
    gov.check_sql("SELECT 1", ada)  # warm up
    print(f"{'shape':28} {'size (chars)':>13} {'ms':>9} {'us/KB':>9}  outcome")
    largest = 0
    for name, (build, sizes) in SHAPES.items():
        points = []
        for n in sizes[:2] if args.quick else sizes:
            sql = build(n)
            seconds, allowed, reason = timed(gov, sql, ada, args.repeat)
            points.append((len(sql), seconds))
            largest = max(largest, len(sql))
            per_kb = seconds * 1e6 / (len(sql) / 1024)
            print(f"{name:28} {len(sql):>13,} {seconds * 1e3:>9.2f} {per_kb:>9.1f}  {'governed' if allowed else reason}")
        first, last = points[0], points[-1]
        growth = (last[1] / last[0]) / (first[1] / first[0])
        print(f"{'':28} slope {slope(points) * 1e6 * 1024:.1f} us/KB; time per KB at the largest size / smallest: {growth:.2f}")
    print(f"largest input tried: {largest:,} characters")


if __name__ == "__main__":
    main()
