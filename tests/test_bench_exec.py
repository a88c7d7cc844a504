"""benchmarks/bench_exec.py at a tiny scale: its three variants are a differential test.

For every demo principal and every shape, the governed SQL, the hand-written query
with the filters inline and (on PostgreSQL) the query under native row-level
security built from the bundle must return the same rows; a baseline that drifted
from the bundle would make the benchmark's ratios meaningless.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.conftest import connect_postgres_or_skip

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_exec.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_exec", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_variants_return_the_same_rows(engine, capsys):
    if engine == "postgres":
        connect_postgres_or_skip().close()
    results = load_bench().bench(["--scale", "0.0005", "--repeat", "1", "--budget", "0", "--engines", engine])
    timed = [r for r in results if not r.get("denied")]
    assert len(timed) == 61 and len(results) - len(timed) == 34
    for r in timed:
        assert not r["failed"], (r["principal"], r["shape"], r["failed"])
        assert r["same_rows"], (r["principal"], r["shape"])
