"""SQL text as the audit trail records it: literals replaced, comments dropped.

A query's literals are where the data it looks for lives (``LIKE '%4111 1111 1111
1111%'``, ``WHERE ssn = 123456789``); a comment can hold anything. By default the
governor records ``redact_literals(sql)`` and a keyed digest of the original
(settings.audit.redact_sql_literals in rules.yaml turns it off per bundle).
Tokens come from sqlglot's tokenizer for the query's dialect, so dollar-quoted,
escaped, national, hex and byte strings are literals too; text that does not
tokenize is withheld whole, never recorded as it is.
"""

from __future__ import annotations

import re

from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from govern.sql.dialect import PLAIN_QUOTING_DIALECTS

LITERALS = frozenset({
    TokenType.STRING, TokenType.NUMBER, TokenType.BIT_STRING, TokenType.HEX_STRING, TokenType.BYTE_STRING,
    TokenType.NATIONAL_STRING, TokenType.NATIONAL_RAW_STRING, TokenType.RAW_STRING, TokenType.HEREDOC_STRING,
    TokenType.UNICODE_STRING,
})
PLACEHOLDER = "?"
COMMENT = "/* comment withheld */"
WITHHELD = "[SQL text withheld: it does not tokenize as {dialect}]"


def redact_literals(sql: str, dialect: str = "duckdb", tokens: list | None = None,
                    names: frozenset[str] | None = None) -> str:
    """``sql`` with every literal replaced by ``?`` and every comment by a marker; layout otherwise kept.

    ``tokens``: ``sql``'s tokens in ``dialect`` when the caller has them already (the parse pass
    keeps the ones it parsed), saving a second tokenization. ``names``: for a query as it was sent,
    the lower-case table and column names of the catalog (see ``redaction``); None for SQL whose
    quoted names are all names (govern's own output)."""
    return redaction(sql, dialect, tokens, names)[0]


def redaction(sql: str, dialect: str = "duckdb", tokens: list | None = None,
              names: frozenset[str] | None = None) -> tuple[str, frozenset[str]]:
    """``redact_literals``'s text, and the texts it withheld (to scrub from reasons quoting them).

    Withheld besides the tokenizer's literals, where an engine reads a literal that sqlglot's
    tokenizer reads as a name (red team round 8): a name that starts with a digit (MariaDB reads
    ``4111111111111111e0card`` as a number and an alias), and, when ``names`` is given, on SQLite a
    double-quoted name that is not one of them (SQLite reads ``"4111 1111 1111 1111"`` as a string
    when no column has that name)."""
    if tokens is None:
        try:
            tokens = Dialect.get_or_raise(dialect).tokenize(sql)
        except Exception:  # noqa: BLE001 - unknown dialect or untokenizable text: withhold it all
            return WITHHELD.format(dialect=dialect), frozenset()
    out: list[str] = []
    withheld: set[str] = set()
    append = out.append
    pos = 0
    prev_type, prev_end = None, -2
    literals, number, parameter = LITERALS, TokenType.NUMBER, TokenType.PARAMETER
    quoted_strings = names is not None and dialect in DOUBLE_QUOTED_STRING_DIALECTS
    for tok in tokens:
        start, kind = tok.start, tok.token_type
        if start != pos:  # the text between two tokens: whitespace, or a comment
            gap = sql[pos:start]
            append(gap if gap.isspace() else f" {COMMENT} ")
        text = tok.text
        # `$1` is a bind parameter's number (a placeholder, not data): kept, as the governed SQL's fast path keeps it
        if kind in literals:
            literal = not (kind is number and prev_type is parameter and prev_end + 1 == start)
        elif kind is TokenType.IDENTIFIER:
            literal = quoted_strings and sql[start] == '"' and text.lower() not in names  # type: ignore[operator]
        else:
            literal = text[:1].isdigit() or (text[:1] == "." and text[1:2].isdigit())
        if literal:
            append(PLACEHOLDER)
            withheld.add(text)
        else:
            append(sql[start:tok.end + 1])
        pos = prev_end = tok.end
        pos += 1
        prev_type = kind
    tail = sql[pos:]
    out.append(tail if not tail.strip() else f" {COMMENT}")
    return "".join(out), frozenset(withheld)


# Engines that read a double-quoted name as a string literal when no column has that name.
DOUBLE_QUOTED_STRING_DIALECTS = frozenset({"sqlite"})
# A withheld text shorter than this is not looked for in reasons (it would match too much to say anything).
MIN_SCRUBBED = 4


def scrub(reasons: list[str], withheld: frozenset[str]) -> list[str]:
    """``reasons`` with every withheld literal text (``redaction``) they quote replaced by ``?``, in any
    letter case and also where a reason cut it to its first 40 characters."""
    texts = sorted({t for v in withheld if len(v) >= MIN_SCRUBBED for t in (v, v[:40])}, key=len, reverse=True)
    if not texts or not reasons:
        return list(reasons)
    pattern = re.compile("|".join(re.escape(t) for t in texts), re.IGNORECASE)
    return [pattern.sub(PLACEHOLDER, reason) for reason in reasons]


# SQL govern generated itself (sqlglot's output for these dialects): no comments, strings quoted
# '...' with '' as the only escape, identifiers "..." with "" as the only escape. One regex pass
# finds its literals ~5x faster than tokenizing; tests/audit/test_sql_text.py checks that it
# redacts exactly what the tokenizer does on generated SQL holding any string.
_GENERATED = re.compile(r"""("(?:[^"]|"")*")|'(?:[^']|'')*'|(?<![\w$."])\d+(?:\.\d*)?(?:[eE][+-]?\d+)?(?![\w"])""")


def _keep_identifier(m: re.Match) -> str:
    return m.group(1) or PLACEHOLDER


def redact_generated(sql: str, dialect: str) -> str:
    """``redact_literals`` for SQL that govern generated (the governed SQL), on its fast path where one exists."""
    if dialect not in PLAIN_QUOTING_DIALECTS:
        return redact_literals(sql, dialect)
    return _GENERATED.sub(_keep_identifier, sql)
