"""`govern catalog classify`: propose a PII classification for a database's columns (see govern.classify)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from govern.cli.args import EXIT_ERROR, add_format


def register(sub) -> None:
    catalog = sub.add_parser("catalog", help="work with the catalog: classify a database's columns")
    verbs = catalog.add_subparsers(dest="catalog_cmd", required=True)
    classify = verbs.add_parser(
        "classify", help="introspect a database and propose a catalog.yaml with PII classes, for review",
        description="Introspect a DuckDB file, SQLite file or PostgreSQL URL and write a catalog.yaml that "
                    "proposes a PII type (or free_text) per column, from its name and a sample of its values, "
                    "with the evidence as comments. Review it before you commit it to a bundle.")
    classify.add_argument("--db", required=True, help="DuckDB file, SQLite file (.sqlite/.db) or postgresql:// URL")
    classify.add_argument("--schema", default=None, help="schema to introspect (default: main / public)")
    classify.add_argument("--sample", type=int, default=200, help="values sampled per column (default 200)")
    classify.add_argument("--policies", default=None,
                          help="a bundle whose pii settings drive detection (default: govern's defaults)")
    classify.add_argument("-o", "--out", default="-", help="where to write catalog.yaml (default: stdout)")
    add_format(classify, help="text: the proposed catalog.yaml; json: the proposals with their evidence (default text)")
    classify.set_defaults(func=run)


def connect(target: str):
    if target.startswith(("postgresql://", "postgres://")) or target.startswith("host="):
        import psycopg

        return psycopg.connect(target)
    path = Path(target)
    if not path.exists():
        raise FileNotFoundError(f"{target}: no such database file")
    if path.suffix in (".sqlite", ".sqlite3", ".db"):
        import sqlite3

        return sqlite3.connect(str(path))
    import duckdb

    return duckdb.connect(str(path), read_only=True)


def run(args: argparse.Namespace) -> int:
    try:
        conn = connect(args.db)
    except Exception as err:  # noqa: BLE001 - a user mistake: one line, exit 2 (before Presidio loads and talks)
        print(f"govern: cannot open {args.db}: {err}", file=sys.stderr)
        return EXIT_ERROR
    from govern.bundle import Catalog
    from govern.classify import catalog_yaml, classify
    from govern.pii import PiiEngine
    from govern.pii.settings import PiiSettings

    settings = PiiSettings()
    if args.policies:
        from govern.bundle import load_bundle

        settings = load_bundle(args.policies).rules.pii
    catalog = Catalog.introspect(conn, args.schema)
    proposals = classify(conn, catalog, PiiEngine(settings), sample=args.sample)
    if args.format == "json":
        import dataclasses
        import json

        text = json.dumps([dataclasses.asdict(p) if dataclasses.is_dataclass(p) else p.__dict__ for p in proposals],
                          indent=2, default=str) + "\n"
    else:
        text = catalog_yaml(catalog, proposals)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text)
        found = sum(1 for p in proposals if p.pii or p.free_text)
        print(f"wrote {args.out}: {found} of {len(proposals)} text columns classified; review it before use",
              file=sys.stderr)
    return 0
