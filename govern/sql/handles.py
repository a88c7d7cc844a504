"""Opaque handles: free text that never enters the query.

A free-text column (catalog ``free_text: true``, e.g. ticket bodies) holds PII
of any type in any place. For a principal who may not see every PII type,
masking it in the result is not enough if the query may compute on it first:
``reverse(body)``, ``body LIKE '%4111%'``, a sort, a join, a set operation or
a grouping over the raw text carries PII out in a form no detector sees, or
answers a guess. So the governed relation does not carry the raw text at all:
it carries a handle,

    [gv1:<table>.<column>:<key>:<mac>]

where ``<key>`` is the row's primary key and ``<mac>`` a keyed digest of the
rest and of the role set the relation was built for (computed by the engine
with the secret bound as a query parameter, so the handle cannot be forged or
altered without the secret, and a handle made for one role set does not
verify for another: a handle is not a bearer token). Whatever the
query does with a handle computes on the handle: comparing, grouping or
sorting handles compares rows, not text; a function over one yields a string
that is no longer a handle. After the query runs, govern finds the handles in
the result (a plain column, inside ``string_agg``, a list, a struct, a JSON
text), fetches the text of those rows through the same governed relation
(the principal's row filter applies), masks it with the principal's reveal
grants and puts the masked text where each handle was. A handle that no
longer verifies (altered by a function) is shown as it is: it reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from sqlglot import exp

# ASCII, so a handle survives any cast the query makes (to BLOB, to a narrow encoding).
OPEN, CLOSE = "[", "]"
VERSION = "gv1"
MARK = OPEN + VERSION + ":"
MAC_CHARS = 24
DOMAIN = "govern-handle/"  # keeps handle digests apart from hash-mask digests
# Non-greedy key: a key holding ':' still parses, because the MAC and the closing bracket end it.
HANDLE = re.compile(r"\[gv1:([^:\s\[\]]+)\.([^:\s\[\]]+):([^\[\]]*?):([a-p]{" + str(MAC_CHARS) + r"})\]", re.DOTALL)


@dataclass(frozen=True)
class Handle:
    table: str  # catalog table name, lower case
    column: str  # lower case
    key: str  # the primary key as text


def payload(table: str, column: str) -> str:
    return f"{table.lower()}.{column.lower()}"


def scope_of(roles) -> str:
    """The role set a handle is made for, as a short digest (part of what its MAC signs)."""
    return hashlib.sha256("\x1f".join(sorted(r.lower() for r in roles)).encode("utf-8")).hexdigest()[:16]


def handle_expression(table: str, column: str, key_column: exp.Expression, value: exp.Expression,
                      keyed_hash, dialect: str, scope: str) -> exp.Expression:
    """``CASE WHEN value IS NULL THEN NULL ELSE '[gv1:t.c:' || key || ':' || mac || ']' END``.

    ``keyed_hash(expr)`` is the engine's keyed digest of ``expr`` (hex text), with the
    secret as a query parameter; ``key_column`` is the row's primary key; ``scope`` the
    role set's digest (``scope_of``).
    """
    key_text = exp.Cast(this=key_column, to=exp.DataType.build("TEXT"))
    signed = exp.DPipe(this=exp.Literal.string(DOMAIN + scope + "/" + payload(table, column) + ":"), expression=key_text.copy(),
                       safe=False)
    mac = _letters(exp.Substring(this=keyed_hash(signed), start=exp.Literal.number(1), length=exp.Literal.number(MAC_CHARS)),
                   dialect)
    text = exp.Literal.string(f"{OPEN}{VERSION}:{payload(table, column)}:")
    for part in (key_text, exp.Literal.string(":"), mac, exp.Literal.string(CLOSE)):
        text = exp.DPipe(this=text, expression=part, safe=False)
    return exp.Case(ifs=[exp.If(this=exp.Is(this=value, expression=exp.Null()), true=exp.Null())], default=text)


# The digest is written in letters only (hex digits 0-9 as g-p): a handle, or what a function
# made of one, never shows a run of digits that reads like a number from the data.
DIGITS, LETTERS = "0123456789", "ghijklmnop"
TRANSLATE_DIALECTS = frozenset({"postgres", "duckdb", "spark", "databricks", "snowflake", "trino", "presto", "oracle"})


def letters(value: exp.Expression, dialect: str) -> exp.Expression:
    """``value`` (hex text) with its digits written as letters g-p."""
    return _letters(value, dialect)


def _letters(value: exp.Expression, dialect: str) -> exp.Expression:
    if dialect in TRANSLATE_DIALECTS:
        return exp.Anonymous(this="translate", expressions=[value, exp.Literal.string(DIGITS), exp.Literal.string(LETTERS)])
    for digit, letter in zip(DIGITS, LETTERS):
        value = exp.Anonymous(this="replace", expressions=[value, exp.Literal.string(digit), exp.Literal.string(letter)])
    return value


def mac(secret: str, table: str, column: str, key: str, scope: str) -> str:
    """What the engine computes for a handle: sha256(secret || domain || scope || '/' || payload || ':' || key),
    in letters."""
    data = (secret + DOMAIN + scope + "/" + payload(table, column) + ":" + key).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:MAC_CHARS].translate(str.maketrans(DIGITS, LETTERS))


def find(text: str, secret: str, scope: str) -> list[tuple[re.Match, Handle]]:
    """The handles in ``text`` that verify for the role set ``scope`` (others are left out)."""
    if MARK not in text:
        return []
    out = []
    for match in HANDLE.finditer(text):
        table, column, key, digest = match.groups()
        if hmac.compare_digest(digest, mac(secret, table, column, key, scope)):
            out.append((match, Handle(table, column, key)))
    return out


def replace(text: str, secret: str, scope: str, texts: dict[Handle, str], missing: str) -> str:
    """``text`` with every verified handle replaced by its (masked) text, or ``missing``."""
    if MARK not in text:
        return text
    pieces, last = [], 0
    for match, handle in find(text, secret, scope):
        pieces += [text[last:match.start()], texts.get(handle, missing)]
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)
