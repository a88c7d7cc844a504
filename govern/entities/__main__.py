"""Suggest entity members from foreign keys: ``python -m govern.entities SOURCE TABLE [KEY]``.

SOURCE is a bundle directory (its ``catalog.yaml``), a ``.duckdb`` file or a
SQLite file (introspected). Prints an ``entities:`` entry for rules.yaml with
every table that has a foreign-key path to ``TABLE.KEY``; ambiguous members
are listed with their candidate paths, commented out, to choose from.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from govern.bundle.catalog import Catalog
from govern.bundle.entity_paths import path_yaml, suggest_members


def load_catalog(source: Path) -> Catalog:
    if source.is_dir():
        from govern.bundle.models import CatalogFile
        from govern.bundle.yaml_source import load_yaml

        return Catalog.from_file(CatalogFile.model_validate(load_yaml(source / "catalog.yaml").data))
    if source.suffix == ".duckdb":
        import duckdb

        with duckdb.connect(str(source), read_only=True) as conn:
            return Catalog.introspect(conn)
    import sqlite3

    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        return Catalog.introspect(conn)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m govern.entities", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("table")
    parser.add_argument("key", nargs="?")
    args = parser.parse_args(argv)
    catalog = load_catalog(args.source)
    table = catalog.table(args.table)
    if table is None:
        print(f"unknown table {args.table!r}", file=sys.stderr)
        return 2
    key = args.key or (table.primary_key[0] if len(table.primary_key) == 1 else None)
    if key is None:
        print(f"{table.name} has no single-column primary key: name the key", file=sys.stderr)
        return 2
    print("entities:")
    print(f"  - name: {table.name.rstrip('s') or table.name}")
    print(f"    table: {table.name}")
    print(f"    key: {key}")
    print("    members:")
    for member, paths in sorted(suggest_members(catalog, table, key).items()):
        if len(paths) == 1:
            print(f"      - table: {member}")
            print(f"        path: {path_yaml(paths[0])}".replace("'", '"'))
        else:
            print(f"      # {member}: {len(paths)} paths of {len(paths[0])} hop(s); keep one:")
            for path in paths:
                print(f"      # - {{table: {member}, path: {path_yaml(path)}}}".replace("'", '"'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
