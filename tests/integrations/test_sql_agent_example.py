"""examples/sql_agent.py on DuckDB and PostgreSQL: denied, told why, repaired, masked rows.

The rows it prints are gov.execute's for the same principal and the repaired query.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPAIRED = "SELECT id, name, email FROM customers ORDER BY id LIMIT 5"


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_sql_agent_repairs_and_gets_masked_rows(engine, request, demo_db_path, tmp_path):
    from govern import Governor
    from govern.audit import AuditTrail
    from tests.integrations.conftest import open_engine

    conn = open_engine(engine, demo_db_path, request)
    db = str(demo_db_path) if engine == "duckdb" else request.getfixturevalue("demo_pg_loaded")
    env = {**os.environ, "GOVERN_AUDIT_PATH": str(tmp_path / "audit.jsonl"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "sql_agent.py"), "--db", db], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "national_id" not in out.split("turn 1:")[0]  # the schema shown never lists it
    assert "denied; the model is told:" in out and "column customers.national_id is not permitted" in out
    assert f"turn 2: model asks\n  {REPAIRED}\n  allowed" in out
    gov = Governor.from_path(ROOT / "policies", audit=AuditTrail.null(), hash_key="example-hash-key")
    rows = gov.execute(conn, REPAIRED, gov.principal("eve")).rows
    conn.close()
    printed = out.split("allowed (rewritten and masked)")[1]
    assert rows and all(f"    {row}" in printed for row in rows)
    assert all(row[2].startswith("***") for row in rows)  # emails masked for eve
