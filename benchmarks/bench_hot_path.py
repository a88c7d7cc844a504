"""The hot-path figures of issue 11 (item 7) in one run: each benchmark in turn, one command.

    python benchmarks/bench_hot_path.py [--quick]

  bench_sql.py          check_sql / a bare sqlglot parse + generate (target 1.5x), with --breakdown
  bench_bundle_size.py  10,000 grant lines against 10: load, first and steady check_sql (2x, 2x, 1.2x)
  bench_import.py       import govern, from_path + check_sql, against govern's dependencies; no Presidio/spaCy
  bench_audit.py        chained audit records written per second (target 50,000/s) beside plain structlog

Every figure is a ratio of cases timed side by side, taking turns, in the same process
(the audit target is a rate, shown beside the plain structlog rate of the same run).
--quick runs fewer queries, rounds and records (a check that they run, not figures to quote).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUNS = {
    "full": [["bench_sql.py", "--repeat", "9", "--breakdown"], ["bench_bundle_size.py"], ["bench_import.py"],
             ["bench_audit.py", "--fsync-n", "0"]],
    "quick": [["bench_sql.py", "--repeat", "3", "--limit", "20", "--breakdown"],
              ["bench_bundle_size.py", "--lines", "2000", "--rounds", "2", "--repeat", "3"], ["bench_import.py", "--runs", "1"],
              ["bench_audit.py", "--n", "5000", "--rounds", "1", "--fsync-n", "0"]],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for command in RUNS["quick" if args.quick else "full"]:
        print(f"=== python benchmarks/{' '.join(command)}", flush=True)
        subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]], check=True)


if __name__ == "__main__":
    main()
