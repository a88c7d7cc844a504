"""``Governor.entity_scope``: a principal's scope on an entity, for retrieval filters and callers.

    scope = gov.entity_scope(principal, "customer")            # predicate only
    scope.sql("postgres")   # '"customers"."account_manager_id" = 1'
    scope = gov.entity_scope(principal, "customer", conn)      # + resolved keys
    scope.keys              # frozenset({3, 17, ...}); cached per principal for TTL_SECONDS

The predicate is the same one the rewriter applies to the entity's key table
(the OR of the principal's applicable scopes, principal values bound as typed
literals on the AST); it reads the key table's row, columns qualified with the
table name. No applicable scope: FALSE (and no keys). An entity without scopes,
or an applicable scope meaning every instance (``where: "TRUE"``): TRUE and
``unrestricted``. A scope needing an attribute the principal lacks: Denied,
naming it. The scope is only the entity scope: row filters and grants of the
key table are not part of it (they still apply to every SQL query).
"""

from __future__ import annotations

import hashlib
import json
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any

from sqlglot import exp

from govern.connections import cursor_for, dialect_of
from govern.errors import Denied
from govern.bundle.attributes import validate_principal
from govern.principal import Principal
from govern.sql.binding import bind

TTL_SECONDS = 60.0  # how long resolved keys are reused for the same principal
MAX_ENTRIES = 4096  # resolved key sets kept at most (least recently used dropped first)
DEFAULT_DIALECT = "duckdb"


@dataclass(frozen=True)
class EntityScope:
    entity: str
    table: str  # the entity's key table (catalog spelling)
    schema: str | None
    key: str  # its key column
    principal: str
    scopes: tuple[str, ...]  # ids of the scopes that applied
    predicate: exp.Expression  # bound, on the key table's row
    unrestricted: bool  # every instance (no scopes on the entity, or a TRUE scope applies)
    keys: frozenset | None = None  # resolved keys, when a connection was given
    dialect: str = DEFAULT_DIALECT
    cached: bool = False  # keys came from the cache

    @property
    def empty(self) -> bool:
        """True when the principal sees no instance (no applicable scope, or no keys resolved)."""
        if isinstance(self.predicate, exp.Boolean) and self.predicate.this is False:
            return True
        return self.keys is not None and not self.keys and not self.unrestricted

    def sql(self, dialect: str | None = None) -> str:
        """The predicate in ``dialect`` (default: the connection's, else DuckDB)."""
        return self.predicate.sql(dialect=dialect or self.dialect)

    def keys_query(self, dialect: str | None = None) -> str:
        """``SELECT DISTINCT key FROM table WHERE predicate``: the instances in scope."""
        return keys_select(self).sql(dialect=dialect or self.dialect)

    def allows(self, key: Any) -> bool:
        """Whether an instance key is in scope (needs resolved keys unless unrestricted)."""
        if self.unrestricted:
            return True
        if self.keys is None:
            raise ValueError("keys are not resolved: call entity_scope with a connection")
        return key in self.keys


def entity_scope(gov, principal: Principal | dict, entity: str, conn: Any = None) -> EntityScope:
    started = time.perf_counter()
    bundle = gov.bundle
    principal = principal if isinstance(principal, Principal) else Principal.model_validate(principal)
    spec = next((e for e in bundle.rules.entities if e.name.lower() == entity.lower()), None)
    if spec is None:
        known = ", ".join(e.name for e in bundle.rules.entities) or "none"
        raise KeyError(f"no entity {entity!r} in the policy bundle (entities: {known})")
    table = bundle.catalog.table(spec.table)
    binding = next((b for b in bundle.table_policy(table.name).entities if b.entity == spec.name and not b.path), None)
    roles = bundle.grants.expand_roles(tuple(principal.roles))
    dialect = dialect_of(conn) if conn is not None else DEFAULT_DIALECT
    key = binding.key if binding is not None else _default_key(spec, table)
    try:
        principal = validate_principal(bundle.principal_schema, principal)  # InvalidPrincipal is a Denied
        scope = _scope(spec.name, table, key, binding, principal, roles, dialect)
        if conn is not None:
            scope = _resolve(gov, bundle, scope, principal, conn)
    except Denied as denied:
        gov.audit.record(action="entity_scope", principal=principal.summary(), decision="deny", reasons=denied.reasons,
                         input_text=f"entity {spec.name}", tables=[table.name], bundle_hash=bundle.content_hash,
                         duration_ms=round((time.perf_counter() - started) * 1000, 3))
        raise
    gov.audit.record(
        action="entity_scope", principal=principal.summary(), decision="allow",
        reasons=[] if scope.scopes or scope.unrestricted else [f"no scope of entity {spec.name} applies to roles {sorted(roles)}: no instances"],
        input_text=f"entity {spec.name}", tables=[table.name], policies=list(scope.scopes), bundle_hash=bundle.content_hash,
        governed_sql=scope.keys_query() if conn is not None and not scope.unrestricted else None,
        rows=len(scope.keys) if scope.keys is not None else None, duration_ms=round((time.perf_counter() - started) * 1000, 3),
        extra={"entity": spec.name, "cached": scope.cached},
    )
    return scope


def _scope(name, table, key, binding, principal: Principal, roles: frozenset[str], dialect: str) -> EntityScope:
    common = dict(entity=name, table=table.name, schema=table.schema, key=key, principal=principal.id, dialect=dialect)
    if binding is None:  # an entity without scopes is not scope-governed
        return EntityScope(scopes=(), predicate=exp.true(), unrestricted=True, **common)
    applicable = [s for s in binding.scopes if s.applies_to(roles)]
    ids = tuple(s.id for s in applicable)
    if not applicable:
        return EntityScope(scopes=(), predicate=exp.false(), unrestricted=False, **common)
    if any(isinstance(s.predicate, exp.Boolean) and s.predicate.this is True for s in applicable):
        return EntityScope(scopes=ids, predicate=exp.true(), unrestricted=True, **common)
    bound, reasons = [], []
    for s in applicable:
        try:
            bound.append(bind(s.predicate, principal, s.id))
        except Denied as denied:
            reasons += denied.reasons
    if reasons:
        raise Denied(*dict.fromkeys(reasons))
    return EntityScope(scopes=ids, predicate=exp.or_(*bound, copy=False), unrestricted=False, **common)


def _key_table(scope: EntityScope) -> exp.Table:
    return exp.Table(this=exp.to_identifier(scope.table, quoted=True),
                     db=exp.to_identifier(scope.schema, quoted=True) if scope.schema else None)


def keys_select(scope: EntityScope) -> exp.Select:
    source = _key_table(scope)
    column = exp.Column(this=exp.to_identifier(scope.key, quoted=True), table=exp.to_identifier(scope.table, quoted=True))
    return exp.Select(expressions=[column]).distinct().from_(source, copy=False).where(scope.predicate.copy(), copy=False)


# ---- resolved keys, cached per principal with a bounded TTL ------------------------


class _TtlCache:
    def __init__(self, size: int):
        self._size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = Lock()

    def get(self, key, now: float):
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            expires, value = hit
            if expires <= now:
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def put(self, key, value, expires: float) -> None:
        with self._lock:
            self._data[key] = (expires, value)
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_CACHE = _TtlCache(MAX_ENTRIES)


def clear_cache() -> None:
    """Forget every resolved key set (e.g. after the lookup tables changed)."""
    _CACHE.clear()


def _fingerprint(principal: Principal) -> str:
    blob = json.dumps([principal.id, sorted(principal.roles), principal.attributes], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _resolve(gov, bundle, scope: EntityScope, principal: Principal, conn: Any) -> EntityScope:
    if scope.unrestricted:
        return scope  # every instance: nothing to enumerate (keys stay None, allows() is True)
    if isinstance(scope.predicate, exp.Boolean) and scope.predicate.this is False:
        return _with_keys(scope, frozenset(), cached=False)
    cache_key = (id(gov), bundle.content_hash, scope.entity, _fingerprint(principal), scope.dialect, id(conn))
    now = time.monotonic()
    hit = _CACHE.get(cache_key, now)
    # id(conn) is reused once a connection is gone: the entry must still be for this very object
    if hit is not None and hit[0]() is conn:
        return _with_keys(scope, hit[1], cached=True)
    cursor = conn.cursor()
    cursor.execute(keys_select(scope).sql(dialect=scope.dialect))
    keys = frozenset(row[0] for row in cursor.fetchall())
    _CACHE.put(cache_key, (_ref(conn), keys), now + TTL_SECONDS)
    return _with_keys(scope, keys, cached=False)


def sql_visible_keys(gov, principal: Principal, scope: EntityScope, conn: Any) -> frozenset:
    """The keys of the entity's key table that ``principal`` sees through the SQL guard: its
    scope *and* that table's row filters (a tenant filter), as ``SELECT DISTINCT key FROM
    table`` governed for the principal. Raises Denied when the principal may not read it.

    Always the governed query, never a shortcut on "no policy applied": filters that exist
    but apply to none of the principal's roles mean no rows, and name no policy. Cached
    like the scope keys; govern's own read, not audited separately.
    """
    cache_key = ("visible", id(gov), gov.bundle.content_hash, scope.entity, _fingerprint(principal), scope.dialect, id(conn))
    now = time.monotonic()
    hit = _CACHE.get(cache_key, now)
    if hit is not None and hit[0]() is conn:
        return hit[1]
    select = exp.select(exp.column(scope.key, quoted=True)).distinct().from_(_key_table(scope))
    decision = gov.decide(select.sql(dialect=scope.dialect), principal, scope.dialect)
    if not decision.allowed:
        raise Denied(*decision.reasons)
    cursor = cursor_for(conn, decision.dialect, bool(decision.params))
    cursor.execute(decision.sql, decision.params) if decision.params else cursor.execute(decision.sql)
    keys = frozenset(row[0] for row in cursor.fetchall())
    _CACHE.put(cache_key, (_ref(conn), keys), now + TTL_SECONDS)
    return keys


def _ref(conn: Any):
    try:
        return weakref.ref(conn)
    except TypeError:  # a driver whose connections take no weak references: hold it (bounded cache)
        return lambda: conn


def _with_keys(scope: EntityScope, keys: frozenset, cached: bool) -> EntityScope:
    from dataclasses import replace

    return replace(scope, keys=keys, cached=cached)


def _default_key(spec, table) -> str:
    if spec.key:
        return table.column(spec.key).name
    return table.primary_key[0]
