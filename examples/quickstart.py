"""Quickstart: govern one LLM-written query for three principals on the embedded demo database.

    python examples/quickstart.py

Builds the demo DuckDB database in a temporary directory, loads the policy
bundle in ``policies/``, and shows what check_sql and execute return.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import duckdb

from govern import Governor, Principal, QueryDenied
from govern.demo.dataset import build_demo_db

ROOT = Path(__file__).resolve().parent.parent
SQL = """
WITH spend AS (
    SELECT customer_id, SUM(total) AS total_spend FROM orders GROUP BY customer_id
)
SELECT c.name, c.email, s.total_spend
FROM customers c JOIN spend s ON s.customer_id = c.id
ORDER BY s.total_spend DESC, c.id
LIMIT 3
"""


def main() -> None:
    # The demo bundle hashes emails for auditors; the key comes from the environment.
    os.environ.setdefault("GOVERN_HASH_KEY", secrets.token_hex(16))
    with tempfile.TemporaryDirectory() as tmp:
        db = build_demo_db(Path(tmp) / "demo.duckdb")
        gov = Governor.from_path(ROOT / "policies", audit=Path(tmp) / "audit.jsonl")
        conn = duckdb.connect(str(db), read_only=True)

        # A principal comes from your application's authentication, never from the LLM.
        eve = Principal("eve", ["sales_rep"], {"region": "EU", "tenant": "acme", "employee_id": 1})
        decision = gov.check_sql(SQL, eve, dialect="duckdb")
        print("allowed:", decision.allowed, "| policies:", ", ".join(decision.policies))
        print("governed SQL:", decision.sql[:160], "...")

        for principal in (eve, gov.principal("sam"), gov.principal("ada")):
            try:
                result = gov.execute(conn, SQL, principal)
                print(f"{principal.id}: {result.rows}")
            except QueryDenied as denied:
                print(f"{principal.id}: denied: {'; '.join(denied.decision.reasons)}")

        denied = gov.check_sql("SELECT name, national_id FROM customers", eve)
        print("denied is not empty:", denied.allowed, denied.reasons)
        masked = gov.mask_text("Ticket from Ann Lee <ann.lee@example.com>, card 4111 1111 1111 1111",
                               gov.principal("ada"), context={"names": ["Ann Lee"]})
        print("masked passage:", masked.text)


if __name__ == "__main__":
    main()
