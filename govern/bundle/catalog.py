"""The catalog: which tables and columns exist, their types and PII classes.

Read from ``catalog.yaml`` or introspected from a DB-API connection. Names are
matched case-insensitively; the stored spelling is what governed SQL emits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from govern.bundle.models import CatalogFile, ForeignKeySpec, ForeignKeyTarget

# Top-level module names of MySQL / MariaDB DB-API drivers.
MYSQL_DRIVERS = frozenset({"pymysql", "mysql", "MySQLdb"})
# Schemas an unqualified catalog entry also answers to when a query qualifies it.
DEFAULT_SCHEMAS = frozenset({"main", "public"})


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "VARCHAR"
    pii: str | None = None
    free_text: bool = False


# eq=False: tables compare and hash by identity, so they can key authorization caches.
@dataclass(frozen=True, eq=False)
class Table:
    name: str
    columns: tuple[Column, ...]
    schema: str | None = None
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKeySpec, ...] = ()
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name.lower(): c for c in self.columns})

    def column(self, name: str) -> Column | None:
        return self._by_name.get(name.lower())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def has_pii(self) -> bool:
        """Some column is classified as a PII type (computed once: requests ask every time)."""
        return any(c.pii for c in self.columns)

    @cached_property
    def has_free_text(self) -> bool:
        """Some column is free text (computed once)."""
        return any(c.free_text for c in self.columns)


class Catalog:
    def __init__(self, tables: list[Table]):
        self.tables: dict[str, Table] = {}
        for table in tables:
            key = table.name.lower()
            if key in self.tables:
                raise ValueError(f"table {table.name!r} is listed twice (names are case-insensitive)")
            self.tables[key] = table

    def table(self, name: str, schema: str | None = None) -> Table | None:
        """The catalog entry for ``[schema.]name``, or None when there is none."""
        table = self.tables.get(name.lower())
        if table is None or schema is None:
            return table
        wanted = schema.lower()
        if table.schema is not None:
            return table if table.schema.lower() == wanted else None
        return table if wanted in DEFAULT_SCHEMAS else None

    def did_you_mean(self, name: str) -> str:
        """`` (did you mean 'x'?)`` naming the closest catalog table to ``name``, or ''."""
        import difflib

        names = {t.name.lower(): t.name for t in self}
        close = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.75)
        return f" (did you mean {names[close[0]]!r}?)" if close else ""

    def __iter__(self):
        return iter(self.tables.values())

    def __len__(self) -> int:
        return len(self.tables)

    @classmethod
    def from_file(cls, spec: CatalogFile) -> Catalog:
        return cls(
            [
                Table(
                    name=name,
                    schema=t.schema_,
                    columns=tuple(Column(c.name, c.type, c.pii, c.free_text) for c in t.columns),
                    primary_key=tuple(t.primary_key),
                    foreign_keys=tuple(t.foreign_keys),
                )
                for name, t in spec.tables.items()
            ]
        )

    @classmethod
    def introspect(cls, conn, schema: str | None = None) -> Catalog:
        """Read tables, columns, primary and foreign keys from a DuckDB, PostgreSQL (psycopg), sqlite3 or
        MySQL/MariaDB (PyMySQL, mysql-connector) connection; on MySQL the schema is a database (default:
        the connection's current one).

        Foreign keys are what entity member paths are suggested from
        (govern.entities); keys to tables outside ``schema`` are left out.
        """
        kind = type(conn).__module__.split(".")[0].lstrip("_")
        if kind == "sqlite3":
            return cls(_introspect_sqlite(conn))
        if kind in MYSQL_DRIVERS:
            if schema is None:
                cur = conn.cursor()
                cur.execute("SELECT DATABASE()")
                schema = cur.fetchone()[0]
                if schema is None:
                    raise ValueError("the MySQL connection has no current database; pass schema=")
            keys = _keys_mysql(conn, schema)
            return cls([_with_keys(t, *keys.get(t.name, ((), ()))) for t in _introspect_information_schema(conn, schema)])
        schema = schema or ("public" if kind == "psycopg" else "main")
        keys = _keys_postgres(conn, schema) if kind == "psycopg" else _keys_duckdb(conn, schema)
        return cls([_with_keys(t, *keys.get(t.name, ((), ()))) for t in _introspect_information_schema(conn, schema)])


def _introspect_information_schema(conn, schema: str) -> list[Table]:
    cur = conn.cursor()
    # The schema name is a bound parameter; both DuckDB and psycopg accept %s / ? differently,
    # so pick the paramstyle of the driver.
    mark = "?" if type(conn).__module__.lstrip("_").startswith("duckdb") else "%s"
    cur.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = {mark} ORDER BY table_name, ordinal_position",
        (schema,),
    )
    columns: dict[str, list[Column]] = {}
    for table, column, dtype in cur.fetchall():
        columns.setdefault(table, []).append(Column(column, str(dtype).upper()))
    return [Table(name=t, schema=schema, columns=tuple(cols)) for t, cols in columns.items()]


def _with_keys(table: Table, primary_key: tuple[str, ...], foreign_keys: tuple[ForeignKeySpec, ...]) -> Table:
    return Table(name=table.name, columns=table.columns, schema=table.schema, primary_key=primary_key, foreign_keys=foreign_keys)


def _fk(columns, table: str, referenced) -> ForeignKeySpec:
    return ForeignKeySpec(columns=list(columns), references=ForeignKeyTarget(table=table, columns=list(referenced)))


Keys = dict[str, tuple[tuple[str, ...], tuple[ForeignKeySpec, ...]]]  # table -> (primary key, foreign keys)


def _keys_duckdb(conn, schema: str) -> Keys:
    rows = conn.execute(
        "SELECT table_name, constraint_type, constraint_column_names, referenced_table, referenced_column_names "
        "FROM duckdb_constraints() WHERE schema_name = ? AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') "
        "ORDER BY table_name, constraint_index",
        [schema],
    ).fetchall()
    return _collect((t, kind == "PRIMARY KEY", cols, ref, ref_cols) for t, kind, cols, ref, ref_cols in rows)


def _keys_postgres(conn, schema: str) -> Keys:
    # pg_constraint keeps the column order of multi-column keys (information_schema does not pair them).
    cur = conn.cursor()
    cur.execute(
        "SELECT c.relname, k.contype = 'p', "
        "  ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(n, i) "
        "        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i), "
        "  r.relname::text, "
        "  ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS u(n, i) "
        "        JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) "
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace s ON s.oid = c.relnamespace "
        "LEFT JOIN pg_class r ON r.oid = k.confrelid LEFT JOIN pg_namespace rs ON rs.oid = r.relnamespace "
        "WHERE s.nspname = %s AND k.contype IN ('p', 'f') AND (k.contype = 'p' OR rs.nspname = s.nspname) "
        "ORDER BY c.relname, k.conname",
        (schema,),
    )
    return _collect(cur.fetchall())


def _keys_mysql(conn, schema: str) -> Keys:
    cur = conn.cursor()
    cur.execute(
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, c.CONSTRAINT_TYPE = 'PRIMARY KEY', k.COLUMN_NAME, "
        "       k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME "
        "FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.TABLE_CONSTRAINTS c "
        "  ON c.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME "
        " AND c.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "WHERE k.TABLE_SCHEMA = %s AND c.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'FOREIGN KEY') "
        "  AND (c.CONSTRAINT_TYPE = 'PRIMARY KEY' OR k.REFERENCED_TABLE_SCHEMA = k.TABLE_SCHEMA) "
        "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        (schema,),
    )
    grouped: dict[tuple[str, str], list] = {}
    for table, name, is_primary, column, referenced, referenced_column in cur.fetchall():
        entry = grouped.setdefault((table, name), [table, bool(is_primary), [], referenced, []])
        entry[2].append(column)
        if referenced_column is not None:
            entry[4].append(referenced_column)
    return _collect(tuple(e) for e in grouped.values())


def _collect(rows) -> Keys:
    out: dict[str, tuple[tuple[str, ...], list[ForeignKeySpec]]] = {}
    for table, is_primary, columns, referenced, referenced_columns in rows:
        pk, fks = out.setdefault(table, ((), []))
        if is_primary:
            out[table] = (tuple(columns), fks)
        elif referenced and columns and len(columns) == len(referenced_columns or ()):
            fks.append(_fk(columns, referenced, referenced_columns))
    return {t: (pk, tuple(fks)) for t, (pk, fks) in out.items()}


def _introspect_sqlite(conn) -> list[Table]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )]
    tables = []
    for name in names:
        info = conn.execute("SELECT name, type, pk FROM pragma_table_info(?)", (name,)).fetchall()
        cols = tuple(Column(c[0], (c[1] or "VARCHAR").upper()) for c in info)
        pk = tuple(c[0] for c in sorted((c for c in info if c[2]), key=lambda c: c[2]))
        tables.append(Table(name=name, columns=cols, primary_key=pk, foreign_keys=_sqlite_foreign_keys(conn, name)))
    return tables


def _sqlite_foreign_keys(conn, table: str) -> tuple[ForeignKeySpec, ...]:
    rows = conn.execute('SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq', (table,)).fetchall()
    grouped: dict[int, list[tuple]] = {}
    for fk_id, _, target, source, referenced in rows:
        grouped.setdefault(fk_id, []).append((target, source, referenced))
    out = []
    for parts in grouped.values():
        target = parts[0][0]
        referenced = [r for _, _, r in parts]
        if any(r is None for r in referenced):  # REFERENCES t without columns: t's primary key
            info = conn.execute("SELECT name, pk FROM pragma_table_info(?)", (target,)).fetchall()
            referenced = [c[0] for c in sorted((c for c in info if c[1]), key=lambda c: c[1])]
        if len(referenced) == len(parts):
            out.append(_fk([s for _, s, _ in parts], target, referenced))
    return tuple(out)


def catalog_problems(spec: CatalogFile, where) -> list[str]:
    """Inconsistencies in catalog.yaml, as 'file:line: message' (``where``: YAML path -> 'file:line').

    Duplicate columns would be projected twice; keys naming nothing would make
    entity paths silently wrong.
    """
    problems = []
    tables = {name.lower(): t for name, t in spec.tables.items()}
    for name, table in spec.tables.items():
        at = ("tables", name)
        seen: dict[str, int] = {}
        for j, column in enumerate(table.columns):
            if column.name.lower() in seen:
                problems.append(f"{where(at + ('columns', j))}: table {name!r} lists column {column.name!r} twice (names are case-insensitive)")
            seen.setdefault(column.name.lower(), j)
        for j, key in enumerate(table.primary_key):
            if key.lower() not in seen:
                problems.append(f"{where(at + ('primary_key', j))}: primary key of {name!r} names {key!r}, which is not one of its columns")
        for k, fk in enumerate(table.foreign_keys):
            for column in fk.columns:
                if column.lower() not in seen:
                    problems.append(f"{where(at + ('foreign_keys', k))}: foreign key of {name!r} names {column!r}, which is not one of its columns")
            target = tables.get(fk.references.table.lower())
            if target is None:
                problems.append(f"{where(at + ('foreign_keys', k))}: foreign key of {name!r} references table {fk.references.table!r}, which is not in the catalog")
                continue
            names = {c.name.lower() for c in target.columns}
            for column in fk.references.columns:
                if column.lower() not in names:
                    problems.append(f"{where(at + ('foreign_keys', k))}: foreign key of {name!r} references {fk.references.table}.{column}, which does not exist")
    return problems
