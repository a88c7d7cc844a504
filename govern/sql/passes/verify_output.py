"""Pass 8: parse the governed SQL again and check it reads only what govern put there.

Defence in depth behind check_statement's verbatim-text invariant: whatever
generator quirk might turn user text into SQL, the emitted statement must
parse back to exactly one query whose base-table reads, CTEs, unknown or
denied function calls and parameters are the ones in the tree govern
generated it from. Anything else denies.

The check runs on the query with a marker table in each governed relation's
place (the part that came from the user; emit splices the relations' text
into exactly that text), so each relation's place must read back as one
table read, of its marker. Each relation's own text was parsed back and
checked the same way when it was rendered (relation.render), once per
principal's values.

Most queries are vouched for by their tokens instead of a second parse
(``tokens_vouch``, a third of the cost): the way user text becomes SQL is a
piece of it leaving the quotes it was written in (a string literal or quoted
identifier emitted unquoted, or with an escape the dialect reads differently)
or text emitted verbatim that is more than one word. The second cannot pass
check_statement; the first is seen in the tokens: every string literal and
quoted identifier of the tree must come out as exactly as many whole tokens of
its kind and value as the tree holds, every other piece of text of the tree
must be one plain word, and the statement must have no comment, semicolon,
parameter or unusual string token. When anything there does not hold (the
generator rewrote a literal, a value is not a plain word), the statement is
parsed back and compared as above: the tokens decide only to skip that work,
never to deny.
"""

from __future__ import annotations

import re
from collections import Counter

from sqlglot import exp

from govern.errors import Denied
from govern.sql.decision import SqlContext
from govern.sql.dialect import parse as parse_sql
from govern.sql.dialect import PLAIN_QUOTING_DIALECTS, tokenize
from govern.sql.passes.resolve import defining_cte
from govern.sql.safety import ALLOWED_ANONYMOUS, DENIED_FUNCTIONS, DENIED_TYPED


def _denied(name: str) -> bool:
    return bool(DENIED_FUNCTIONS.match(name)) or name.upper() in DENIED_TYPED


# What footprint does with a node, decided once per node class (a tree has many
# nodes but few classes): most classes reach nothing and cost one dict lookup.
_TABLE, _CTE, _ANONYMOUS, _DENIED_TYPED, _PARAMETER = "table", "cte", "anonymous", "denied typed", "parameter"
_KINDS: dict[type, str | None] = {}


def _kind(cls: type) -> str | None:
    if issubclass(cls, exp.Table):
        return _TABLE
    if issubclass(cls, exp.CTE):
        return _CTE
    if issubclass(cls, exp.Anonymous):
        return _ANONYMOUS
    if issubclass(cls, exp.Func):
        # A typed function's name is its class's (sql_name is a classmethod).
        return _DENIED_TYPED if _denied(cls.sql_name()) else None
    if issubclass(cls, (exp.Parameter, exp.Placeholder)):
        return _PARAMETER
    return None


def footprint(tree: exp.Expression, allowed: frozenset[str] = ALLOWED_ANONYMOUS) -> Counter:
    """What a statement reaches: base tables and table functions read, CTEs defined,
    functions check_statement would refuse (unknown or denied), parameters.

    Functions it would allow are not counted: sqlglot may parse back as a typed
    function what was built as an anonymous one (ENCODE, SHA256), so counting
    them would compare spellings, not reach."""
    seen: Counter = Counter()
    kinds = _KINDS
    named: list[exp.Table] = []  # tables named by an identifier: base tables or CTE references
    for node in tree.walk():
        cls = type(node)
        kind = kinds[cls] if cls in kinds else kinds.setdefault(cls, _kind(cls))
        if kind is None:
            continue
        if kind is _TABLE:
            if isinstance(node.this, exp.Identifier):
                named.append(node)
            else:
                seen[("table function", type(node.this).__name__.lower())] += 1
        elif kind is _CTE:
            seen[("cte", node.alias.lower())] += 1  # an injected CTE could stand in for a lookup table
        elif kind is _ANONYMOUS:
            name = str(node.name)
            if _denied(name) or name.lower() not in allowed:
                seen[("function", name.lower())] += 1
        elif kind is _DENIED_TYPED:
            seen[("function", cls.sql_name().lower())] += 1
        else:
            seen[("parameter", "")] += 1
    # Without a CTE anywhere above, no name can refer to one: skip the lookups up the tree.
    no_ctes = tree.parent is None and not any(what == "cte" for what, _ in seen)
    for node in named:
        if no_ctes or defining_cte(node) is None:
            seen[("table", node.name.lower())] += 1
        else:
            seen[("table function", "identifier")] += 1  # a CTE reference
    return seen


def parse_back(sql: str, dialect: str) -> exp.Expression:
    try:
        statements = [s for s in parse_sql(sql, dialect) if s is not None]
    except Exception as err:  # noqa: BLE001 - any failure to re-read our own output denies
        raise Denied(f"internal check: the governed SQL does not parse back ({type(err).__name__}); denied") from None
    if len(statements) != 1 or not isinstance(statements[0], (exp.Select, exp.SetOperation, exp.Subquery)):
        raise Denied("internal check: the governed SQL is not exactly one query; denied")
    return statements[0]


def verify_output(ctx: SqlContext) -> None:
    if not ctx.bundle.rules.settings.verify_output:
        return
    if tokens_vouch(ctx.skeleton_sql, ctx.tree, ctx.dialect):
        return
    check_round_trip(ctx.skeleton_sql, ctx.tree, ctx.dialect, ctx.bundle.functions(ctx.dialect))


def check_round_trip(sql: str, tree: exp.Expression, dialect: str, allowed: frozenset[str] = ALLOWED_ANONYMOUS) -> None:
    """Deny unless ``sql`` parses back to what ``tree`` (which it was generated from) reaches."""
    emitted, expected = footprint(parse_back(sql, dialect), allowed), footprint(tree, allowed)
    if emitted != expected:
        extra, missing = sorted(emitted - expected), sorted(expected - emitted)
        raise Denied(f"internal check: the governed SQL does not parse back to what govern generated "
                     f"(extra: {extra}, missing: {missing}); denied")


# Text the generator emits without quotes that is one harmless token in every dialect
# (no `$`: a parameter sign on PostgreSQL, part of a name on SQLite).
RAW_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Tokens no governed skeleton has: only leaked text could bring them (the parse back decides).
_UNUSUAL = frozenset({"SEMICOLON", "PARAMETER", "PLACEHOLDER", "SESSION_PARAMETER", "HEREDOC_STRING", "RAW_STRING",
                      "BYTE_STRING", "NATIONAL_STRING", "HEX_STRING", "BIT_STRING", "UNICODE_STRING", "DAMP"})


def tokens_vouch(sql: str, tree: exp.Expression, dialect: str) -> bool:
    """True when ``sql``'s tokens show that no user text of ``tree`` (which ``sql`` was
    generated from) became SQL: each string literal and quoted identifier of the tree came
    out whole, as a token of its kind and value, exactly as often as the tree holds it;
    all other text of the tree is a plain word (one token, even verbatim); no comment,
    semicolon, parameter or unusual string token. False means "not shown": parse back.

    Why this is enough: a value that leaves its quotes stops being one token of its value,
    so its count falls short; the text it leaked cannot make up the count, because a token
    it contains is strictly shorter than the value itself.
    """
    strings: dict[str, int] = {}
    quoted: dict[str, int] = {}
    raw_ok = RAW_WORD.match
    for node in tree.walk():
        cls = type(node)
        if cls is exp.Literal:
            if node.args.get("is_string"):
                value = node.this
                strings[value] = strings.get(value, 0) + 1
            continue  # a number: check_statement holds it to a plain numeral
        if cls is exp.Identifier:
            value = node.this
            if node.args.get("quoted"):
                quoted[value] = quoted.get(value, 0) + 1
            elif not raw_ok(value):
                return False
            continue
        args = node.args.values()
        if str in map(type, args):  # most nodes hold no text (a C-level scan)
            for value in args:
                if type(value) is str and not raw_ok(value):
                    return False
    read = quoted_pieces(sql, dialect)
    if read is None:
        read = token_pieces(sql, dialect)
        if read is None:
            return False
    seen_strings, seen_quoted = read
    return (all(seen_strings.get(v, 0) == n for v, n in strings.items())
            and all(seen_quoted.get(v, 0) == n for v, n in quoted.items()))


def token_pieces(sql: str, dialect: str) -> tuple[dict[str, int], dict[str, int]] | None:
    """The string literals and quoted identifiers of ``sql`` as the dialect's tokenizer reads them
    (value -> count); None when a comment, semicolon, parameter or unusual string token shows."""
    try:
        tokens = tokenize(sql, dialect)
    except Exception:  # noqa: BLE001 - the parse back reports it
        return None
    seen_strings: dict[str, int] = {}
    seen_quoted: dict[str, int] = {}
    for token in tokens:
        kind = token.token_type.name
        if token.comments or kind in _UNUSUAL:
            return None
        if kind == "STRING":
            seen_strings[token.text] = seen_strings.get(token.text, 0) + 1
        elif kind == "IDENTIFIER":
            seen_quoted[token.text] = seen_quoted.get(token.text, 0) + 1
    return seen_strings, seen_quoted


_PIECE = re.compile(r"""'((?:[^'\\]|'')*)'|"((?:[^"\\]|"")*)"|([^'"]+)""")
# Text between the quoted pieces that every one of those engines and sqlglot's tokenizers read
# alike, with no comment, statement separator, parameter, placeholder or special string prefix:
# words, numbers, whitespace, punctuation and operators, `::` but no lone `:`.
_PLAIN_BETWEEN = re.compile(r"(?:[A-Za-z0-9_\s(),.*+/<>=!%|^~-]|::|&(?!&))*")


def quoted_pieces(sql: str, dialect: str) -> tuple[dict[str, int], dict[str, int]] | None:
    """``token_pieces`` without the tokenizer, for text in the generator's plain form (a regex
    pass, a tenth of the time): the string literals and quoted identifiers of ``sql`` (value ->
    count). None ("read it with the tokenizer") unless ``dialect`` quotes as dialect.PLAIN_QUOTING_DIALECTS do,
    no quoted piece holds a backslash (where readings of escapes differ), every quote is closed,
    no piece touches another or follows a letter, digit or ``&`` (E'', X'', U&"" prefixes), and
    all text between pieces is plain (_PLAIN_BETWEEN, no ``--`` or ``/*``). Under those
    conditions sqlglot's tokenizer reads the same pieces (tests/test_output_tokens.py)."""
    if dialect not in PLAIN_QUOTING_DIALECTS:
        return None
    strings: dict[str, int] = {}
    quoted: dict[str, int] = {}
    end = 0
    plain = _PLAIN_BETWEEN.fullmatch
    for match in _PIECE.finditer(sql):
        if match.start() != end:
            return None  # an unclosed quote, or a backslash inside quotes
        end = match.end()
        between = match.group(3)
        if between is not None:
            if not plain(between) or "--" in between or "/*" in between:
                return None
            continue
        before = sql[match.start() - 1] if match.start() else " "
        if before.isalnum() or before in "_&'\"":
            return None
        text = match.group(1)
        if text is not None:
            text = text.replace("''", "'")
            strings[text] = strings.get(text, 0) + 1
        else:
            text = match.group(2).replace('""', '"')
            quoted[text] = quoted.get(text, 0) + 1
    if end != len(sql):
        return None
    return strings, quoted
