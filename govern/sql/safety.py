"""The facts about SQL safety: what govern denies in a tree, node by node.

Statements other than SELECT / WITH / set operations anywhere in the tree (a
data-modifying CTE is a statement too), constructs with side effects (SELECT
INTO, FOR UPDATE), executable comments, bind parameters, server variables,
table functions, and every function govern does not know to be safe:
sqlglot's typed functions minus a denylist, and unknown ("anonymous")
functions only from an allowlist. Text that sqlglot emits verbatim must be a
plain word.

Each check takes one node (and the dialect, or the allowed functions) and
returns reasons; none needs a request. The check_statement pass runs them on a
user's query, the bundle loader on the SQL written in policies
(bundle/policy_sql.py), and verify_output reads the function tables.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sqlglot import exp

STATEMENT_NODES = (
    exp.DML, exp.DDL, exp.Command, exp.Set, exp.Pragma, exp.Copy, exp.Attach, exp.Detach,
    exp.Transaction, exp.Commit, exp.Rollback, exp.Use, exp.Describe, exp.LoadData, exp.Analyze,
    exp.Grant, exp.Revoke, exp.Refresh, exp.Cache, exp.Uncache, exp.Kill, exp.Show, exp.Summarize,
    exp.Install, exp.Export, exp.Declare, exp.Execute, exp.TruncateTable, exp.Comment,
)
SIDE_EFFECT_NODES = {exp.Into: "SELECT ... INTO creates a table", exp.Lock: "FOR UPDATE/SHARE takes locks",
                     exp.NextValueFor: "NEXT VALUE FOR increments a sequence"}

# Functions that read files, the network or server state, run SQL from a string,
# sleep (a timing channel) or enumerate system catalogs. Matched on the function
# name, case-insensitively, wherever the call appears.
DENIED_FUNCTIONS = re.compile(
    r"^(read_\w+|pg_\w+|lo_\w+|dblink\w*|duckdb_\w+|sqlite_\w+|pragma_\w+|query|query_table|"
    r"current_setting|set_config|getvariable|load_extension|readfile|writefile|glob|sniff_csv|"
    r"parquet_\w+|iceberg_\w+|delta_scan|\w+_scan|mysql_\w+|http_\w+|txid_\w+|inet_\w+|"
    r"version|current_database|current_schemas?|has_\w+_privilege|file_\w+|import\w*|load\w*|"
    r"sleep|benchmark|system|shell|exec\w*|copy\w*)$",
    re.IGNORECASE,
)
ALLOWED_FROM_FUNCTIONS = (exp.Unnest,)

# Functions sqlglot does not model ("anonymous") that are known to only compute
# on their arguments. Bundles extend this with `limits.functions`.
ALLOWED_ANONYMOUS = frozenset("""
    date datetime time julianday strftime unixepoch age initcap split_part lpad rpad btrim ltrim rtrim
    translate replace reverse repeat strpos instr position concat_ws char_length octet_length bit_length
    ascii chr printf format_number make_date make_time make_timestamp date_diff datediff date_add date_sub
    dayname monthname dayofweek dayofyear weekofyear isodow isoyear yearweek last_day epoch epoch_ms
    to_timestamp to_date to_number justify_days justify_hours mod sign trunc width_bucket cot degrees radians
    log10 log2 ln cbrt factorial gcd lcm nullifzero zeroifnull nvl nvl2 iif ifnull decode_case
    array_length cardinality array_to_string string_to_array list_value list_contains array_contains
    regexp_substr regexp_count regexp_matches regexp_full_match starts_with ends_with contains
    levenshtein jaro_winkler_similarity soundex md5 sha1 sha256 hash error
    to_json to_jsonb json_build_object jsonb_build_object json_object json_array json_extract_string
    encode convert_to
""".split())

# Per dialect, the functions of the engine's own catalog reviewed as computing only on their
# arguments (govern/sql/functions/<dialect>.txt, written by scripts/gen_function_lists.py).
FUNCTION_LISTS = Path(__file__).resolve().parent / "functions"


@lru_cache(maxsize=None)
def dialect_functions(dialect: str) -> frozenset[str]:
    """Functions sqlglot does not model that a query in ``dialect`` may call: govern's portable
    list plus the dialect's reviewed list (none for a dialect without one)."""
    path = FUNCTION_LISTS / f"{dialect}.txt"
    names = set(ALLOWED_ANONYMOUS)
    if path.is_file():
        names |= {line.strip().lower() for line in path.read_text().splitlines()
                  if line.strip() and not line.startswith("#")}
    return frozenset(name for name in names if not DENIED_FUNCTIONS.match(name))


# Typed sqlglot functions that reveal server state or look objects up outside the catalog.
DENIED_TYPED = frozenset({"CURRENT_VERSION", "CURRENT_SCHEMA", "CURRENT_CATALOG", "CURRENT_USER", "SESSION_USER",
                          "CURRENT_ROLE", "USER", "OBJECT_ID", "OBJECT_NAME", "TO_FILE", "SYSTEM_USER"})
# CURRENT_* is session or server state (Snowflake alone has a dozen: CURRENT_IP_ADDRESS,
# CURRENT_STATEMENT, CURRENT_WAREHOUSE, ...) except the clock, which queries legitimately read.
CLOCK_FUNCTIONS = frozenset({"CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_DATETIME",
                             "CURRENT_TIMESTAMP_LTZ", "CURRENT_TIMESTAMP_TZ", "CURRENT_TIMESTAMP_NTZ"})

PLAIN_WORD = re.compile(r"^[A-Za-z0-9_$]+$")
TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
NUMBER = re.compile(r"^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
ALNUM = re.compile(r"^[A-Za-z0-9]*$")


def verbatim_text(node: exp.Expression) -> list[str]:
    """Reasons for any string the generator would emit unescaped that is not a plain word."""
    out = []
    for key, value in node.args.items():
        if type(value) is not str:
            continue
        if isinstance(node, exp.Literal):
            ok = node.is_string or bool(NUMBER.match(value))
        elif isinstance(node, exp.Identifier):
            ok = node.quoted or bool(PLAIN_WORD.match(value))
        elif isinstance(node, (exp.National,)):
            ok = True  # emitted as an escaped string literal
        elif isinstance(node, (exp.HexString, exp.BitString, exp.ByteString)):
            ok = bool(ALNUM.match(value))
        elif isinstance(node, exp.DataType):
            ok = bool(TYPE_NAME.match(value))
        else:
            ok = bool(PLAIN_WORD.match(value))
        if not ok:
            out.append(f"unsupported text {value[:40]!r} in a {type(node).__name__} (only plain words may stand there)")
    return out


def comment_reasons(comments: list[str]) -> list[str]:
    if any(c.lstrip().startswith(("!", "+")) for c in comments):
        return ["executable or hint comments (/*! ... */, /*+ ... */) are not allowed"]
    return []


def fine(node, dialect) -> list[str]:
    return []


def check_for(cls: type):
    if issubclass(cls, STATEMENT_NODES):
        return lambda node, dialect: [f"only SELECT queries are allowed; found {cls.__name__.upper()} inside the query"]
    for kind, why in SIDE_EFFECT_NODES.items():
        if issubclass(cls, kind):
            return lambda node, dialect, why=why: [f"not allowed: {why}"]
    if issubclass(cls, exp.SessionParameter):
        return lambda node, dialect: [f"server variables ({node.sql(dialect)}) are not allowed"]
    if issubclass(cls, exp.Columns):
        return lambda node, dialect: ["COLUMNS(...) selectors are not supported; name the columns"]
    if issubclass(cls, exp.PositionalColumn):
        return lambda node, dialect: ["positional column references (#n) are not supported; name the columns"]
    if issubclass(cls, exp.Star):
        return _check_star
    if issubclass(cls, exp.Dot):
        return _check_dot
    if issubclass(cls, exp.DataType):
        return _check_type
    if issubclass(cls, (exp.Placeholder, exp.Parameter)):
        # The governed query's parameters are govern's own (the hash key);
        # a user placeholder could read them.
        return lambda node, dialect: [f"bind parameters ({node.sql(dialect)}) are not allowed in a governed query; inline the values"]
    if issubclass(cls, exp.Func):
        return check_function
    if issubclass(cls, exp.Table):
        return _check_source
    if issubclass(cls, exp.Lateral):
        return _check_lateral
    return fine


def _check_star(node: exp.Star, dialect: str) -> list[str]:
    """A star expands to the governed relation's columns only in a select list (or COUNT(*))."""
    holder = node.parent if isinstance(node.parent, exp.Column) else node
    parent = holder.parent
    if isinstance(parent, exp.Select) and holder.arg_key == "expressions":
        return []
    if isinstance(parent, exp.Count) and holder.arg_key == "this":
        return []
    return [f"{holder.sql(dialect)} may only stand in a select list or COUNT(*)"]


def _check_dot(node: exp.Dot, dialect: str) -> list[str]:
    if isinstance(node.expression, exp.Func) or not isinstance(node.this, (exp.Column, exp.Dot)):
        return [f"method-call and whole-row syntax ({node.sql(dialect)[:40]}) is not supported; call functions on columns"]
    return []


def _check_type(node: exp.DataType, dialect: str) -> list[str]:
    # PostgreSQL's reg* types look names up in the system catalog ('pg_authid'::regclass).
    name = node.sql("postgres").lower()
    if name.startswith("reg"):
        return [f"casts to {name} are not allowed (they read the system catalog)"]
    return []


def check_function(node: exp.Func, allowed: frozenset[str]) -> list[str]:
    name = _function_name(node)
    upper = name.upper()
    if DENIED_FUNCTIONS.match(name) or upper in DENIED_TYPED or (upper.startswith("CURRENT_") and upper not in CLOCK_FUNCTIONS):
        return [f"function {name}() is not allowed (reads files, network, server state or system catalogs)"]
    if isinstance(node, exp.Anonymous) and name.lower() not in allowed:
        return [f"function {name}() is not known to govern; only known functions are allowed "
                "(a bundle can allow more in rules.yaml limits.functions)"]
    return []


def _check_source(node: exp.Table, dialect: str) -> list[str]:
    if isinstance(node.this, exp.Identifier) or isinstance(node.this, ALLOWED_FROM_FUNCTIONS):
        return []
    if node.this is None:
        unmodelled = [k.upper().replace("_", " ") for k, v in node.args.items() if v and k not in ("alias",)]
        return [f"{' / '.join(unmodelled) or 'this FROM item'} is not supported as a source; query a governed table"]
    return [f"table function {node.this.sql(dialect)[:60]} is not allowed as a source; query a governed table"]


def _check_lateral(node: exp.Lateral, dialect: str) -> list[str]:
    if isinstance(node.this, (exp.Subquery, exp.Unnest)):
        return []
    return [f"LATERAL {type(node.this).__name__} is not allowed as a source; use LATERAL (SELECT ...)"]


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name)
    return node.sql_name()
