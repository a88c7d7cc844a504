"""A policy bundle compiled to PostgreSQL row-level security: reviewable DDL, and what does not compile.

``compile_rls(bundle, schema)`` turns the bundle's grants, row filters, entity
scopes and masks into DDL for the tables in ``schema`` (the bundle's governed
relation of each table, govern.sql.relation, is the single source):

* one ``NOLOGIN`` role per bundle role (``<prefix>_<role>``) and per role set a
  named principal holds, holding exactly what that role set may see (deny
  overrides allow across roles, as in the bundle, so GRANTs are computed per
  role set, never summed over member roles);
* per table: ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and one
  ``CREATE POLICY ... FOR SELECT TO <role> USING (...)`` per role set: the
  bundle's row predicate (permissive filters OR-ed, restrictive ones and entity
  scopes AND-ed; ``false`` where no filter applies), principal attributes read
  with ``current_setting('govern.<attr>')`` (unset: the query fails, closed).
  The key set of each uncorrelated semi-join (``customer_id IN (SELECT ...)``)
  is a ``SECURITY DEFINER`` set-returning function executable by that role only
  (it reads the base tables, as the bundle's filters do, not the tables under
  the caller's own policies; planned once per query); a predicate with any
  other subquery is, whole, such a function of the row's columns;
* column GRANTs of the permitted, unmasked columns when the role set sees the
  table unmasked; where a mask applies, no grant on the base table at all and a
  ``security_barrier`` masking view of the same name in the role's schema
  ``<prefix>_<role>`` (the governed relation: masks and row predicate), so a
  session with ``search_path = <prefix>_<role>, <schema>`` runs queries unchanged.

What cannot be compiled faithfully is listed by name (``Compiled.not_compiled``)
and never approximated: the column is left out (revoked), not exposed:
keyed-hash masks (the hash key would be written into the DDL), opaque handles
and every free-text column (govern scans free text for PII in results, which a
database view cannot), and attributes of unknown or mixed types (a list is a
JSON array in its setting, usable only as ``x IN (:principal.NAME)``, as in the bundle).

The trust model: ``govern.<attr>`` settings are set by a trusted middle tier
per session (``SET ROLE`` then ``set_config``); any session may set custom
settings, so a client that connects directly must not choose them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlglot import exp

from govern.sql.binding import principal_placeholders
from govern.sql.passes.rewrite import relation_template

SETTING_PREFIX = "govern."
_SAFE = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True)
class NotCompiled:
    """One thing left out of the DDL, and why."""

    role: str  # the PostgreSQL role (role set) it concerns
    table: str
    column: str | None  # None: the whole table's policy
    reason: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.role}: {where}: {self.reason}"


@dataclass
class Compiled:
    """The DDL, the roles it creates, and what was not compiled."""

    statements: list[str]
    roles: dict[str, tuple[str, ...]]  # PostgreSQL role -> the bundle roles it stands for
    principals: dict[str, str]  # principal id -> PostgreSQL role
    not_compiled: list[NotCompiled] = field(default_factory=list)
    view_schemas: dict[str, str] = field(default_factory=dict)  # PostgreSQL role -> its schema of masking views

    def ddl(self) -> str:
        head = ["-- govern compile --target postgres-rls: apply as a superuser (or a BYPASSRLS owner).",
                "-- Principal attributes: SET ROLE <role>; SELECT set_config('govern.<attr>', <value>, false); a list as a JSON array",
                "-- then SET search_path = <role schema>, <schema> (masking views first)."]
        if self.not_compiled:
            head.append("-- Not compiled (left out, not exposed):")
            head += [f"--   {n}" for n in self.not_compiled]
        return "\n".join(head) + "\n\n" + "\n".join(s + ";" for s in self.statements) + "\n"

    def to_json(self) -> dict:
        return {"statements": self.statements, "roles": {k: list(v) for k, v in self.roles.items()},
                "principals": self.principals, "view_schemas": self.view_schemas,
                "not_compiled": [vars(n) for n in self.not_compiled]}


def reads_not_compiled(sql: str, items, dialect: str = "postgres") -> list[str]:
    """The not-compiled ``table.column``s (of ``items``, NotCompiled) that ``sql`` may read: a column
    named in it, or a star, over a table it reads (by name: a conservative over-approximation)."""
    import sqlglot

    tree = sqlglot.parse_one(sql, read=dialect)
    tables = {t.name.lower() for t in tree.find_all(exp.Table)}
    names = {c.name.lower() for c in tree.find_all(exp.Column)}
    star = tree.find(exp.Star) is not None
    return [f"{n.table}.{n.column}" for n in items
            if n.table in tables and (n.column is None or star or n.column.lower() in names)]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_name(prefix: str, roles: tuple[str, ...]) -> str:
    return _SAFE.sub("_", f"{prefix}_{'__'.join(roles)}".lower())[:63]


def _scalar_kind(value) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INT"
    if isinstance(value, float):
        return "DOUBLE PRECISION"
    return "TEXT"


def attribute_types(bundle) -> dict[str, str]:
    """The SQL type of each principal attribute, from the named principals' values: INT, BOOLEAN,
    DOUBLE PRECISION, TEXT, ``LIST <scalar type>``; ``MIXED`` (not compiled) when they disagree."""
    kinds: dict[str, str] = {}
    for principal in bundle.principals.values():
        for name, value in principal.attributes.items():
            if isinstance(value, (list, tuple, set, frozenset)):
                elements = {_scalar_kind(v) for v in value}
                if not elements:
                    kinds.setdefault(name, "LIST")  # an empty list says nothing of the element type
                    continue
                kind = "LIST " + elements.pop() if len(elements) == 1 else "MIXED"
                if kinds.get(name) == "LIST":
                    kinds[name] = kind
                    continue
            else:
                kind = _scalar_kind(value)
            kinds[name] = kind if kinds.get(name, kind) == kind else "MIXED"
    return kinds


def _setting(name: str, kind: str) -> exp.Expression:
    call = exp.Anonymous(this="current_setting", expressions=[exp.Literal.string(SETTING_PREFIX + name)])
    return call if kind == "TEXT" else exp.Cast(this=call, to=exp.DataType.build(kind, dialect="postgres"))


def _settings(node: exp.Expression, kinds: dict[str, str]) -> list[str]:
    """Principal placeholders in ``node`` replaced in place; the names that cannot be (unknown, of mixed
    types, or a list used other than as ``x IN (:principal.NAME)``). A list attribute's setting is a
    JSON array (``'["EU", "NA"]'``), read with ``jsonb_array_elements_text``."""
    bad = []
    for dot, name in principal_placeholders(node):
        kind = kinds.get(name)
        if kind is None or kind in ("MIXED", "LIST"):
            bad.append(name)
            continue
        if kind.startswith("LIST "):
            parent = dot.parent
            if not isinstance(parent, exp.In) or dot.arg_key != "expressions" or len(parent.expressions) != 1:
                bad.append(name)
                continue
            setting = f"CAST(current_setting('{SETTING_PREFIX}{name}') AS JSONB)"
            parent.set("expressions", None)  # raw text: a Var, not a subquery (no key-set function for it)
            parent.set("query", exp.Var(this=f"(SELECT CAST(v AS {kind[5:]}) FROM jsonb_array_elements_text({setting}) AS t(v))"))
            continue
        dot.replace(_setting(name, kind))
    return bad


def _reschema(node: exp.Expression, schema: str) -> None:
    for table in node.find_all(exp.Table):
        table.set("db", exp.to_identifier(schema, quoted=True))


def compile_rls(bundle, schema: str = "public", prefix: str = "govern") -> Compiled:
    """The bundle as PostgreSQL DDL for the tables of ``schema`` (see the module docstring)."""
    kinds = attribute_types(bundle)
    role_sets: dict[str, tuple[str, ...]] = {}
    for role in sorted(bundle.grants.roles):
        role_sets.setdefault(_pg_name(prefix, (role,)), (role,))
    principals = {}
    for pid, principal in bundle.principals.items():
        roles = tuple(sorted(set(principal.roles)))
        name = _pg_name(prefix, roles)
        role_sets.setdefault(name, roles)
        principals[pid] = name
    out = Compiled(statements=[], roles=role_sets, principals=principals)
    add = out.statements.append
    s = _ident(schema)
    tables = list(bundle.catalog)
    for table in tables:
        add(f"ALTER TABLE {s}.{_ident(table.name)} ENABLE ROW LEVEL SECURITY")
        add(f"ALTER TABLE {s}.{_ident(table.name)} FORCE ROW LEVEL SECURITY")
        add(f"REVOKE ALL ON {s}.{_ident(table.name)} FROM PUBLIC")
    for pg_role, roles in role_sets.items():
        expanded = bundle.grants.expand_roles(roles)
        ctx = SimpleNamespace(bundle=bundle, roles=expanded, dialect="postgres")
        view_schema = pg_role
        views: list[str] = []
        add(f"CREATE ROLE {_ident(pg_role)} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT")
        add(f"GRANT USAGE ON SCHEMA {s} TO {_ident(pg_role)}")
        for table in tables:
            tname = _ident(table.name)
            template = relation_template(ctx, table)
            select = template.select.copy()
            if not select.expressions:
                continue  # no column permitted: no grant, no policy (no rows either)
            skip = set(template.handles) | set(template.hashed)
            kept = []
            for projection in select.expressions:
                name = (projection.alias or projection.name).lower()
                column = table.column(name)
                if name in template.handles:
                    why = "opaque handle of free text (keyed digest; the hash key would be in the DDL)"
                elif name in template.hashed:
                    why = "hash mask (keyed; the hash key would be in the DDL)"
                elif column is not None and column.free_text:
                    why = "free text (govern masks PII found in results; a view cannot)"
                else:
                    kept.append(projection)
                    continue
                skip.add(name)
                out.not_compiled.append(NotCompiled(pg_role, table.name, column.name if column else name, why))
            if not kept:
                continue
            select.set("expressions", kept)
            where = select.args.get("where")
            predicate = where.this.copy() if where is not None else exp.true()
            bad = _settings(predicate, kinds) + _settings(select, kinds)
            if bad:
                out.not_compiled.append(NotCompiled(pg_role, table.name, None,
                                                    f"principal attribute(s) {', '.join(sorted(set(bad)))} "
                                                    "of unknown or mixed type, or a list used other than as IN (:principal.NAME)"))
                continue
            _reschema(predicate, schema)
            _reschema(select, schema)
            using = _using(out, pg_role, table, predicate, schema)
            add(f"CREATE POLICY {_ident(pg_role + '_select')} ON {s}.{tname} FOR SELECT TO {_ident(pg_role)} USING ({using})")
            masked = [p for p in kept if not isinstance(p, exp.Column)]
            if not masked and not skip:
                cols = ", ".join(_ident(p.name) for p in kept)
                add(f"GRANT SELECT ({cols}) ON {s}.{tname} TO {_ident(pg_role)}")
            else:  # a masking view (the governed relation) in the role's schema; no grant on the base table
                views.append(f"CREATE VIEW {_ident(view_schema)}.{tname} WITH (security_barrier) AS "
                             f"{select.sql(dialect='postgres')}")
                views.append(f"GRANT SELECT ON {_ident(view_schema)}.{tname} TO {_ident(pg_role)}")
        if views:
            out.view_schemas[pg_role] = view_schema
            add(f"CREATE SCHEMA {_ident(view_schema)}")
            add(f"REVOKE ALL ON SCHEMA {_ident(view_schema)} FROM PUBLIC")
            add(f"GRANT USAGE ON SCHEMA {_ident(view_schema)} TO {_ident(pg_role)}")
            out.statements += views
    return out


def _using(out: Compiled, pg_role: str, table, predicate: exp.Expression, schema: str) -> str:
    """The USING expression: inline, or (a subquery in it) a SECURITY DEFINER function of the row's columns."""
    own = table.name.lower()
    predicate = _key_sets(out, pg_role, table, predicate, schema)
    if predicate.find(exp.Select) is None:
        for column in predicate.find_all(exp.Column):
            if column.table.lower() == own or not column.table:
                column.set("table", None)
        return predicate.sql(dialect="postgres")
    params: dict[str, str] = {}
    for column in list(predicate.find_all(exp.Column)):
        if column.table.lower() == own and column.find_ancestor(exp.Select) is None:
            col = table.column(column.name)
            params[col.name] = col.type
            column.replace(exp.column(f"p_{col.name}".lower()))
    fname = f"{_ident(schema)}.{_ident(_SAFE.sub('_', f'{pg_role}_{table.name}_rls'.lower())[:63])}"
    signature = ", ".join(f"{_ident('p_' + c.lower())} {t}" for c, t in params.items())
    types = ", ".join(t for t in params.values())
    out.statements.append(
        f"CREATE FUNCTION {fname}({signature}) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER "
        f"SET search_path = pg_catalog, pg_temp AS $govern$ SELECT {predicate.sql(dialect='postgres')} $govern$")
    out.statements.append(f"REVOKE ALL ON FUNCTION {fname}({types}) FROM PUBLIC")
    out.statements.append(f"GRANT EXECUTE ON FUNCTION {fname}({types}) TO {_ident(pg_role)}")
    return f"{fname}({', '.join(_ident(c) for c in params)})"


def _key_sets(out: Compiled, pg_role: str, table, predicate: exp.Expression, schema: str) -> exp.Expression:
    """Each uncorrelated semi-join ``<own column> IN (SELECT ...)`` of the predicate read through a
    SECURITY DEFINER set-returning function (its subquery reads the base tables, as the bundle's
    filters do; the planner computes it once per query, as a hashed subplan)."""
    own = table.name.lower()
    for n, node in enumerate(list(predicate.find_all(exp.In))):
        query = node.args.get("query")
        inner = query.this if isinstance(query, exp.Subquery) else query
        column = node.this
        if not isinstance(inner, exp.Select) or not isinstance(column, exp.Column) or column.table.lower() not in ("", own):
            continue
        if inner.find_ancestor(exp.Select) is not None and inner.find_ancestor(exp.Select) is not inner:
            continue
        if node.find_ancestor(exp.Select) is not None:
            continue  # inside another subquery: that one is the unit
        names = {t.alias_or_name.lower() for t in inner.find_all(exp.Table)}
        if own not in names and any(c.table.lower() == own for c in inner.find_all(exp.Column)):
            continue  # correlated with the policy's row: left to the row function
        col = table.column(column.name)
        if col is None or len(inner.expressions) != 1:
            continue
        fname = f"{_ident(schema)}.{_ident(_SAFE.sub('_', f'{pg_role}_{table.name}_keys{n}'.lower())[:63])}"
        out.statements.append(
            f"CREATE FUNCTION {fname}() RETURNS SETOF {col.type} LANGUAGE sql STABLE SECURITY DEFINER "
            f"SET search_path = pg_catalog, pg_temp AS $govern$ {inner.sql(dialect='postgres')} $govern$")
        out.statements.append(f"REVOKE ALL ON FUNCTION {fname}() FROM PUBLIC")
        out.statements.append(f"GRANT EXECUTE ON FUNCTION {fname}() TO {_ident(pg_role)}")
        # raw text: the function's (quoted, lower-case) name must reach the DDL exactly as created
        node.set("query", exp.Var(this=f"(SELECT k FROM {fname}() AS k)"))
    return predicate
