"""The governed relation: what a base-table reference is replaced by.

    (SELECT <permitted columns, masked at the scan> FROM <table>
     WHERE <row filters for this principal>
       AND <entity scopes of every entity the table belongs to> [fence]) AS <alias>

Everything a principal may see of a table flows through this one shape, so it
holds wherever the table is referenced: FROM, JOIN, subqueries, CTE bodies,
set-operation arms, LATERAL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from govern.bundle.catalog import Table
from govern.bundle.compiled import CompiledFilter, CompiledMask, TablePolicy
from govern.bundle.grants import TableAccess
from govern.principal import Principal
from govern.errors import Denied
from govern.bundle.entities import combined_member_predicate
from govern.sql.binding import bind, principal_placeholders
from govern.sql.dialect import generate
from govern.sql.handles import handle_expression, scope_of
from govern.sql.portable import portable
from govern.sql.semijoin import simplify_semijoins
from govern.sql.masks import HASH_DIALECTS, keyed_hash, mask_expression

# Error side channel: a user predicate that raises (a failed cast, error()) must
# never run on a row the filter hides. The planner must therefore finish the row
# filter before any user predicate runs.
# PostgreSQL will not push quals into a subquery with OFFSET (the classic fence).
OFFSET_FENCE_DIALECTS = frozenset({"postgres"})
# DuckDB ignores OFFSET 0 and plans a filter's semi-join above the user's predicate
# (seen in EXPLAIN), so the filtered scan becomes a MATERIALIZED CTE, which DuckDB
# computes completely before the outer query reads it.
MATERIALIZED_FENCE_DIALECTS = frozenset({"duckdb"})
# SQLite neither flattens a subquery with LIMIT/OFFSET into the outer query nor pushes
# WHERE terms into it (select.c: the flattening rules and pushDownWhereTerms): the
# subquery runs as a co-routine or is materialized, with only its own WHERE, before any
# user predicate (or an automatic index built from one) sees its rows. LIMIT -1 is no limit.
LIMIT_FENCE_DIALECTS = frozenset({"sqlite"})
# MariaDB / MySQL merge a derived table into the outer query (derived_merge) or push outer
# conditions into it (MariaDB's condition_pushdown_for_derived) unless it has a LIMIT: a
# derived table with LIMIT is materialized with only its own WHERE before the outer query
# reads it (EXPLAIN FORMAT=JSON shows "materialized" with no pushed condition; checked in
# tests/test_mysql.py). The largest BIGINT UNSIGNED is no limit.
MAX_LIMIT_FENCE_DIALECTS = frozenset({"mysql"})
MYSQL_NO_LIMIT = "18446744073709551615"
FENCE_DIALECTS = OFFSET_FENCE_DIALECTS | MATERIALIZED_FENCE_DIALECTS | LIMIT_FENCE_DIALECTS | MAX_LIMIT_FENCE_DIALECTS
FENCE_CTE = "_govern_scan"


@dataclass(frozen=True)
class RelationTemplate:
    """The governed relation of one table for one role set and dialect, before binding.

    Built once and cached (it depends on nothing else); a request copies it and
    binds the principal's values into its ``:principal.NAME`` placeholders.
    """

    select: exp.Select  # unfenced; rewrite fences a reference where a predicate could leak
    policies: tuple[str, ...]
    uses_hash_key: bool
    needs: tuple[tuple[str, str], ...]  # (rule id, attribute) the bound filters read
    # Every principal attribute the relation's SQL reads, taken from the tree itself:
    # the render cache keys on their values, so two principals share SQL only when
    # nothing in it differs between them.
    attributes: tuple[str, ...] = ()
    filtered: bool = False  # it has a row predicate (rows are hidden from this role set)
    handles: tuple[str, ...] = ()  # free-text columns shown as opaque handles
    hashed: tuple[str, ...] = ()  # columns under a hash mask (they need the hash key)
    masked: tuple[str, ...] = ()  # columns under any mask (explicit or from their classification)


def column_facts(tables: list[Table], templates: list[RelationTemplate]) -> dict[tuple[int, str], tuple[str | None, bool]]:
    """(reference, column) -> (catalog type, masked) for every column of every governed reference
    (what govern.sql.leakproof.Judge needs to know of the governed relations)."""
    facts: dict[tuple[int, str], tuple[str | None, bool]] = {}
    for index, (table, template) in enumerate(zip(tables, templates)):
        for column in table.columns:
            name = column.name.lower()
            if name in template.handles:
                facts[(index, name)] = ("VARCHAR", False)  # a handle: text govern computes, cannot raise
            else:
                facts[(index, name)] = (column.type, name in template.masked)
    return facts


def row_predicate(policy: TablePolicy, roles: frozenset[str]) -> tuple[exp.Expression | None, list[CompiledFilter]]:
    """The unbound row predicate for a role set, and the filters and entity scopes used.

    Row filters (PostgreSQL RLS semantics): no filters on the table: no
    condition (the grant alone decides); filters exist but no permissive one
    applies: FALSE, never everything.

    Entity scopes, AND-ed on top, one conjunct per entity the table belongs to:
    the OR of the principal's applicable scopes (each a semi-join along the
    table's path); no applicable scope: FALSE; an applicable scope meaning every
    instance: no condition.
    """
    conjuncts: list[exp.Expression] = []
    used: list[CompiledFilter] = []
    if policy.filters:
        applicable = [f for f in policy.filters if f.applies_to(roles)]
        used += applicable
        permissive = [f.predicate.copy() for f in applicable if not f.restrictive]
        restrictive = [f.predicate.copy() for f in applicable if f.restrictive and not _is_true(f.predicate)]
        if not permissive:
            conjuncts.append(exp.false())
        elif any(_is_true(p) for p in permissive):
            conjuncts += restrictive  # `x OR TRUE` is TRUE: nothing is hidden by the permissive filters
        else:
            # and_/or_ parenthesize AND/OR operands themselves, so precedence is kept.
            conjuncts += [exp.or_(*permissive, copy=False), *restrictive]
    for binding in policy.entities:
        scopes = [s for s in binding.scopes if s.applies_to(roles)]
        used += scopes
        if not scopes:
            conjuncts.append(exp.false())
        elif not any(_is_true(s.predicate) for s in scopes):
            # several scopes on a member table: one semi-join on the OR of their key sets (a
            # planner turns it into one join; OR-ed IN subqueries it cannot)
            combined = combined_member_predicate(binding, scopes) if len(scopes) > 1 else None
            conjuncts.append(combined if combined is not None else exp.or_(*(s.predicate.copy() for s in scopes), copy=False))
    if not conjuncts:
        return None, used
    if any(_is_false(c) for c in conjuncts):
        return exp.false(), used
    return exp.and_(*conjuncts, copy=False), used


def _is_true(node: exp.Expression) -> bool:
    return isinstance(node, exp.Boolean) and node.this is True


def _is_false(node: exp.Expression) -> bool:
    return isinstance(node, exp.Boolean) and node.this is False


def free_text_plan(table: Table, access: TableAccess, policy: TablePolicy, roles: frozenset[str], opaque: bool,
                   dialect: str) -> dict[str, str]:
    """How each permitted free-text column of ``table`` is shown: "raw", "handle" or "withheld".

    ``opaque``: the principal may not see every PII type. Then a free-text column that
    no mask rule covers is shown as an opaque handle (govern.sql.handles), which names
    the row by its primary key: that key must be a single column the principal sees
    unmasked, and the engine must compute the handle's digest, or the column is withheld.
    """
    plan: dict[str, str] = {}
    for name in access.permitted:
        column = table.column(name)
        if not column.free_text:
            continue
        if not opaque or any(m.applies_to(roles) for m in policy.masks.get(name.lower(), ())):
            plan[name.lower()] = "raw"
        elif handle_key_column(table, access, policy, roles) is not None and dialect in HASH_DIALECTS:
            plan[name.lower()] = "handle"
        else:
            plan[name.lower()] = "withheld"
    return plan


def handle_key_column(table: Table, access: TableAccess, policy: TablePolicy, roles: frozenset[str]) -> str | None:
    """The primary key column that names rows in handles, if the principal sees it unmasked."""
    if len(table.primary_key) != 1:
        return None
    key = table.column(table.primary_key[0])
    if key is None or key.name not in access.permitted:
        return None
    if any(m.applies_to(roles) for m in policy.masks.get(key.name.lower(), ())):
        return None
    return key.name


def classification_masks(table: Table, policy: TablePolicy, roles: frozenset[str], revealed, operators) -> dict[str, CompiledMask]:
    """Masks that follow the catalog's classification: a column classified as a PII type
    (``pii: EMAIL_ADDRESS``) is masked at the scan for every principal without the reveal grant
    for that type, with the bundle's operator for it (``pii.operators``), unless an explicit
    column mask rule applies to the principal's roles. ``revealed(type)`` says whether the
    principal may see the type; ``operators`` maps type (or "default") to its operator."""
    out: dict[str, CompiledMask] = {}
    for column in table.columns:
        kind = column.pii
        name = column.name.lower()
        if not kind or revealed(kind) or any(m.applies_to(roles) for m in policy.masks.get(name, ())):
            continue
        op = operators.get(kind) or operators.get("default")
        operator = getattr(op, "operator", "placeholder")
        common = dict(id=f"classification:{table.name}.{column.name}:{kind}", table=table.name, column=column.name,
                      roles=None, except_roles=frozenset(), label=kind)
        if operator == "redact":
            out[name] = CompiledMask(kind="redact_value", replacement=op.replacement, **common)
        elif operator == "partial":
            out[name] = CompiledMask(kind="partial", keep_last=op.keep_last, prefix=op.prefix, **common)
        elif operator == "hash":
            out[name] = CompiledMask(kind="typed_hash", hash_chars=op.length, **common)
        else:  # placeholder, pseudonym: a typed placeholder with a keyed tag
            out[name] = CompiledMask(kind="placeholder", **common)
    return out


def build_template(table: Table, access: TableAccess, policy: TablePolicy, roles: frozenset[str], dialect: str,
                   plan: dict[str, str] | None = None, classified: dict[str, CompiledMask] | None = None,
                   catalog=None) -> RelationTemplate:
    """The governed relation of ``table``; ``plan`` (free_text_plan) says how free text is shown,
    ``classified`` (classification_masks) masks what no explicit rule masks. With ``catalog``,
    the row predicate's semi-joins are combined (govern.sql.semijoin) so it plans as few relations."""
    plan = plan or {}
    classified = classified or {}
    qualifier = exp.to_identifier(table.name, quoted=True)
    applied: list[str] = []
    masks: list[CompiledMask] = []
    uses_key = False
    projections = []
    handles: list[str] = []
    hashed: list[str] = []
    masked: list[str] = []
    for name in access.permitted:
        column = table.column(name)
        ref = exp.Column(this=exp.to_identifier(column.name, quoted=True), table=qualifier.copy())
        shown = plan.get(name.lower())
        if shown == "withheld":
            continue
        if shown == "handle":
            key = handle_key_column(table, access, policy, roles)
            key_ref = exp.Column(this=exp.to_identifier(key, quoted=True), table=qualifier.copy())
            handle = handle_expression(table.name, column.name, key_ref, ref,
                                       lambda value: keyed_hash(value, dialect), dialect, scope_of(roles))
            projections.append(exp.alias_(handle, exp.to_identifier(column.name, quoted=True)))
            handles.append(column.name.lower())
            continue
        mask = next((m for m in policy.masks.get(name.lower(), ()) if m.applies_to(roles)), None) or classified.get(
            name.lower())
        if mask is None:
            projections.append(ref)
            continue
        masked.append(column.name.lower())
        applied.append(mask.id)
        masks.append(mask)
        uses_key = uses_key or mask.kind == "hash"
        if mask.kind == "hash":
            hashed.append(column.name.lower())
        projections.append(exp.alias_(mask_expression(mask, ref, column.type, dialect), exp.to_identifier(column.name, quoted=True)))

    source = exp.Table(this=qualifier.copy(), db=exp.to_identifier(table.schema, quoted=True) if table.schema else None)
    select = exp.Select(expressions=projections).from_(source, copy=False)
    predicate, filters = row_predicate(policy, roles)
    predicate = simplify_semijoins(predicate, catalog)
    if predicate is not None:
        select = select.where(predicate, copy=False)
    # Masks read attributes too (`expression` masks): missing ones are a denial naming them, like filters.
    needs = tuple((f.id, name) for f in filters for _, name in principal_placeholders(f.predicate))
    needs += tuple((m.id, name) for m in masks if m.expression is not None for _, name in principal_placeholders(m.expression))
    attributes = tuple(sorted({name for _, name in principal_placeholders(select)}))
    return RelationTemplate(select, tuple([f.id for f in filters] + applied), uses_key, needs, attributes,
                            filtered=predicate is not None, handles=tuple(handles), hashed=tuple(hashed),
                            masked=tuple(masked))


def instantiate(template: RelationTemplate, principal: Principal, alias: exp.TableAlias) -> exp.Subquery:
    """A fresh governed relation for ``principal`` named ``alias``.

    Raises Denied naming every attribute the principal lacks (fail closed).
    """
    missing = missing_attributes(template, principal)
    if missing:
        raise Denied(*missing)
    return exp.Subquery(this=bind(template.select, principal, rules_of(template)), alias=alias)


@dataclass(frozen=True)
class Rendered:
    sql: str
    placeholders: int  # `?` parameters in it (sqlite hash masks)
    hashed: bool = False  # a hash-masked column is in it (the hash key must be configured)
    handles: bool = False  # a free-text handle is in it
    uses_key: bool = False  # it reads the key parameter

def render(template: RelationTemplate, principal: Principal, dialect: str, fenced: bool = False,
           pushed: list | None = None, columns: frozenset[str] | None = None) -> Rendered:
    """The bound governed relation's SELECT as SQL text, fenced or not.

    Generated by sqlglot from the bound AST with the settings of the emit pass;
    the rewriter splices it into the query as a generated unit, so a request
    neither copies nor regenerates the relation (its cost dominated check_sql).
    """
    from govern.sql.passes.verify_output import check_round_trip, tokens_vouch

    bound = bind(template.select, principal, rules_of(template))
    if columns is not None:
        bound.set("expressions", pruned(bound.expressions, columns, template))
    kept = {_output_name(p) for p in bound.expressions}
    if pushed:  # leakproof conjuncts of the query, evaluated inside the fence (indexes stay usable)
        bound = bound.where(exp.and_(*pushed, copy=True), copy=False)
    if fenced:
        bound = fence(bound, dialect)
    bound = portable(bound, dialect)
    count = sum(1 for _ in bound.find_all(exp.Placeholder))
    uses_key = count > 0 or any(True for _ in bound.find_all(exp.Parameter))
    # generated in place, as emit generates the query: ``bound`` is this call's own copy, and the
    # check below compares the text with the tree the generator actually wrote it from
    sql = generate(bound, dialect)
    # The principal's values (and a query's pushed conjuncts) are literals in it: prove they
    # stayed literals, from the tokens where they show it, else by parsing it back (as verify_output).
    if not tokens_vouch(sql, bound, dialect):
        check_round_trip(sql, bound, dialect)
    return Rendered(sql, count, bool(kept & set(template.hashed)), bool(kept & set(template.handles)), uses_key)


def pruned(projections: list[exp.Expression], columns: frozenset[str], template: RelationTemplate) -> list[exp.Expression]:
    """The projections a query reads (``columns``, lower case); one plain column, or a constant,
    when it reads none (``count(*)``): a masked, hashed or handle column is never computed unread."""
    kept = [p for p in projections if _output_name(p) in columns]
    if kept:
        return kept
    plain = [p for p in projections if isinstance(p, exp.Column)]
    return plain[:1] or [exp.alias_(exp.Literal.number(1), exp.to_identifier("_govern_row", quoted=True))]


def _output_name(projection: exp.Expression) -> str:
    return (projection.alias if isinstance(projection, exp.Alias) else projection.name).lower()



def rules_of(template: RelationTemplate) -> dict[str, str]:
    """Attribute -> the rule id(s) reading it, for denials that name the rule."""
    rules: dict[str, list[str]] = {}
    for rule, name in template.needs:
        rules.setdefault(name, []).append(rule)
    return {name: ", ".join(dict.fromkeys(ids)) for name, ids in rules.items()}


def binding_key(template: RelationTemplate, principal: Principal) -> tuple:
    """The principal's values a template reads: equal keys render equal SQL."""
    return tuple((name, _frozen(principal.attribute(name))) for name in template.attributes)


def _frozen(value):
    # Typed: True == 1 == 1.0 in Python, but they render different SQL literals.
    if isinstance(value, list):
        return ("list", tuple(_frozen(v) for v in value))
    return (type(value).__name__, value)


def missing_attributes(template: RelationTemplate, principal: Principal) -> list[str]:
    return [f"principal {principal.id!r} lacks attribute {name!r}, which rule {rule!r} needs"
            for rule, name in template.needs if not principal.has(name)]


def fence(select: exp.Select, dialect: str) -> exp.Select:
    """Make ``select`` a barrier the planner will not push outer predicates through."""
    if dialect in OFFSET_FENCE_DIALECTS:
        return select.offset(0, copy=False)
    if dialect in MATERIALIZED_FENCE_DIALECTS:
        return exp.select("*").from_(FENCE_CTE).with_(FENCE_CTE, as_=select, materialized=True, copy=False)
    if dialect in LIMIT_FENCE_DIALECTS:
        return select.limit(exp.Neg(this=exp.Literal.number(1)), copy=False).offset(0, copy=False)
    if dialect in MAX_LIMIT_FENCE_DIALECTS:
        return select.limit(exp.Literal.number(MYSQL_NO_LIMIT), copy=False)
    return select
