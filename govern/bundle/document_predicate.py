"""One evaluator for document rules: parse once, bind per principal, then emit every form.

A rule's ``where`` is parsed with sqlglot (the row-filter language) into a small
predicate tree at load time. Per request the tree is *bound*: ``:principal.NAME``
becomes a literal, ``entity_scope('customer')`` becomes the principal's resolved
key set, and conditions that no longer read a document field are folded to
TRUE/FALSE. The bound tree is then turned into:

* a Python predicate over a document's metadata (the post-filter, always run);
* LangChain's filter for its in-memory store (a callable on ``Document``);
* a Mongo-style dict (``$and``/``$or``/``$eq``/``$in`` ...: Chroma, PGVector, Pinecone);
* a SQL ``WHERE`` clause in any sqlglot dialect, values as typed literals on the
  AST (the SQL guard's binding), for a DuckDB / pgvector table of chunks;
* negation normal form, which adapters map to their store's filter objects.

Fail closed: a document that lacks a field the bound predicate reads (or holds
``None`` there) is dropped, and so is one whose value has the wrong type for the
comparison (a string compared with a number, a list where a scalar belongs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from govern.sql.binding import PRINCIPAL, literal

# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Lit:
    value: Any  # str | int | float | bool


@dataclass(frozen=True)
class Attr:
    name: str  # :principal.NAME, unbound


@dataclass(frozen=True)
class Scope:
    entity: str  # entity_scope('ENTITY'), unbound


@dataclass(frozen=True)
class KeySet:
    entity: str
    keys: Any  # frozenset, or EVERY
    kinds: frozenset = frozenset()  # _kind of the keys, computed once at bind


class _Every:
    """The resolved key set of an unrestricted scope: every instance."""

    def __repr__(self) -> str:
        return "EVERY"


EVERY = _Every()

Operand = Union[Field, Lit, Attr, Scope, KeySet]


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: Any


@dataclass(frozen=True)
class Cmp:
    op: str  # = != < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True)
class In:
    left: Operand
    items: tuple  # operands; after binding Lit items or one KeySet
    negated: bool = False


Node = Union[Const, And, Or, Not, Cmp, In]

TRUE, FALSE = Const(True), Const(False)
_OPS = {exp.EQ: "=", exp.NEQ: "!=", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEGATE = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
SCOPE_FUNCTION = "entity_scope"


class RuleSyntaxError(ValueError):
    """A document rule uses something the evaluator does not support (a load error)."""


class BindError(Exception):
    """A rule cannot be bound for this principal: ``kind`` is attribute, list or scope."""

    def __init__(self, kind: str, name: str, detail: str = ""):
        self.kind, self.name, self.detail = kind, name, detail
        super().__init__(f"{kind} {name}: {detail}" if detail else f"{kind} {name}")


# ---------------------------------------------------------------- parse (load time)


def parse_rule(text: str, dialect: str = "postgres") -> Node:
    """Parse a rule's ``where``; raise RuleSyntaxError naming what is not allowed."""
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except (ParseError, Exception) as err:  # sqlglot raises several types for bad input
        raise RuleSyntaxError(f"cannot parse {text!r} as {dialect} SQL: {str(err).splitlines()[0]}") from None
    if isinstance(tree, (exp.Query, exp.DDL, exp.DML, exp.Command)):
        raise RuleSyntaxError(f"expected a condition, got a statement: {text!r}")
    return _node(tree)


def _node(e: exp.Expression) -> Node:
    if isinstance(e, exp.Paren):
        return _node(e.this)
    if isinstance(e, exp.And):
        return And(tuple(_node(x) for x in e.flatten()))
    if isinstance(e, exp.Or):
        return Or(tuple(_node(x) for x in e.flatten()))
    if isinstance(e, exp.Not):
        return Not(_node(e.this))
    if isinstance(e, exp.Boolean):
        return Const(bool(e.this))
    op = _OPS.get(type(e))
    if op is not None:
        return Cmp(op, _operand(e.this), _operand(e.expression))
    if isinstance(e, exp.Between):
        value = _operand(e.this)
        return And((Cmp(">=", value, _operand(e.args["low"])), Cmp("<=", value, _operand(e.args["high"]))))
    if isinstance(e, exp.In):
        left = _operand(e.this)
        if e.args.get("query") is not None:
            raise RuleSyntaxError("subqueries are not allowed in document rules (use entity_scope('ENTITY') for lookups)")
        if e.args.get("field") is not None:
            return In(left, (_operand(e.args["field"]),))
        items = tuple(_operand(x) for x in e.expressions)
        if any(isinstance(i, Scope) for i in items) and len(items) != 1:
            raise RuleSyntaxError("entity_scope(...) must be the only item of IN")
        return In(left, items)
    if isinstance(e, exp.Is):
        raise RuleSyntaxError("IS [NOT] NULL is not supported: a document missing a field a rule reads is always dropped")
    raise RuleSyntaxError(f"unsupported construct {e.sql()!r} (use comparisons, IN, BETWEEN, AND, OR, NOT)")


def _operand(e: exp.Expression) -> Operand:
    if isinstance(e, exp.Paren):
        return _operand(e.this)
    if isinstance(e, exp.Column):
        if e.table:
            raise RuleSyntaxError(f"metadata field {e.sql()!r} must not be qualified")
        return Field(e.name)
    if isinstance(e, exp.Literal):
        return Lit(e.this if e.is_string else _number(e.this))
    if isinstance(e, exp.Neg) and isinstance(e.this, exp.Literal) and not e.this.is_string:
        return Lit(-_number(e.this.this))
    if isinstance(e, exp.Boolean):
        return Lit(bool(e.this))
    if isinstance(e, exp.Dot) and isinstance(e.this, exp.Placeholder) and e.this.name == PRINCIPAL:
        return Attr(e.expression.name)
    if isinstance(e, (exp.Anonymous, exp.Func)) and _func_name(e) == SCOPE_FUNCTION:
        args = e.expressions if isinstance(e, exp.Anonymous) else [a for a in e.args.values() if isinstance(a, exp.Expression)]
        if len(args) != 1 or not isinstance(args[0], (exp.Literal, exp.Column)):
            raise RuleSyntaxError("entity_scope takes one entity name: entity_scope('customer')")
        return Scope(args[0].name)
    if isinstance(e, (exp.Placeholder, exp.Parameter)):
        raise RuleSyntaxError(f"only :principal.NAME placeholders are allowed, found {e.sql()}")
    if isinstance(e, exp.Null):
        raise RuleSyntaxError("NULL is not allowed in document rules")
    raise RuleSyntaxError(f"unsupported value {e.sql()!r} (metadata field, literal, :principal.NAME or entity_scope('ENTITY'))")


def _func_name(e: exp.Expression) -> str:
    return (e.name if isinstance(e, exp.Anonymous) else e.sql_name()).lower()


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def check_operands(node: Node) -> None:
    """Load-time shape checks the parser cannot see (a Scope outside IN, fields compared with fields)."""
    for n in walk(node):
        if isinstance(n, Cmp):
            if any(isinstance(o, Scope) for o in (n.left, n.right)):
                raise RuleSyntaxError("entity_scope(...) may only be used as 'FIELD IN entity_scope(...)'")
            if isinstance(n.left, Field) and isinstance(n.right, Field):
                raise RuleSyntaxError(f"compare a metadata field with a value, not with another field ({n.left.name}, {n.right.name})")
        if isinstance(n, In):
            if isinstance(n.left, Scope):
                raise RuleSyntaxError("entity_scope(...) belongs on the right of IN")
            if any(isinstance(i, Field) for i in n.items):
                raise RuleSyntaxError("IN lists hold values, not metadata fields")


def walk(node: Node):
    yield node
    if isinstance(node, (And, Or)):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Not):
        yield from walk(node.item)


def attributes(node: Node) -> set[str]:
    out = set()
    for n in walk(node):
        if isinstance(n, Cmp):
            out |= {o.name for o in (n.left, n.right) if isinstance(o, Attr)}
        elif isinstance(n, In):
            out |= {o.name for o in (n.left, *n.items) if isinstance(o, Attr)}
    return out


def scopes(node: Node) -> set[str]:
    return {i.entity for n in walk(node) if isinstance(n, In) for i in n.items if isinstance(i, Scope)}


def fields(node: Node) -> frozenset[str]:
    """Metadata fields the (bound, folded) predicate reads."""
    out = set()
    for n in walk(node):
        if isinstance(n, Cmp):
            out |= {o.name for o in (n.left, n.right) if isinstance(o, Field)}
        elif isinstance(n, In) and isinstance(n.left, Field):
            out.add(n.left.name)
    return frozenset(out)


# ---------------------------------------------------------------- bind (per request)


def bind(node: Node, attribute: Callable[[str], Any], scope_keys: Callable[[str], frozenset]) -> Node:
    """Replace principal attributes and entity scopes by values, then fold constants.

    ``attribute(name)`` raises KeyError when the principal lacks it; ``scope_keys``
    returns a key set (or EVERY for an unrestricted scope) and raises BindError
    when a scope cannot be resolved. Either error denies the request.
    """
    def value(o: Operand) -> Operand:
        if isinstance(o, Attr):
            try:
                v = attribute(o.name)
            except KeyError:
                raise BindError("attribute", o.name) from None
            if isinstance(v, list):
                return Lit(tuple(v))
            return Lit(v)
        if isinstance(o, Scope):
            keys = scope_keys(o.entity)
            if keys is EVERY:
                return KeySet(o.entity, EVERY)
            keys = frozenset(keys)
            return KeySet(o.entity, keys, frozenset(_kind(k) for k in keys))
        return o

    def go(n: Node) -> Node:
        if isinstance(n, Const):
            return n
        if isinstance(n, And):
            return _and([go(i) for i in n.items])
        if isinstance(n, Or):
            return _or([go(i) for i in n.items])
        if isinstance(n, Not):
            inner = go(n.item)
            return Const(not inner.value) if isinstance(inner, Const) else Not(inner)
        if isinstance(n, Cmp):
            left, right = value(n.left), value(n.right)
            for side in (left, right):
                if isinstance(side, Lit) and isinstance(side.value, tuple):
                    raise BindError("list", _attr_name(n.left, n.right))
            if isinstance(right, Field) and not isinstance(left, Field):
                left, right = right, left
                op = _FLIP[n.op]
            else:
                op = n.op
            if not isinstance(left, Field):
                try:
                    return Const(bool(_compare(op, left.value, right.value)))
                except TypeError:
                    raise BindError("attribute", _attr_name(n.left, n.right), "its value has the wrong type for this rule") from None
            return Cmp(op, left, right)
        if isinstance(n, In):
            left = value(n.left)
            items: list = []
            for i in n.items:
                v = value(i)
                if isinstance(v, Lit) and isinstance(v.value, tuple):
                    items += [Lit(x) for x in v.value]
                elif isinstance(v, KeySet) and v.keys is EVERY:
                    return Const(not n.negated)  # an unrestricted scope: every instance
                else:
                    items.append(v)
            if isinstance(left, Lit) and isinstance(left.value, tuple):
                raise BindError("list", _attr_name(n.left))
            if not isinstance(left, Field):
                try:
                    hit = _member(left.value, items)
                except TypeError:
                    raise BindError("attribute", _attr_name(n.left, *n.items), "its value has the wrong type for this rule") from None
                return Const(bool(hit) != n.negated)
            if not items or (len(items) == 1 and isinstance(items[0], KeySet) and not items[0].keys):
                return Const(n.negated)  # x IN () matches nothing
            return In(left, tuple(items), n.negated)
        raise TypeError(f"unknown node {n!r}")

    return go(node)


def _attr_name(*operands: Operand) -> str:
    return next((o.name for o in operands if isinstance(o, Attr)), "?")


def _and(items: list[Node]) -> Node:
    out = []
    for i in items:
        if i == FALSE:
            return FALSE
        if i != TRUE:
            out.extend(i.items if isinstance(i, And) else [i])
    return TRUE if not out else out[0] if len(out) == 1 else And(tuple(out))


def _or(items: list[Node]) -> Node:
    out = []
    for i in items:
        if i == TRUE:
            return TRUE
        if i != FALSE:
            out.extend(i.items if isinstance(i, Or) else [i])
    return FALSE if not out else out[0] if len(out) == 1 else Or(tuple(out))


def combine(permissive: list[Node], restrictive: list[Node]) -> Node:
    """RLS semantics: OR of the permissive rules (none: FALSE), AND the restrictive ones."""
    return _and([_or(permissive), *restrictive])


# ---------------------------------------------------------------- evaluate (post-filter)


class Missing(Exception):
    def __init__(self, field: str):
        self.field = field
        super().__init__(f"missing metadata field {field!r}")


class Malformed(Exception):
    def __init__(self, field: str, value: Any, expected: str):
        self.field = field
        super().__init__(f"malformed metadata field {field!r} ({type(value).__name__}, expected {expected})")


def _kind(v: Any) -> str | None:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, float) and v != v:
        return None  # NaN (pandas' missing value) compares false both ways: NOT (x > 1) would admit it
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "str"
    return None


def _compare(op: str, a: Any, b: Any) -> bool:
    if _kind(a) is None or _kind(a) != _kind(b):
        raise TypeError
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    if _kind(a) == "bool":
        raise TypeError
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _member(v: Any, items) -> bool:
    """Membership; raises TypeError (the document is malformed, dropped) when ``v`` has no type any
    item has: "2" or True against numbers is not merely "not in the list", or NOT IN would admit it."""
    kind = _kind(v)
    if kind is None:
        raise TypeError
    comparable = False
    for i in items:
        if isinstance(i, KeySet):
            if not i.keys:
                continue  # an empty scope holds nothing, of any type
            if kind not in i.kinds:
                raise TypeError  # a value of another type than every key: malformed, not merely out of scope
            comparable = True
            if v in i.keys and not (kind == "bool" and not any(isinstance(key, bool) for key in i.keys)):
                return True
        elif kind == _kind(i.value):
            comparable = True
            if v == i.value:
                return True
    if not comparable and any(not isinstance(i, KeySet) or i.keys for i in items):
        raise TypeError
    return False


def evaluate(node: Node, metadata: Any, required: Any = None) -> bool:
    """True iff the document passes; raises Missing / Malformed (the document is dropped)."""
    if not isinstance(metadata, dict):
        raise Malformed("metadata", metadata, "a mapping")
    for name in (required if required is not None else sorted(fields(node))):
        if metadata.get(name) is None:
            raise Missing(name)
    return _eval(node, metadata)


def _eval(n: Node, md: dict) -> bool:
    if isinstance(n, Const):
        return n.value
    if isinstance(n, And):
        return all(_eval(i, md) for i in n.items)
    if isinstance(n, Or):
        return any(_eval(i, md) for i in n.items)
    if isinstance(n, Not):
        return not _eval(n.item, md)
    if isinstance(n, Cmp):
        v = md[n.left.name]
        try:
            return _compare(n.op, v, n.right.value)
        except TypeError:
            raise Malformed(n.left.name, v, _kind(n.right.value) or "a scalar") from None
    if isinstance(n, In):
        v = md[n.left.name]
        try:
            return _member(v, n.items) != n.negated
        except TypeError:
            raise Malformed(n.left.name, v, "a scalar") from None
    raise TypeError(f"unknown node {n!r}")


# ---------------------------------------------------------------- store filters


def to_sql(node: Node, dialect: str = "duckdb", table: str | None = None) -> str:
    """A WHERE condition for a table of chunks whose columns are the metadata fields.

    Values are typed literals built on the AST (never string formatting); every
    field read must be non-NULL, matching the post-filter's fail-closed rule.
    """
    return to_sql_expression(node, table).sql(dialect=dialect)


def to_sql_expression(node: Node, table: str | None = None) -> exp.Expression:
    def col(name: str) -> exp.Column:
        return exp.column(exp.to_identifier(name, quoted=True), table=exp.to_identifier(table, quoted=True) if table else None)

    def lit(o: Operand) -> exp.Expression:
        return literal(o.value)

    def go(n: Node) -> exp.Expression:
        if isinstance(n, Const):
            return exp.true() if n.value else exp.false()
        if isinstance(n, And):
            return exp.and_(*(exp.paren(go(i), copy=False) for i in n.items), copy=False)
        if isinstance(n, Or):
            return exp.paren(exp.or_(*(exp.paren(go(i), copy=False) for i in n.items), copy=False), copy=False)
        if isinstance(n, Not):
            return exp.not_(exp.paren(go(n.item), copy=False), copy=False)
        if isinstance(n, Cmp):
            cls = {v: k for k, v in _OPS.items()}[n.op]
            return cls(this=col(n.left.name), expression=lit(n.right))
        if isinstance(n, In):
            values: list[exp.Expression] = []
            for i in n.items:
                if isinstance(i, KeySet):
                    values += [literal(k) for k in sorted(i.keys, key=repr)]
                else:
                    values.append(lit(i))
            e = exp.In(this=col(n.left.name), expressions=values) if values else exp.false()
            return exp.not_(e, copy=False) if n.negated else e
        raise TypeError(f"unknown node {n!r}")

    present = [exp.Not(this=exp.Is(this=col(f), expression=exp.Null())) for f in sorted(fields(node))]
    return exp.and_(*present, exp.paren(go(node), copy=False), copy=False) if present else go(node)


def nnf(node: Node, negate: bool = False) -> Node:
    """Negation normal form: NOT pushed onto comparisons and IN (De Morgan)."""
    if isinstance(node, Const):
        return Const(node.value != negate)
    if isinstance(node, Not):
        return nnf(node.item, not negate)
    if isinstance(node, And):
        items = tuple(nnf(i, negate) for i in node.items)
        return Or(items) if negate else And(items)
    if isinstance(node, Or):
        items = tuple(nnf(i, negate) for i in node.items)
        return And(items) if negate else Or(items)
    if isinstance(node, Cmp):
        return Cmp(_NEGATE[node.op], node.left, node.right) if negate else node
    if isinstance(node, In):
        return In(node.left, node.items, node.negated != negate)
    raise TypeError(f"unknown node {node!r}")


_MONGO = {"=": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def to_mongo(node: Node) -> dict:
    """Mongo-style metadata filter (LangChain's dict filters for Chroma, PGVector, ...)."""
    def values(items) -> list:
        out: list = []
        for i in items:
            out += sorted(i.keys, key=repr) if isinstance(i, KeySet) else [i.value]
        return out

    def go(n: Node) -> dict:
        if isinstance(n, Const):
            if n.value:
                return {}
            raise ValueError("a predicate that is always FALSE has no Mongo form")
        if isinstance(n, And):
            return {"$and": [go(i) for i in n.items]}
        if isinstance(n, Or):
            return {"$or": [go(i) for i in n.items]}
        if isinstance(n, Cmp):
            return {n.left.name: {_MONGO[n.op]: n.right.value}}
        if isinstance(n, In):
            return {n.left.name: {"$nin" if n.negated else "$in": values(n.items)}}
        raise TypeError(f"unknown node {n!r}")

    return go(nnf(node))


def describe(node: Node) -> str:
    """Readable form of a bound predicate (for decisions and logs; key sets are summarised)."""
    if isinstance(node, Const):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, And):
        return " AND ".join(f"({describe(i)})" for i in node.items)
    if isinstance(node, Or):
        return " OR ".join(f"({describe(i)})" for i in node.items)
    if isinstance(node, Not):
        return f"NOT ({describe(node.item)})"
    if isinstance(node, Cmp):
        return f"{node.left.name} {node.op} {node.right.value!r}"
    if isinstance(node, In):
        parts = [f"entity_scope({i.entity}) [{len(i.keys)} keys]" if isinstance(i, KeySet) else repr(i.value) for i in node.items]
        return f"{node.left.name} {'NOT IN' if node.negated else 'IN'} ({', '.join(parts)})"
    return repr(node)
