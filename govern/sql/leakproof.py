"""Which expressions may run on rows a row filter will remove: PostgreSQL's "leakproof", on the tree.

A governed relation hides rows with its row filter. If the database evaluated a
user's predicate on a hidden row before the filter removed it, a predicate that
can raise (``1/(CASE WHEN salary > 100000 THEN 0 ELSE 1 END)``, a failing
cast, ``error()``) would tell the user something about that row. PostgreSQL
solves this for its own row-level security with *leakproof* functions: a qual
may run before the security filter only if it cannot raise and has no side
effect. govern decides the same on the query tree, so the decision holds on
every engine:

leakproof
    column references to unmasked columns of governed tables (and to derived
    columns whose definition is leakproof), literals and bound values,
    comparisons between operands of one type family (a string literal that is
    a valid date or timestamp counts as one for a date or timestamp column),
    ``AND`` / ``OR`` / ``NOT``, ``IS [NOT] NULL``, ``IN`` and ``BETWEEN`` over
    constants of the operand's family, ``LIKE`` / ``ILIKE`` of text with a
    constant pattern (at most 1,000 characters), ``EXISTS (...)`` (its own predicates are judged where they
    stand), ``IN (SELECT c ...)`` of a leakproof column of the same family,
    ``count``, ``min``, ``max``, ``lower``, ``upper``, ``length``, ``trim``,
    ``coalesce`` over leakproof arguments of one family, the clock
    (``CURRENT_DATE``, ``now()``) and the clock plus or minus an interval literal.

not leakproof (when in doubt)
    casts of columns, arithmetic on columns (it can overflow or divide by
    zero), masked columns, cross-family comparisons (an implicit cast can
    fail), scalar subqueries (more than one row raises), regular expressions,
    every other function.

The select list, GROUP BY, aggregates, window functions and ORDER BY run on
the rows that every filter let through (tested per engine in the error-channel
families); what matters are the predicates: WHERE, JOIN ON / USING, HAVING and
QUALIFY of every query block, and the definitions of derived columns those
predicates read (a predicate on a derived column is pushed down as the column's
defining expression).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

from sqlglot import exp

from govern.sql.scope import Analysis, Binding, Output

NUMERIC, TEXT, TEMPORAL, BOOLEAN = "numeric", "text", "temporal", "boolean"
_NUMERIC = re.compile(r"^(TINY|SMALL|MEDIUM|BIG|HUGE|U)?(INT|INTEGER|INT\d+)|^(DECIMAL|NUMERIC|REAL|DOUBLE|FLOAT|NUMBER|MONEY)", re.I)
_TEXT = re.compile(r"^(VARCHAR|TEXT|CHAR|CHARACTER|STRING|BPCHAR|NVARCHAR|NCHAR|CLOB|CITEXT)", re.I)
_DATE = re.compile(r"^DATE$", re.I)
_TEMPORAL = re.compile(r"^(DATE|TIMESTAMP|DATETIME|TIME)", re.I)
_BOOLEAN = re.compile(r"^(BOOL|BOOLEAN)$", re.I)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")
# A number literal an engine compares with a numeric column without a cast that can fail: digits,
# optionally a fraction; its scale and integer digits are checked against a DECIMAL column's.
PLAIN_NUMBER = re.compile(r"^(\d{1,18})(?:\.(\d{1,9}))?$")
_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$", re.I)
_INTEGER = re.compile(r"^(TINY|SMALL|MEDIUM|BIG|HUGE|U)?(INT|INTEGER|INT\d+)$", re.I)

COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
CONNECTIVES = (exp.And, exp.Or, exp.Not, exp.Paren)
SAME_FAMILY_FUNCTIONS = (exp.Coalesce,)
TEXT_FUNCTIONS = (exp.Lower, exp.Upper, exp.Trim)
CLOCK = (exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentTime, exp.CurrentDatetime)
CLOCK_NAMES = frozenset({"now", "current_date", "current_timestamp", "today", "localtimestamp", "localtime"})
SAFE_AGGREGATES = (exp.Count, exp.Min, exp.Max)
# SQLite raises "LIKE or GLOB pattern too complex" past SQLITE_MAX_LIKE_PATTERN_LENGTH (50,000 bytes by
# default, lower in some builds): a long pattern is not leakproof anywhere.
MAX_LEAKPROOF_PATTERN = 1000


def family_of_type(type_name: str | None) -> str | None:
    if not type_name:
        return None
    name = type_name.strip()
    if _BOOLEAN.match(name):
        return BOOLEAN
    if _NUMERIC.match(name):
        return NUMERIC
    if _TEXT.match(name):
        return TEXT
    if _TEMPORAL.match(name):
        return TEMPORAL
    return None


def is_date_literal(text: str, date_only: bool) -> bool:
    """A string literal every engine reads as the same date (or timestamp) without error: only
    ``YYYY-MM-DD`` and ``YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]]`` (Python reads more ISO forms, such as
    week dates ``2024-W01-1``, that engines do not: those would fail only when a row reaches them)."""
    if ISO_DATE.match(text):
        try:
            date.fromisoformat(text)
            return True
        except ValueError:
            return False
    if date_only or not ISO_TIMESTAMP.match(text):
        return False
    try:
        datetime.fromisoformat(text)
        return True
    except ValueError:
        return False


class Judge:
    """Judges expressions of one analysed query; memoized per node.

    ``columns``: BaseColumn -> (catalog type, masked) for every column of every governed
    reference (a handle counts as unmasked text: it is computed by govern and cannot raise).
    """

    def __init__(self, analysis: Analysis, columns: dict[tuple[int, str], tuple[str | None, bool]]):
        self.analysis = analysis
        self.columns = columns
        self._memo: dict[int, bool] = {}
        self._family: dict[int, str | None] = {}
        self._busy: set[int] = set()

    # ------------------------------------------------------------------ leakproof

    def leakproof(self, node: exp.Expression) -> bool:
        key = id(node)
        if key in self._memo:
            return self._memo[key]
        if key in self._busy:
            return False  # a definition that reads itself: be safe
        self._busy.add(key)
        try:
            result = self._leakproof(node)
        finally:
            self._busy.discard(key)
        self._memo[key] = result
        return result

    def _leakproof(self, node: exp.Expression) -> bool:
        if isinstance(node, exp.Alias):
            return self.leakproof(node.this)
        if isinstance(node, (exp.Literal, exp.Null, exp.Boolean)):
            return True
        if isinstance(node, exp.Column):
            return self.column_leakproof(node)
        if isinstance(node, (exp.And, exp.Or)):
            return all(self.leakproof(leaf) for leaf in _connected(node))  # iterative: long chains are flat
        if isinstance(node, CONNECTIVES):
            return all(self.leakproof(child) for child in node.iter_expressions())
        if isinstance(node, COMPARISONS):
            return self.leakproof(node.this) and self.leakproof(node.expression) and self.compatible(node.this, node.expression)
        if isinstance(node, exp.Is):
            return self.leakproof(node.this) and isinstance(node.expression, (exp.Null, exp.Boolean))
        if isinstance(node, exp.Between):
            parts = [node.this, node.args.get("low"), node.args.get("high")]
            return all(p is not None and self.leakproof(p) for p in parts) and all(
                self.compatible(node.this, p) for p in parts[1:])
        if isinstance(node, exp.In):
            return self.in_leakproof(node)
        if isinstance(node, (exp.Like, exp.ILike)):
            pattern = node.expression
            return (self.leakproof(node.this) and self.family(node.this) == TEXT and isinstance(pattern, exp.Literal)
                    and pattern.is_string and len(pattern.this) <= MAX_LEAKPROOF_PATTERN
                    and not _ends_in_escape(pattern.this) and not node.args.get("escape"))
        if isinstance(node, exp.Exists):
            return True  # its select list is not evaluated; its predicates are judged where they stand
        if isinstance(node, CLOCK) or (isinstance(node, exp.Anonymous) and node.name.lower() in CLOCK_NAMES
                                       and not node.expressions):
            return True
        if isinstance(node, (exp.Add, exp.Sub)):
            # the clock (or a date literal) plus or minus an interval literal
            left, right = node.this, node.expression
            return isinstance(right, exp.Interval) and _constant_interval(right) and self.constant_temporal(left)
        if isinstance(node, exp.Cast):
            return self.constant_temporal(node)
        if isinstance(node, TEXT_FUNCTIONS):
            return self.family(node.this) == TEXT and self.leakproof(node.this) and not any(
                v for k, v in node.args.items() if k != "this")
        if isinstance(node, exp.Length):
            return self.family(node.this) == TEXT and self.leakproof(node.this)
        if isinstance(node, SAME_FAMILY_FUNCTIONS):
            parts = [node.this, *node.expressions]
            return all(self.leakproof(p) for p in parts) and all(self.compatible(parts[0], p) for p in parts[1:])
        if isinstance(node, SAFE_AGGREGATES):
            return all(self.leakproof(child) for child in node.iter_expressions() if not isinstance(child, exp.Star))
        return False

    def column_leakproof(self, node: exp.Column) -> bool:
        binding = self.analysis.bindings.get(id(node))
        if binding is None:
            return False
        return self.binding_leakproof(binding)

    def binding_leakproof(self, binding: Binding) -> bool:
        if binding.kind == "lambda":
            return False
        if binding.kind == "row":
            return False
        if binding.kind == "merged":
            return all(isinstance(o, Output) and self.output_leakproof(o) for o in binding.outputs)
        return self.output_leakproof(binding.output)

    def output_leakproof(self, output: Output | None) -> bool:
        if output is None or output.hidden:
            return False
        if output.base is not None and output.expr is None:
            _, masked = self.columns.get(output.base, (None, True))
            return not masked
        if output.alternatives:
            return all(self.output_leakproof(o) for o in output.alternatives)
        if output.expr is not None:
            return self.leakproof(output.expr)
        return False  # VALUES / UNNEST / recursive outputs: not judged

    def in_leakproof(self, node: exp.In) -> bool:
        if not self.leakproof(node.this):
            return False
        query = node.args.get("query")
        if query is not None:
            scope = self.analysis.scope_of.get(id(query)) or self.analysis.scope_of.get(id(query.this) if isinstance(query, exp.Subquery) else 0)
            outputs = [o for o in (scope.outputs or []) if not o.hidden] if scope is not None else []
            if len(outputs) != 1:
                return False
            out = outputs[0]
            return self.output_leakproof(out) and self.family(node.this) is not None and \
                self.family(node.this) == self.output_family(out)
        if node.args.get("unnest") or node.args.get("field"):
            return False
        family = self.family(node.this)  # once: an IN list can hold tens of thousands of constants
        if family is None:
            return False
        for value in node.expressions:
            if isinstance(value, exp.Null):
                continue
            if isinstance(value, exp.Literal):
                if (TEXT if value.is_string else NUMERIC) == family and (value.is_string or self.numbers_fit(node.this, value)):
                    continue
                if value.is_string and family == TEMPORAL and is_date_literal(value.this, self.date_only(node.this)):
                    continue
            elif isinstance(value, exp.Boolean) and family == BOOLEAN:
                continue
            return False
        return True

    def constant_temporal(self, node: exp.Expression) -> bool:
        """The clock, or a valid date / timestamp literal (`DATE '2024-01-01'`, CAST('...' AS DATE))."""
        if isinstance(node, CLOCK) or (isinstance(node, exp.Anonymous) and node.name.lower() in CLOCK_NAMES
                                       and not node.expressions):
            return True
        if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
            target = node.to.sql().upper()
            return bool(_TEMPORAL.match(target)) and is_date_literal(node.this.this, bool(_DATE.match(target)))
        return False

    # ------------------------------------------------------------------ families

    def family(self, node: exp.Expression) -> str | None:
        key = id(node)
        if key in self._family:
            return self._family[key]
        self._family[key] = None  # cycles: unknown
        result = self._family_of(node)
        self._family[key] = result
        return result

    def _family_of(self, node: exp.Expression) -> str | None:
        if isinstance(node, (exp.Alias, exp.Paren)):
            return self.family(node.this)
        if isinstance(node, exp.Literal):
            return TEXT if node.is_string else NUMERIC
        if isinstance(node, exp.Boolean):
            return BOOLEAN
        if isinstance(node, exp.Column):
            binding = self.analysis.bindings.get(id(node))
            if binding is None or binding.kind not in ("column", "output", "merged"):
                return None
            if binding.kind == "merged":
                families = {self.output_family(o) if isinstance(o, Output) else None for o in binding.outputs}
                return families.pop() if len(families) == 1 else None
            return self.output_family(binding.output)
        if isinstance(node, exp.Count):
            return NUMERIC
        if isinstance(node, (exp.Min, exp.Max, exp.Coalesce)):
            return self.family(node.this)
        if isinstance(node, (exp.Lower, exp.Upper, exp.Trim)):
            return TEXT
        if isinstance(node, exp.Length):
            return NUMERIC
        if isinstance(node, exp.Cast):
            return family_of_type(node.to.sql())
        if self.constant_temporal(node) or (isinstance(node, (exp.Add, exp.Sub)) and isinstance(node.expression, exp.Interval)):
            return TEMPORAL
        return None

    def output_family(self, output: Output | None) -> str | None:
        if output is None:
            return None
        if output.base is not None:
            type_name, _ = self.columns.get(output.base, (None, True))
            return family_of_type(type_name)
        if output.alternatives:
            families = {self.output_family(o) for o in output.alternatives}
            return families.pop() if len(families) == 1 else None
        if output.expr is not None:
            return self.family(output.expr)
        return None

    def compatible(self, left: exp.Expression, right: exp.Expression) -> bool:
        """Comparing them needs no conversion that could fail on some row."""
        if isinstance(left, exp.Null) or isinstance(right, exp.Null):
            return True
        lf, rf = self.family(left), self.family(right)
        if lf == NUMERIC and rf == NUMERIC:
            return self.numbers_fit(left, right) and self.numbers_fit(right, left)
        if lf is not None and lf == rf:
            return True
        for column_side, other in ((left, right), (right, left)):
            if isinstance(other, exp.Literal) and other.is_string and self.family(column_side) == TEMPORAL:
                return is_date_literal(other.this, self.date_only(column_side))
        return False

    def numbers_fit(self, side: exp.Expression, other: exp.Expression) -> bool:
        """When ``other`` is a number literal: comparing it with ``side`` casts nothing that can fail.

        Engines compare a DECIMAL(p, s) column with a literal in a common DECIMAL type; when the
        literal's scale or integer digits exceed the column's, DuckDB narrows *the column* to the
        literal's type (``total > 0.000...1`` of scale 33 casts total to DECIMAL(38,33), which fails
        for totals of 10^5 and more), so the comparison raises on some rows and not others."""
        if not isinstance(other, exp.Literal):
            return True
        match = PLAIN_NUMBER.match(other.this)
        if match is None:
            return False
        digits, fraction = len(match.group(1).lstrip("0")), len(match.group(2) or "")
        type_name = self.type_of(side)
        if type_name is None:
            return isinstance(side, exp.Literal) or fraction == 0 and digits <= 9
        name = type_name.strip()
        decimal = _DECIMAL.match(name)
        if decimal:
            precision, scale = int(decimal.group(1)), int(decimal.group(2) or 0)
            return fraction <= scale and digits <= precision - scale
        if _INTEGER.match(name):
            return fraction == 0
        return bool(re.match(r"^(REAL|DOUBLE|FLOAT)", name, re.I))

    def type_of(self, node: exp.Expression) -> str | None:
        """The catalog type of a governed column the node is (unchanged), else None."""
        while isinstance(node, (exp.Paren, exp.Alias)):
            node = node.this
        if isinstance(node, exp.Column):
            binding = self.analysis.bindings.get(id(node))
            output = binding.output if binding is not None and binding.kind == "column" else None
            if output is not None and output.base is not None:
                type_name, _ = self.columns.get(output.base, (None, True))
                return type_name
        return None

    def date_only(self, node: exp.Expression) -> bool:
        if isinstance(node, exp.Column):
            binding = self.analysis.bindings.get(id(node))
            output = binding.output if binding is not None else None
            if output is not None and output.base is not None:
                type_name, _ = self.columns.get(output.base, (None, True))
                return bool(type_name and _DATE.match(type_name.strip()))
        return True


def _connected(node: exp.Expression) -> list[exp.Expression]:
    """The operands of a chain of one connective (a AND b AND c ...), without recursion."""
    kind, out, stack = type(node), [], [node]
    while stack:
        current = stack.pop()
        if type(current) is kind:
            stack += [current.expression, current.this]
        else:
            out.append(current)
    return out


def _ends_in_escape(pattern: str) -> bool:
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    return trailing % 2 == 1


def _constant_interval(node: exp.Interval) -> bool:
    return isinstance(node.this, exp.Literal) and not list(node.find_all(exp.Column))


# Clause arguments of a SELECT whose expressions run on the block's rows, and those of them
# that, in the outermost SELECT, run only on its final rows (ROOT_CLAUSES).
_ROW_CLAUSES = ("where", "having", "qualify", "group", "order", "distinct", "limit", "offset", "windows")
_OUTERMOST_ONLY = frozenset({"having", "qualify", "group", "order", "distinct", "windows"})


def clause_items(node: exp.Expression, outermost: bool = False) -> Iterator[exp.Expression]:
    """The expressions of one block (a SELECT, VALUES or set operation), as the leakproof judge
    takes them: its select-list items (bare stars aside: they compute nothing), JOIN conditions,
    WHERE, GROUP BY keys, HAVING, QUALIFY, ORDER BY keys, DISTINCT ON, named windows, LIMIT and
    OFFSET, the values of a VALUES list. ``outermost``: the query's outermost block, whose select
    list and final clauses (ROOT_CLAUSES) run on its final rows and are left out. Subqueries in
    them are blocks of their own; the judge takes EXISTS as leakproof and them where they stand."""
    if isinstance(node, exp.Values):
        for row in node.expressions:
            yield from (row.expressions if isinstance(row, exp.Tuple) else [row])
        return
    if not isinstance(node, exp.Select):  # a set operation: its ORDER BY / LIMIT
        for key in ("order", "limit", "offset"):
            if not (outermost and key in _OUTERMOST_ONLY):
                yield from _parts(node.args.get(key))
        return
    if not outermost:
        for projection in node.expressions:
            if not (isinstance(projection, exp.Star) or isinstance(projection, exp.Column)
                    and isinstance(projection.this, exp.Star)):
                yield projection
    for join in node.args.get("joins") or ():
        if join.args.get("on") is not None:
            yield join.args["on"]
    for key in _ROW_CLAUSES:
        if not (outermost and key in _OUTERMOST_ONLY):
            yield from _parts(node.args.get(key))


def _parts(value) -> Iterator[exp.Expression]:
    """The expressions of one clause argument: a WHERE's condition, each key of a GROUP BY or
    ORDER BY (without its direction), DISTINCT ON's keys, a LIMIT's count, each named window."""
    if value is None:
        return
    if isinstance(value, list):
        for v in value:
            yield from _parts(v)
        return
    if isinstance(value, (exp.Where, exp.Having, exp.Qualify)):
        yield value.this
    elif isinstance(value, (exp.Group, exp.Order)):
        for key in value.expressions:
            yield key.this if isinstance(key, exp.Ordered) else key
    elif isinstance(value, exp.Distinct):
        on = value.args.get("on")
        if on is not None:
            yield from (on.expressions if isinstance(on, exp.Tuple) else [on])
    elif isinstance(value, (exp.Limit, exp.Offset)):
        if value.expression is not None:
            yield value.expression
    else:
        yield value
