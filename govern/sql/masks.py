"""Column mask expressions, built on the AST for the caller's dialect.

A mask replaces a column in the governed relation's select list, so every
clause of the user's query sees only the masked value. ``hash`` is computed by
the engine with the key bound as query parameter 1: the key never enters SQL
text, and a query run without the parameter fails instead of leaking.
"""

from __future__ import annotations

from sqlglot import exp

from govern.bundle.compiled import CompiledMask
from govern.errors import Denied
from govern.sql.handles import letters

# Dialects where govern knows how to compute the keyed hash inside the engine.
HASH_DIALECTS = frozenset({"duckdb", "postgres", "sqlite", "mysql", "spark"})
# Function name govern.execute registers on sqlite3 connections for `hash` masks.
SQLITE_HASH_FUNCTION = "govern_sha256"
# Dialects whose bind parameters are positional `?`: the key is passed once per occurrence.
POSITIONAL_PARAMETER_DIALECTS = frozenset({"sqlite", "mysql", "spark"})


def text_cast(value: exp.Expression) -> exp.Expression:
    return exp.Cast(this=value, to=exp.DataType.build("TEXT"))


def hash_key_parameter(dialect: str) -> exp.Expression:
    # $1 (PostgreSQL, DuckDB) may repeat; sqlite's `?` is positional, so the
    # caller passes the key once per occurrence (SqlDecision.params does); MySQL's
    # drivers bind positionally too (govern.connections turns `?` into their `%s`).
    if dialect in POSITIONAL_PARAMETER_DIALECTS:
        return exp.Placeholder()
    return exp.Parameter(this=exp.Literal.number(1))


def mask_expression(mask: CompiledMask, column: exp.Column, column_type: str, dialect: str) -> exp.Expression:
    """The expression that stands for ``column`` under ``mask`` in ``dialect``."""
    if mask.kind == "null":
        return exp.Cast(this=exp.Null(), to=_data_type(column_type))
    if mask.kind == "redact":
        return exp.Literal.string(mask.replacement)
    if mask.kind == "partial":
        # Never more than half of the value's characters: a short value is masked whole.
        text = text_cast(column.copy())
        half = exp.Cast(this=exp.IntDiv(this=exp.Length(this=text.copy()), expression=exp.Literal.number(2)),
                        to=exp.DataType.build("INT"))
        kept = exp.Least(this=exp.Literal.number(mask.keep_last), expressions=[half])
        tail = exp.Right(this=text, expression=kept)
        # A fixed prefix hides the length; `||` keeps NULL as NULL.
        return exp.DPipe(this=exp.Literal.string(mask.prefix), expression=tail, safe=False) if mask.keep_last else (
            _unless_null(column, exp.Literal.string(mask.prefix)))
    if mask.kind == "hash":
        return _keyed_hash(column, dialect)
    if mask.kind == "placeholder":
        # A typed placeholder with a short keyed tag: equal values read the same, different ones
        # differ, across rows, columns and queries; the tag says nothing about the value.
        if dialect not in HASH_DIALECTS:
            return _unless_null(column, exp.Literal.string(f"<{mask.label}>"))
        tag = letters(exp.Substring(this=keyed_hash(column, dialect), start=exp.Literal.number(1),
                                    length=exp.Literal.number(10)), dialect)
        return _unless_null(column, _concat(exp.Literal.string(f"<{mask.label}_"), tag, exp.Literal.string(">")))
    if mask.kind == "typed_hash":
        if dialect not in HASH_DIALECTS:
            return _unless_null(column, exp.Literal.string(f"<{mask.label}>"))
        digest = exp.Substring(this=keyed_hash(column, dialect), start=exp.Literal.number(1),
                               length=exp.Literal.number(mask.hash_chars))
        return _unless_null(column, _concat(exp.Literal.string(f"<{mask.label}:"), digest, exp.Literal.string(">")))
    if mask.kind == "redact_value":
        return _unless_null(column, exp.Literal.string(mask.replacement))
    if mask.kind == "expression":
        return mask.expression.copy()  # its columns were qualified with the scanned table at load
    raise Denied(f"mask {mask.id!r} has unknown kind {mask.kind!r}")


def _unless_null(column: exp.Column, value: exp.Expression) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=exp.Is(this=column.copy(), expression=exp.Null()), true=exp.Null())], default=value)


def _concat(*parts: exp.Expression) -> exp.Expression:
    out = parts[0]
    for part in parts[1:]:
        out = exp.DPipe(this=out, expression=part, safe=False)
    return out


def _keyed_hash(column: exp.Column, dialect: str) -> exp.Expression:
    return keyed_hash(column, dialect)


def keyed_hash(value: exp.Expression, dialect: str) -> exp.Expression:
    """The engine's hex SHA-256 of ``key || value``, the key bound as query parameter 1."""
    if dialect not in HASH_DIALECTS:
        raise Denied(f"hash masks cannot be computed on dialect {dialect!r} (supported: {sorted(HASH_DIALECTS)})")
    keyed = exp.DPipe(this=text_cast(hash_key_parameter(dialect)), expression=text_cast(value.copy()), safe=False)
    if dialect == "postgres":
        digest = exp.Anonymous(this="sha256", expressions=[exp.Anonymous(this="convert_to", expressions=[keyed, exp.Literal.string("UTF8")])])
        return exp.Anonymous(this="encode", expressions=[digest, exp.Literal.string("hex")])
    if dialect == "sqlite":
        return exp.Anonymous(this=SQLITE_HASH_FUNCTION, expressions=[keyed])
    if dialect in ("mysql", "spark"):  # SHA2(text, 256): lower-case hex of the UTF-8 bytes
        return exp.SHA2(this=keyed, length=exp.Literal.number(256))
    return exp.Anonymous(this="sha256", expressions=[keyed])


def _data_type(type_name: str) -> exp.DataType:
    try:
        return exp.DataType.build(type_name)
    except Exception:  # an exotic type name: a NULL of unknown type is still NULL
        return exp.DataType.build("TEXT")
