"""sqlglot's Dialect, tokenizer and parser objects, built once instead of per call.

sqlglot builds a new Dialect from a name string on every parse, generate and
normalize call, and a new tokenizer and parser on every parse: about 10 us of
the 70-80 us a corpus query takes to parse, and check_sql parses twice (the
query, then its output in verify_output). A Dialect holds only its settings
and never changes after construction, so one per name is shared. A tokenizer
and a parser keep the state of the text they are reading, so each thread has
its own; both reset that state at the start of every call
(TokenizerCore.tokenize, Parser._parse).
"""

from __future__ import annotations

import threading
from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

# Dialects whose generated SQL quotes text one plain way: strings '...' with '' as the only escape,
# identifiers "..." with "" as the only escape. The output check (verify_output.quoted_pieces) and
# the audit redaction of governed SQL (audit.sql_text.redact_generated) read such SQL with one regex.
PLAIN_QUOTING_DIALECTS = frozenset({"duckdb", "postgres", "sqlite"})

MAX_READERS = 16  # per thread; a dialect name may carry settings, so names are not a fixed set


@lru_cache(maxsize=64)  # bounded for the same reason
def sqlglot_dialect(name: str) -> Dialect:
    """The Dialect for ``name``; raises ValueError for an unknown one (never cached)."""
    return Dialect.get_or_raise(name)


_local = threading.local()


def parse(sql: str, name: str) -> list[exp.Expression | None]:
    """``sqlglot.parse(sql, read=name)``, with this thread's tokenizer and parser for ``name``."""
    return read(sql, name)[1]


def read(sql: str, name: str) -> tuple[list, list[exp.Expression | None]]:
    """``sql``'s tokens and its statements (``parse``): the tokens, which the parser only reads,
    serve later steps that need them (the audit record's literal redaction) without tokenizing again."""
    tokenizer, parser = _reader(name)
    tokens = tokenizer.tokenize(sql)
    if name in MISREAD_OPERATORS and MISREAD_OPERATORS[name][0] in sql:
        _refuse_misread(tokens, name)
    if name in TRUNCATED_CALLS:
        _refuse_truncated(tokens, name)
    return tokens, parser.parse(tokens, sql)


def tokenize(sql: str, name: str) -> list:
    """``sql``'s tokens in dialect ``name`` (sqlglot Tokens), with this thread's tokenizer."""
    return _reader(name)[0].tokenize(sql)


def generate(tree: exp.Expression, name: str) -> str:
    """``tree.sql(dialect=name, comments=False, copy=False)`` with this thread's generator for ``name``.

    Comments are never emitted; the tree is generated in place (sqlglot's generator may change
    it: the caller's tree is its own and is not generated twice). A Generator keeps only its
    settings between calls (Generator.generate resets its messages)."""
    writers = getattr(_local, "writers", None)
    if writers is None:
        writers = _local.writers = {}
    writer = writers.get(name)
    if writer is None:
        if len(writers) >= MAX_READERS:
            writers.clear()
        writer = writers[name] = sqlglot_dialect(name).generator(comments=False)
    return writer.generate(tree, copy=False)


def _reader(name: str):
    readers = getattr(_local, "readers", None)
    if readers is None:
        readers = _local.readers = {}
    reader = readers.get(name)
    if reader is None:
        dialect = sqlglot_dialect(name)
        if len(readers) >= MAX_READERS:
            readers.clear()
        reader = readers[name] = (dialect.tokenizer(), dialect.parser())
    return reader


# Operators sqlglot reads as something else in a dialect. PostgreSQL has no `<=>`; pgvector
# defines it as cosine distance, which sqlglot turns into IS NOT DISTINCT FROM (MySQL's
# null-safe equality): a different query, silently. A ValueError is a parse failure (denied).
MISREAD_OPERATORS = {"postgres": ("<=>", "NULLSAFE_EQ")}


def _refuse_misread(tokens, name: str) -> None:
    text, kind = MISREAD_OPERATORS[name]
    if any(token.token_type.name == kind and token.text == text for token in tokens):
        raise UnsupportedOperator(f"operator {text} is not supported on {name} (sqlglot would read it as "
                                  "IS NOT DISTINCT FROM; pgvector distance operators are not governed)")


# Functions whose extra arguments sqlglot's parser drops in a dialect: `DATE('now', '-7 days')`
# (SQLite's modifiers) reads in MySQL as DATE('now'), a different query, silently. name -> the
# most arguments it keeps.
TRUNCATED_CALLS = {"mysql": {"DATE": 1}}


def _refuse_truncated(tokens, name: str) -> None:
    limits = TRUNCATED_CALLS[name]
    for i, token in enumerate(tokens[:-1]):
        limit = limits.get(token.text.upper())
        if limit is None or tokens[i + 1].token_type.name != "L_PAREN":
            continue
        depth, commas = 0, 0
        for later in tokens[i + 1:]:
            kind = later.token_type.name
            if kind in ("L_PAREN", "L_BRACKET"):
                depth += 1
            elif kind in ("R_PAREN", "R_BRACKET"):
                depth -= 1
                if depth == 0:
                    break
            elif kind == "COMMA" and depth == 1:
                commas += 1
        if commas + 1 > limit:
            raise UnsupportedOperator(f"{token.text.upper()}() with {commas + 1} arguments is not supported on {name} "
                                      f"(sqlglot would keep only {limit}: a different query)")


class UnsupportedOperator(ValueError):
    pass
