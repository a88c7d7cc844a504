"""Write the per-dialect allowlists of functions sqlglot does not model (govern/sql/functions/*.txt).

A function govern does not know is denied: it could read files, the network,
server state or the catalog, run SQL from a string, sleep, or change state.
Which functions an analyst may call is derived from each engine's own function
catalog, reviewed for side effects, not from what a test happened to use:

* DuckDB: ``duckdb_functions()`` scalar, aggregate and macro functions of the
  built-in schema ``main`` without side effects (``has_side_effects``), plus the
  side-effect-free volatile ones (``random``, ``uuid``) and ``error`` (it only
  raises; the fence analysis treats it as not leakproof).
* PostgreSQL: ``pg_proc`` functions of ``pg_catalog`` that are immutable or stable,
  return a value (not a set), and take no argument of a catalog-lookup type
  (``regclass``, ``oid``, ``regproc``, ``internal``, ...).
* SQLite: ``pragma_function_list`` (the functions this SQLite build has).
* MariaDB (``mysql``): ``information_schema.SQL_FUNCTIONS`` (MariaDB 10.6+: its built-in
  functions), less ``REVIEWED_OUT_MYSQL``: locks, replication waits, session and server
  state, password hashing, and the XML functions whose errors carry their argument
  (``EXTRACTVALUE(1, CONCAT('~', secret))``: the classic error-message exfiltration).

From each list the names govern denies on every dialect are removed
(``govern.sql.safety.DENIED_FUNCTIONS`` / ``DENIED_TYPED``), and the names
``REVIEWED_OUT`` below, found by reading the lists: catalog and session
readers, functions that run SQL from a string or reveal statistics of whole
tables. Run it again after upgrading an engine and review the diff:

    python scripts/gen_function_lists.py [--postgres DSN] [--mysql HOST] [--only DIALECT]
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import duckdb

from govern.sql.safety import DENIED_FUNCTIONS, DENIED_TYPED

OUT = Path(__file__).resolve().parent.parent / "govern" / "sql" / "functions"

REVIEWED_OUT = {
    # session, server and catalog state
    "current_setting", "current_schema", "current_schemas", "current_database", "current_catalog", "current_user",
    "current_role", "session_user", "user", "version", "getenv", "getvariable", "which_secret", "current_query",
    "current_query_id", "current_connection_id", "current_transaction_id", "col_description", "obj_description",
    "shobj_description", "format_type", "to_regclass", "to_regproc", "to_regprocedure", "to_regoper",
    "to_regoperator", "to_regtype", "to_regtypemod", "to_regrole", "to_regnamespace", "to_regcollation",
    "to_regconfig", "to_regdictionary", "txid_current", "txid_current_if_assigned", "txid_snapshot_xmin",
    "row_security_active", "acldefault", "aclexplode", "makeaclitem", "aclcontains", "aclinsert", "aclremove",
    "set_config", "current_localtime", "current_localtimestamp", "duckdb_api", "platform", "stats", "vector_type",
    "sql_auto_complete", "json_serialize_sql", "json_deserialize_sql", "json_execute_serialized_sql",
    "json_serialize_plan", "checkpoint", "force_checkpoint", "enum_code", "enum_first", "enum_last", "enum_range",
    "enum_range_boundary", "array_to_tsvector", "ts_stat", "ts_rewrite", "get_current_time", "get_current_timestamp",
    "sqlite_compileoption_get", "sqlite_compileoption_used", "sqlite_source_id", "sqlite_version", "changes",
    "total_changes", "last_insert_rowid", "fts3_tokenizer", "load_extension", "readfile", "writefile", "edit",
    "cursor_to_xml", "cursor_to_xmlschema", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
    "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema", "schema_to_xml", "schema_to_xmlschema",
    "schema_to_xml_and_xmlschema", "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
    "nextval", "currval", "setval", "lastval", "setseed", "write_log", "sleep_ms", "icu_calendar_names",
    "has_any_column_privilege", "has_column_privilege", "has_database_privilege", "has_function_privilege",
    "has_language_privilege", "has_schema_privilege", "has_sequence_privilege", "has_server_privilege",
    "has_table_privilege", "has_tablespace_privilege", "has_type_privilege", "has_foreign_data_wrapper_privilege",
    "has_parameter_privilege", "current_query_text", "current_role_name", "getpgusername", "getdatabaseencoding",
    "get_current_ts_config", "get_block_size", "index_key", "in_search_path", "shell_out", "shell_in",
    # call another function named by a string: govern could not check which
    "list_aggr", "list_aggregate", "array_aggr", "array_aggregate", "aggregate", "apply", "list_apply", "array_apply",
}
REVIEWED_OUT_MYSQL = {
    "get_lock", "release_lock", "release_all_locks", "is_free_lock", "is_used_lock", "master_gtid_wait",
    "master_pos_wait", "binlog_gtid_pos", "connection_id", "last_insert_id", "found_rows", "row_count", "database",
    "schema", "schemas", "session_user", "system_user", "name_const", "password", "old_password", "encrypt",
    "des_encrypt", "des_decrypt", "encode", "decode", "sys_guid", "uuid_short", "extractvalue", "updatexml",
    "wsrep_last_seen_gtid", "wsrep_last_written_gtid", "wsrep_sync_wait_upto_gtid", "concat_operator_oracle",
    "decode_oracle", "lpad_oracle", "ltrim_oracle", "replace_oracle", "rpad_oracle", "rtrim_oracle",
    "substr_oracle", "trim_oracle",
}
REVIEWED_OUT_PREFIXES = ("xml", "binary_upgrade", "gtsvector", "brin_", "gin_", "gist_", "spg_", "ts_debug")
REVIEWED_OUT_SUFFIXES = ("send", "recv", "_in", "_out", "handler", "_support", "typmodin", "typmodout")
# side effects in the engine's own words that still only compute (DuckDB's has_side_effects and
# PostgreSQL's volatile mark the clock and random numbers too)
HARMLESS_VOLATILE = {"random", "uuid", "uuidv4", "uuidv7", "gen_random_uuid", "error", "clock_timestamp",
                     "timeofday", "random_normal"}
CATALOG_TYPES = ("regclass", "regproc", "regprocedure", "regoper", "regoperator", "regtype", "regrole", "regnamespace",
                 "regconfig", "regdictionary", "regcollation", "oid", "internal", "cstring", "refcursor", "xid", "tid",
                 "cid", "pg_lsn", "pg_snapshot", "txid_snapshot", "anyelement[]")


def keep(name: str) -> bool:
    lower = name.lower()
    return (name.isidentifier() and not DENIED_FUNCTIONS.match(name) and name.upper() not in DENIED_TYPED
            and lower not in REVIEWED_OUT and not name.startswith("__") and not lower.startswith(REVIEWED_OUT_PREFIXES)
            and not lower.endswith(REVIEWED_OUT_SUFFIXES))


def duckdb_names() -> list[str]:
    conn = duckdb.connect()
    rows = conn.execute("""SELECT function_name, bool_or(has_side_effects) FROM duckdb_functions()
                           WHERE function_type IN ('scalar', 'aggregate', 'macro') AND schema_name = 'main'
                           AND database_name = 'system' GROUP BY 1""").fetchall()
    return sorted(name for name, effects in rows if keep(name) and (not effects or name in HARMLESS_VOLATILE))


def postgres_names(dsn: str) -> list[str]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute("""
            SELECT p.proname, bool_or((p.provolatile IN ('i', 's') OR p.proname = ANY(%s)) AND NOT p.proretset
                   AND format_type(p.prorettype, NULL) <> ALL(%s)
                   AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes) AS t(oid)
                                   WHERE format_type(t.oid, NULL) = ANY(%s)))
            FROM pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind IN ('f', 'a')
            GROUP BY 1""", [sorted(HARMLESS_VOLATILE), list(CATALOG_TYPES) + ["trigger", "event_trigger",
                                                                               "language_handler", "fdw_handler"],
                            list(CATALOG_TYPES)]).fetchall()
    return sorted(name for name, fine in rows if fine and keep(name))


def sqlite_names() -> list[str]:
    rows = sqlite3.connect(":memory:").execute("SELECT DISTINCT name FROM pragma_function_list").fetchall()
    return sorted(name for (name,) in rows if keep(name))


def mysql_names(host: str) -> tuple[list[str], str]:
    import pymysql

    conn = pymysql.connect(host=host, user="root", password="")
    try:
        cur = conn.cursor()
        cur.execute("SELECT VERSION()")
        version = cur.fetchone()[0]
        cur.execute("SELECT FUNCTION FROM information_schema.SQL_FUNCTIONS")
        rows = cur.fetchall()
    finally:
        conn.close()
    names = sorted({name.lower() for (name,) in rows if keep(name) and name.lower() not in REVIEWED_OUT_MYSQL})
    return names, f"MariaDB {version} information_schema.SQL_FUNCTIONS"


def write(dialect: str, names: list[str], source: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    header = (f"# Functions a governed {dialect} query may call that sqlglot does not model (one per line).\n"
              f"# Generated by scripts/gen_function_lists.py from {source}; reviewed. Do not edit by hand:\n"
              "# change REVIEWED_OUT there and regenerate.\n")
    (OUT / f"{dialect}.txt").write_text(header + "\n".join(names) + "\n")
    print(f"{dialect}: {len(names)} functions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="host=127.0.0.1 user=postgres dbname=test", help="a PostgreSQL DSN")
    parser.add_argument("--mysql", default="127.0.0.1", help="a MariaDB host (user root, no password)")
    parser.add_argument("--only", choices=["duckdb", "postgres", "sqlite", "mysql"], help="write one list only")
    args = parser.parse_args()
    if args.only in (None, "duckdb"):
        write("duckdb", duckdb_names(), f"DuckDB {duckdb.__version__} duckdb_functions()")
    if args.only in (None, "postgres"):
        write("postgres", postgres_names(args.postgres), "PostgreSQL pg_proc")
    if args.only in (None, "sqlite"):
        write("sqlite", sqlite_names(), f"SQLite {sqlite3.sqlite_version} pragma_function_list")
    if args.only in (None, "mysql"):
        write("mysql", *mysql_names(args.mysql))


if __name__ == "__main__":
    main()
