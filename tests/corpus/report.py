"""Print the corpus differential summary: ``python -m tests.corpus.report``.

Options: ``--engine postgres|duckdb|sqlite`` (repeatable; default: all, PostgreSQL
only when reachable), ``--db NAME`` (repeatable), ``--failures`` (describe each
failing outcome), ``--denials`` (list each denial with its reason),
``--all`` (describe every outcome that is not ``equal``).
"""

from __future__ import annotations

import argparse
import os
import sys

from . import ddl, harness, load, oracle


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.corpus.report", description=__doc__.splitlines()[0])
    ap.add_argument("--engine", action="append", choices=harness.ENGINES)
    ap.add_argument("--db", action="append", choices=ddl.DATABASES)
    ap.add_argument("--failures", action="store_true")
    ap.add_argument("--denials", action="store_true")
    ap.add_argument("--all", action="store_true")
    args = ap.parse_args(argv)

    os.environ["GOVERN_HASH_KEY"] = oracle.HASH_KEY
    dbs = args.db or list(ddl.DATABASES)
    engines = args.engine or list(harness.ENGINES)

    engs = []
    duck = None
    for name in engines:
        if name == "postgres":
            try:
                conn = load.pg_connect()
            except Exception as err:
                print(f"postgres: skipped ({type(err).__name__}: {err})", file=sys.stderr)
                continue
            e = harness.PostgresEngine(conn)
            e.setup(dbs)
            engs.append(e)
        if name in ("duckdb", "sqlite") and duck is None:
            duck = harness.DuckDBEngine()
            duck.setup(dbs)
        if name == "duckdb":
            engs.append(duck)
        if name == "sqlite":
            e = harness.SQLiteEngine(duck)
            e.setup(dbs)
            engs.append(e)

    outcomes: list[harness.Outcome] = []
    for eng in engs:
        for db in dbs:
            for pid in harness.principals(db):
                outcomes.extend(harness.run_case(eng, db, pid))

    print(harness.format_summary(outcomes))
    if args.denials or args.all:
        print("\nDenials (db, principal, status, reason): count")
        for (db, pid, status, reason), n in sorted(harness.denial_reasons(outcomes).items()):
            print(f"  {n:3d}  {db}/{pid}  {status}: {reason}")
    shown = [o for o in outcomes if (args.all and o.status != "equal") or (args.failures and o.failed)]
    for o in shown:
        print()
        print(o.describe())
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
