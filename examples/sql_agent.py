"""A text-to-SQL agent's repair loop under govern, with a scripted stand-in for the model (no network).

The "model" is shown only the schema its principal may see (gov.schema_for), asks
for a column it may not read, receives the denial's reasons, rewrites its query
without the columns they name, and gets masked rows. Run:

    python examples/sql_agent.py                          # the demo DuckDB database (built here)
    python examples/sql_agent.py --db postgresql://...    # a database holding the demo (schema main)

Any LLM slots in where ``StandInModel.next_query`` is: it gets the schema text, the
question and the last tool result, and returns SQL.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import sqlglot
from sqlglot import exp

from govern import Governor
from govern.adapters.sql_tools import GovernedSql, denial_text
from govern.errors import QueryDenied

POLICIES = Path(__file__).resolve().parent.parent / "policies"


class StandInModel:
    """Plays the LLM: first asks for everything the question mentions, then repairs from the reasons."""

    def __init__(self, dialect: str):
        self.dialect = dialect

    def next_query(self, schema: str, question: str, last_result: str | None, last_sql: str | None) -> str:
        if last_sql is None:  # a first attempt that ignores the schema it was shown, as models do
            return "SELECT id, name, email, national_id FROM customers ORDER BY id LIMIT 5"
        # The reasons name the columns (`column customers.national_id is not permitted ...`): drop them.
        refused = {m.split(".")[-1].lower() for m in re.findall(r"column ([\w.]+) is not permitted", last_result or "")}
        tree = sqlglot.parse_one(last_sql, read=self.dialect)
        tree.set("expressions", [e for e in tree.expressions if not (isinstance(e, exp.Column) and e.name.lower() in refused)])
        return tree.sql(dialect=self.dialect)


def connect(db: str | None):
    if db and db.startswith(("postgresql://", "postgres://", "host=")):
        import psycopg

        return psycopg.connect(db, autocommit=True)
    import duckdb

    if db is None:
        from govern.demo.dataset import build_demo_db

        db = str(build_demo_db(Path(tempfile.mkdtemp()) / "demo.duckdb"))
    return duckdb.connect(db, read_only=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="postgresql:// URL or DuckDB file holding the demo data (default: built here)")
    parser.add_argument("--as", dest="principal", default="eve", help="demo principal (default eve)")
    args = parser.parse_args()

    gov = Governor.from_path(POLICIES, hash_key="example-hash-key")
    conn = connect(args.db)
    tools = GovernedSql(gov, conn, gov.principal(args.principal))  # the principal comes from the app, never the model
    model = StandInModel(tools.dialect)
    question = "Who are our first five customers, with their national ids?"
    schema = tools.schema().text
    print(f"-- the schema shown to the model ({args.principal}, {tools.dialect}):\n{schema}\n")

    last_sql = last_result = None
    for turn in range(1, 4):
        sql = model.next_query(schema, question, last_result, last_sql)
        print(f"turn {turn}: model asks\n  {sql}")
        try:
            result = tools.execute(sql)
        except QueryDenied as err:
            last_sql, last_result = sql, denial_text(err)
            print("  denied; the model is told:\n    " + last_result.replace("\n", "\n    "))
            continue
        print(f"  allowed (rewritten and masked); columns {result.columns}")
        for row in result.rows:
            print(f"    {row}")
        print(f"  audit record {result.decision.audit_id}")
        break
    else:
        raise SystemExit("the model did not repair its query")
    conn.close()


if __name__ == "__main__":
    main()
