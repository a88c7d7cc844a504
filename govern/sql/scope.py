"""govern's own name resolver: every column reference bound to exactly one source.

The guard's decisions (which columns a query reads, which governed relations a
predicate can reach) rest on knowing what every name in the query refers to.
A resolver that skips what it cannot place lets that name pass unexamined, so
govern binds names itself and denies whatever it cannot bind:

* Scopes follow SQL's rules. A query block sees its own FROM items; a subquery
  in an expression also sees the blocks around it (correlation); a derived
  table in FROM sees the blocks around its own block, plus the FROM items
  before it when it is LATERAL (on DuckDB every derived table may be); a CTE
  body sees what encloses its WITH; set-operation arms see what encloses the
  set operation.
* Every source lists its columns exactly: a governed table its catalog columns
  (a star expands to the permitted ones, as the governed relation does; the
  others are kept, hidden, so a reference to one is named as not permitted),
  a derived table or CTE its select list with stars expanded, a set operation
  its first arm's names, VALUES and UNNEST their column alias lists or the
  dialect's documented default names. A source whose columns cannot be listed
  makes every unqualified name that reaches it a denial: a name that is not
  one of its columns would bind to an outer query instead.
* An unqualified name binds in the nearest block where a source has it: two
  sources (not merged by USING / NATURAL) is ambiguous; a name that is a column
  and also an output alias meaning something else, in a clause where engines
  disagree on which wins, is ambiguous; a column in an outer block against a
  whole-row name in an inner one is ambiguous. Ambiguous is denied, naming it.
* Every column reference gets its *lineage*: the columns of governed table
  references (reference index, column) it is computed from, through derived
  tables, CTEs, set operations, VALUES, UNNEST and stars.

Each block's outputs and reads are computed once and reused, so a chain of
CTEs that each read the previous one twice stays linear; a work budget denies
("query too complex") instead of running on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from sqlglot import exp

from govern.errors import Denied

BaseColumn = tuple[int, str]  # (governed table reference index, lower-case column name)
NO_READS: frozenset = frozenset()
DEFAULT_BUDGET = 500_000

# Default column names of VALUES without a column alias list (index from 0), per dialect.
VALUES_NAMES: dict[str, Callable[[int], str]] = {
    "postgres": lambda i: f"column{i + 1}",
    "sqlite": lambda i: f"column{i + 1}",
    "snowflake": lambda i: f"column{i + 1}",
    "duckdb": lambda i: f"col{i}",
    "mysql": lambda i: f"column_{i}",
    "spark": lambda i: f"col{i + 1}",
    "databricks": lambda i: f"col{i + 1}",
    "trino": lambda i: f"_col{i}",
    "presto": lambda i: f"_col{i}",
}
# Dialects where a derived table in FROM may read the FROM items before it without LATERAL.
IMPLICIT_LATERAL = frozenset({"duckdb"})
# Where each dialect lets a select-list alias stand for its expression (besides ORDER BY).
LATERAL_ALIAS = frozenset({"duckdb", "snowflake", "spark", "databricks", "redshift"})  # later in the select list
WHERE_ALIAS = frozenset({"duckdb", "sqlite", "snowflake"})
# Dialects whose alias rules above are known; elsewhere an alias that an outer column could
# also claim is ambiguous.
KNOWN_ALIAS_RULES = frozenset({"postgres", "duckdb", "sqlite", "mysql", "snowflake", "spark", "databricks",
                               "redshift", "bigquery", "trino", "presto", "tsql", "oracle"})
# Which wins when a bare name is both a column of the block and an output alias of it (checked
# on DuckDB, PostgreSQL and SQLite): a whole ORDER BY item names the output; everywhere else
# (WHERE, GROUP BY, HAVING, a later select item) the input column. A name inside an ORDER BY
# expression, in DISTINCT ON or QUALIFY, or any clause of a dialect whose rules govern does not
# know, is ambiguous when the two differ: denied, asking to rename the alias.
INPUT_WINS = frozenset({"where", "group", "having", "select"})

SELECT_CLAUSES = (("expressions", "select"), ("distinct", "distinct"), ("where", "where"), ("group", "group"),
                  ("having", "having"), ("qualify", "qualify"), ("windows", "window"), ("order", "order"),
                  ("limit", "limit"), ("offset", "offset"))
# Query arguments govern does not model: denied by name rather than passed unexamined.
UNMODELLED = {
    "match": "MATCH_RECOGNIZE", "laterals": "LATERAL VIEW", "connect": "CONNECT BY", "pivots": "PIVOT / UNPIVOT",
    "prewhere": "PREWHERE", "distribute": "DISTRIBUTE BY", "sort": "SORT BY", "cluster": "CLUSTER BY",
    "sample": "TABLESAMPLE", "settings": "SETTINGS", "format": "FORMAT", "options": "OPTIONS", "for_": "FOR XML/JSON",
    "into": "SELECT INTO", "locks": "FOR UPDATE / SHARE", "exclude": "EXCLUDE", "kind": "SELECT AS STRUCT / VALUE",
    "operation_modifiers": "query modifiers", "hint": "optimizer hints", "search": "SEARCH", "cycle": "CYCLE",
    "rows_from": "ROWS FROM", "ordinality": "WITH ORDINALITY", "joins": "parenthesized joins",
    "by_name": "UNION BY NAME", "side": "outer set operations", "on": "keyed set operations",
}
QUERY_MODIFIERS = ("order", "limit", "offset")
SELECT_ARGS = ("with_", "expressions", "distinct", "from_", "joins", "where", "group", "having", "qualify",
               "windows", "order", "limit", "offset")
SET_ARGS = ("with_", "this", "expression", "distinct") + QUERY_MODIFIERS
# The arguments each construct may have set (anything else is unmodelled).
_SELECT_ARGS, _SET_ARGS = frozenset(SELECT_ARGS), frozenset(SET_ARGS)
_PARENTHESIZED_ARGS = frozenset(("this",) + QUERY_MODIFIERS)
_DERIVED_ARGS = frozenset(("this", "alias") + QUERY_MODIFIERS)
_VALUES_ARGS, _WITH_ARGS = frozenset(("expressions", "alias")), frozenset(("expressions", "recursive"))
_CTE_ARGS, _THIS_ARGS = frozenset(("this", "alias", "materialized")), frozenset(("this",))
_JOIN_ARGS = frozenset(("this", "on", "side", "kind", "using", "method"))
_DISTINCT_ARGS, _LATERAL_ARGS = frozenset(("on",)), frozenset(("this", "alias"))
_TABLE_ARGS, _UNNEST_ARGS = frozenset(("this", "alias", "db", "catalog")), frozenset(("expressions", "alias", "offset"))

# Where sqlglot keeps a bare word the generator emits as a keyword, never as a column.
KEYWORD_VARS = frozenset({
    ("Collate", "expression"), ("Extract", "this"), ("Kwarg", "this"), ("Ordered", "this"), ("Group", "expressions"),
    ("Order", "expressions"), ("Limit", "expression"), ("WindowSpec", "kind"), ("WindowSpec", "start"), ("WindowSpec", "end"),
    ("WindowSpec", "start_side"), ("WindowSpec", "end_side"), ("JSONPath", "expressions"), ("Cast", "format"),
})
KEYWORD_VAR_ARGS = frozenset({"unit", "method", "kind", "side", "style"})
# Where an Identifier outside a Column, Table or alias names no column.
NAME_IDENTIFIERS = frozenset({
    ("PropertyEQ", "this"), ("Window", "alias"), ("Window", "this"), ("Dot", "expression"), ("Collate", "expression"),
    ("Kwarg", "this"), ("Unnest", "offset"), ("Anonymous", "this"), ("Slice", "this"),
})


@dataclass(eq=False, slots=True)
class Output:
    """One column a source or query block exposes."""

    name: str | None  # lower case; None for an unnamed expression, which no name can reach
    reads: frozenset  # governed table columns (BaseColumn) it is computed from
    expr: exp.Expression | None = None  # its defining select-list item
    scope: Scope | None = None  # the block ``expr`` is evaluated in
    base: BaseColumn | None = None  # set when the value *is* that governed column, unchanged
    hidden: bool = False  # a catalog column the principal may not select (absent from the relation)
    alternatives: tuple = ()  # a set operation's column: the outputs of every arm at its position
    # a governed table's column: the binding of a name to it in its own table's block, once made (every
    # reference bound to it shares it; bindings are read-only)
    binding: Binding | None = None


@dataclass(eq=False, slots=True)
class Source:
    """A FROM item as its block sees it."""

    name: str  # lower-case name it is visible under ("" when it has none)
    kind: str  # table | cte | derived | values | unnest
    node: exp.Expression
    ref: int | None = None  # governed table reference index (kind table)
    query: Scope | None = None  # the block producing it (cte, derived)
    alias_columns: list[str] | None = None
    outputs: list[Output] | None = None
    lateral: bool = False
    names: list[str | None] | None = None  # VALUES / UNNEST column names (their reads come later)
    cte_columns: list[str] | None = None  # a CTE's own column alias list (a reference may rename again)
    by_name: dict | None = None
    made: list | None = None  # a table's outputs made so far, by position (made as names reach them)


@dataclass(eq=False, slots=True)
class Scope:
    """A query block: a SELECT, a set operation or a VALUES list."""

    node: exp.Expression
    parent: Scope | None  # where correlated names are looked up next
    parent_limit: int | None = None  # how many of the parent's sources are visible (LATERAL)
    skip_parent: bool = False  # a non-lateral derived table does not see its sibling FROM items
    kind: str = "root"  # root | subquery | derived | cte | arm
    holder: Scope | None = None  # for a subquery in an expression: the block it stands in
    item: exp.Expression | None = None  # ...and the clause item of that block it stands in
    sources: list[Source] = field(default_factory=list)
    merged: dict[str, list[Source]] = field(default_factory=dict)  # USING / NATURAL columns
    arms: list[Scope] = field(default_factory=list)
    outputs: list[Output] | None = None
    resolving: bool = False
    recursive: Source | None = None  # a recursive CTE's own source, while its body resolves
    provisional: list[Output] | None = None
    total: frozenset | None = None  # every governed column the block reads, nested blocks included

    def source(self, name: str, limit: int | None = None) -> Source | None:
        """The last of the first ``limit`` sources (all when None) named ``name``."""
        sources = self.sources
        i = len(sources) if limit is None or limit > len(sources) else limit
        while i > 0:
            i -= 1
            if sources[i].name == name:
                return sources[i]
        return None


@dataclass(eq=False, slots=True)
class Reference:
    """A column node, the block it stands in, its clause and clause item."""

    node: exp.Column
    scope: Scope
    clause: str
    item: exp.Expression
    lambdas: frozenset = frozenset()
    limit: int | None = None  # sources of ``scope`` visible to it (inside a FROM item)


@dataclass(eq=False, slots=True)
class Binding:
    kind: str  # column | merged | output | row | lambda
    scope: Scope  # the block the name resolved in
    reads: frozenset
    source: Source | None = None
    output: Output | None = None
    sources: tuple = ()  # merged (USING / NATURAL): the sources joined on it
    outputs: tuple = ()  # ...and their outputs of that name


class Budget:
    """A hard bound on analysis work: deny ("query too complex") instead of running on."""

    def __init__(self, limit: int = DEFAULT_BUDGET):
        self.limit, self.used = limit, 0

    def spend(self, units: int = 1) -> None:
        self.used += units
        if self.used > self.limit:
            raise Denied(f"query too complex: analysing it takes more than {self.limit:,} steps "
                         "(limits.max_analysis_steps); simplify it or split it into several questions")


@dataclass(frozen=True)
class TableInfo:
    """What the resolver needs of one governed table reference."""

    label: str  # table name as the catalog spells it
    columns: tuple[str, ...]  # lower-case catalog columns, in catalog order
    visible: tuple[str, ...]  # lower-case columns of the governed relation, in its order
    # derived: the table's outputs in order, (name, hidden): the visible columns, then the others;
    # and name -> their positions in it
    order: tuple[tuple[str, bool], ...] = field(init=False, repr=False, compare=False)
    positions: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        shown = set(self.visible)
        order = tuple((c, False) for c in self.visible) + tuple((c, True) for c in self.columns if c not in shown)
        positions: dict[str, list[int]] = {}
        for i, (name, _) in enumerate(order):
            positions.setdefault(name, []).append(i)
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "positions", {name: tuple(at) for name, at in positions.items()})


@dataclass
class Analysis:
    root: Scope
    scopes: list[Scope]
    bindings: dict[int, Binding]  # id(column node) -> binding
    references: list[Reference]
    reads: frozenset  # every governed column the query reads, through any path
    denied: list[tuple[BaseColumn, str]]  # hidden (not permitted) columns referenced, with labels
    problems: list[str]
    scope_of: dict[int, Scope]  # id(query node) -> its block


class _Ambiguous:
    __slots__ = ()


AMBIGUOUS = _Ambiguous()


def analyze(tree: exp.Expression, dialect: str, tables: dict[int, tuple[int, TableInfo]],
            ctes: dict[int, exp.CTE], budget: Budget) -> Analysis:
    """Scopes, bindings and lineage of ``tree``.

    ``tables``: id(table node) -> (reference index, TableInfo) for governed table
    references; ``ctes``: id(table node) -> the CTE it names (lexical resolution).
    Problems (unbindable, ambiguous, unmodelled) are returned, not raised; the budget raises.
    """
    return _Resolver(dialect, tables, ctes, budget).run(tree)


class _Resolver:
    def __init__(self, dialect, tables, ctes, budget):
        self.dialect = dialect
        self.tables = tables
        self.info = {index: info for index, info in tables.values()}
        self.cte_nodes = ctes
        self.budget = budget
        self.scopes: list[Scope] = []
        self.scope_of: dict[int, Scope] = {}
        self.references: list[Reference] = []
        self.by_item: dict[int, list[Reference]] = {}
        self.nested_by_item: dict[int, list[Scope]] = {}
        self.bindings: dict[int, Binding] = {}
        self.problems: list[str] = []
        self.denied: list[tuple[BaseColumn, str]] = []
        self.cte_scopes: dict[int, tuple[Scope, Source]] = {}
        self.star_reads: set = set()
        self.excluded: set[int] = set()  # Column nodes naming star columns (EXCLUDE lists)
        self.ref_by_node: dict[int, Reference] = {}
        self.projections: dict[int, Output] = {}  # id(select-list item) -> its output
        self.projecting: set[int] = set()
        self.aliases: dict[int, dict[str, exp.Alias]] = {}

    def run(self, tree: exp.Expression) -> Analysis:
        root = self.build(tree, None, "root")
        bindings, bind = self.bindings, self.bind
        for reference in self.references:
            if id(reference.node) not in bindings:  # (bind's own first check)
                bind(reference)
        reads: set = set()
        for scope in self.scopes:
            self.outputs(scope)  # expands every star (recording what it reads) and checks its names
        for scope in self.scopes:  # the sources joined on USING / NATURAL columns list their outputs (plan_fences)
            for holders in scope.merged.values():
                for source in holders:
                    self.source_outputs(source)
        for binding in self.bindings.values():
            reads |= binding.reads
        reads |= self.star_reads
        return Analysis(root, self.scopes, self.bindings, self.references, frozenset(reads), self.denied,
                        list(dict.fromkeys(self.problems)), self.scope_of)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def unmodelled(self, node: exp.Expression, allowed: frozenset[str], what: str | Callable[[], str]) -> None:
        """A problem for each argument of ``node`` outside ``allowed`` that is set (``what`` names the
        construct, or makes its name: computed only for a problem)."""
        args = node.args
        extra = args.keys() - allowed
        for key in extra:  # usually every argument outside ``allowed`` is unset: no problem to report
            value = args[key]
            if not (value is None or value is False or value == [] or value == ""):
                break
        else:
            return
        for key, value in args.items():
            if key in allowed or value is None or value is False or value == [] or value == "":
                continue
            self.problem(f"{UNMODELLED.get(key, key.upper())} is not supported in {what if isinstance(what, str) else what()}; "
                         "govern cannot resolve it")

    # ------------------------------------------------------------------ blocks

    def build(self, node: exp.Expression, parent: Scope | None, kind: str, *, parent_limit: int | None = None,
              skip_parent: bool = False, holder: Scope | None = None, item: exp.Expression | None = None) -> Scope:
        scope = Scope(node, parent, parent_limit, skip_parent, kind, holder, item)
        self.fill(scope, node)
        return scope

    def fill(self, scope: Scope, node: exp.Expression) -> None:
        self.budget.spend()
        wrappers = []
        while isinstance(node, exp.Subquery) and not node.alias:
            self.unmodelled(node, _PARENTHESIZED_ARGS, "a parenthesized query")
            wrappers.append(node)
            node = node.this
        scope.node = node
        self.scopes.append(scope)
        self.scope_of[id(node)] = scope
        for wrapper in wrappers:
            self.scope_of[id(wrapper)] = scope
        if isinstance(node, exp.Select):
            self.build_select(node, scope)
        elif isinstance(node, exp.SetOperation):
            self.build_set_operation(node, scope)
        elif isinstance(node, exp.Values):
            self.unmodelled(node, _VALUES_ARGS, "a VALUES list")
            for row in node.expressions:
                self.walk(row, scope, "values", row)
        else:
            self.problem(f"{type(node).__name__} is not supported where a query is expected")
        for wrapper in wrappers:  # ORDER BY / LIMIT written outside the parentheses' query
            self.modifiers(wrapper, scope)

    def modifiers(self, node: exp.Expression, scope: Scope) -> None:
        for key in QUERY_MODIFIERS:
            value = node.args.get(key)
            if value is not None:
                self.walk(value, scope, "order" if key == "order" and isinstance(scope.node, exp.Select)
                          else ("setorder" if key == "order" else key), value)

    def build_with(self, node: exp.Expression, scope: Scope) -> None:
        with_ = node.args.get("with_")
        if not isinstance(with_, exp.With):
            return
        self.unmodelled(with_, _WITH_ARGS, "a WITH clause")
        for cte in with_.expressions:
            self.budget.spend()
            self.unmodelled(cte, _CTE_ARGS, lambda: f"CTE {cte.alias}")
            alias = cte.args.get("alias")
            columns = _alias_columns(alias)
            source = Source(cte.alias.lower(), "cte", cte, cte_columns=columns)
            # A CTE body sees what encloses its WITH, not the FROM items of the query it belongs to.
            body = Scope(cte.this, scope.parent, scope.parent_limit, scope.skip_parent, "cte")
            source.query = body
            self.cte_scopes[id(cte)] = (body, source)
            if with_.args.get("recursive") and isinstance(cte.this, exp.Union) and any(
                    self.cte_nodes.get(id(t)) is cte for t in cte.this.expression.find_all(exp.Table)):
                body.recursive = source
            self.fill(body, cte.this)

    def build_set_operation(self, node: exp.SetOperation, scope: Scope) -> None:
        self.unmodelled(node, _SET_ARGS, "a set operation")
        self.build_with(node, scope)
        for arm in (node.this, node.expression):
            scope.arms.append(self.build(arm, scope.parent, "arm", parent_limit=scope.parent_limit,
                                         skip_parent=scope.skip_parent))
        self.modifiers(node, scope)

    def build_select(self, node: exp.Select, scope: Scope) -> None:
        if not node.args.keys() <= _SELECT_ARGS:
            self.unmodelled(node, _SELECT_ARGS, "a SELECT")
        self.build_with(node, scope)
        items: list[tuple[exp.Expression, exp.Join | None]] = []
        from_ = node.args.get("from_")
        if from_ is not None:
            if not from_.args.keys() <= _THIS_ARGS:
                self.unmodelled(from_, _THIS_ARGS, "FROM")
            items.append((from_.this, None))
        items += [(join.this, join) for join in node.args.get("joins") or ()]
        for item, join in items:
            self.budget.spend()
            if join is not None and not join.args.keys() <= _JOIN_ARGS:
                self.unmodelled(join, _JOIN_ARGS, "a JOIN")
            source = self.source_for(item, scope)
            if source is None:
                continue
            if source.name and scope.source(source.name) is not None:
                self.problem(f"the name {source.name} is used for two FROM items; give them different aliases")
            scope.sources.append(source)
            if join is not None:
                self.join_columns(join, source, scope)
                if join.args.get("on") is not None:
                    on = join.args["on"]
                    self.walk(on, scope, "on", on, limit=len(scope.sources))
        for key, clause in SELECT_CLAUSES:
            value = node.args.get(key)
            if value is None:
                continue
            if key == "distinct":
                self.unmodelled(value, _DISTINCT_ARGS, "DISTINCT")
                if value.args.get("on") is not None:
                    self.walk(value.args["on"], scope, clause, value.args["on"])
                continue
            for item in value if isinstance(value, list) else [value]:
                if type(item) is exp.Column and not isinstance(item.this, exp.Star):
                    self.column_item(item, scope, clause)  # what walk does with it, without the walk
                else:
                    self.walk(item, scope, clause, item)

    def column_item(self, column: exp.Column, scope: Scope, clause: str) -> None:
        """A clause item that is a column reference by itself: walk's one step for it."""
        budget = self.budget
        budget.used += 1
        if budget.used > budget.limit:
            budget.spend(0)
        reference = Reference(column, scope, clause, column, NO_READS, None)
        self.references.append(reference)
        self.ref_by_node[id(column)] = reference
        self.by_item[id(column)] = [reference]

    def join_columns(self, join: exp.Join, right: Source, scope: Scope) -> None:
        using = join.args.get("using")
        natural = (join.args.get("method") or "").upper() == "NATURAL"
        if using:
            names = [ident.name.lower() for ident in using]
        elif natural:
            left = {o.name for s in scope.sources[:-1] for o in self.source_outputs(s) if o.name and not o.hidden}
            names = [o.name for o in self.source_outputs(right) if o.name in left and not o.hidden]
        else:
            return
        for name in names:
            self.budget.spend()
            right_output = self.find_output(right, name)
            if name in scope.merged:
                left = list(scope.merged[name])
            else:
                left = [s for s in scope.sources[:-1] if self.find_output(s, name) is not None]
            for holder in left + [right]:
                output = self.find_output(holder, name)
                if isinstance(output, Output) and output.hidden:
                    self.deny_hidden(output)
            if not left or right_output is None:
                self.problem(f"USING column {name} is not a column of both sides of the join")
                continue
            if len(left) > 1 and name not in scope.merged or right_output is AMBIGUOUS or any(
                    self.find_output(s, name) is AMBIGUOUS for s in left):
                self.problem(f"USING column {name} is ambiguous in the join")
                continue
            scope.merged[name] = left + [right]

    def source_for(self, item: exp.Expression, scope: Scope) -> Source | None:
        if type(item) is exp.Table:  # the common case first (no class below is a Table, nor Table one of them)
            return self.table_source(item, scope)
        if isinstance(item, exp.Lateral):
            self.unmodelled(item, _LATERAL_ARGS, "LATERAL")
            inner = item.this
            if isinstance(inner, exp.Subquery):
                return self.derived(inner, item.args.get("alias") or inner.args.get("alias"), scope, lateral=True)
            if isinstance(inner, exp.Unnest):
                return self.unnest(inner, item.args.get("alias") or inner.args.get("alias"), scope)
            self.problem(f"LATERAL {type(inner).__name__} is not supported; use LATERAL (SELECT ...)")
            return None
        if isinstance(item, exp.Subquery):
            if isinstance(item.this, exp.Table) or item.args.get("joins"):
                self.problem("parenthesized joins are not supported; write the joins without parentheses")
                return None
            self.unmodelled(item, _DERIVED_ARGS, "a derived table")
            return self.derived(item, item.args.get("alias"), scope, lateral=False)
        if isinstance(item, exp.Values):
            return self.values(item, scope)
        if isinstance(item, exp.Unnest):
            return self.unnest(item, item.args.get("alias"), scope)
        if isinstance(item, exp.Table):
            return self.table_source(item, scope)
        self.problem(f"{type(item).__name__} is not supported as a FROM item")
        return None

    def table_source(self, item: exp.Table, scope: Scope) -> Source | None:
        if isinstance(item.this, exp.Unnest):
            return self.unnest(item.this, item.args.get("alias") or item.this.args.get("alias"), scope)
        if not isinstance(item.this, exp.Identifier):
            self.problem(f"table function {type(item.this).__name__} is not allowed as a source; query a governed table")
            return None
        if not item.args.keys() <= _TABLE_ARGS:
            self.unmodelled(item, _TABLE_ARGS, lambda: f"table {item.name}")
        name = (item.alias or item.name).lower()
        cte = self.cte_nodes.get(id(item))
        if cte is not None:
            known = self.cte_scopes.get(id(cte))
            if known is None:
                self.problem(f"CTE {cte.alias} is read where govern cannot place its definition")
                return None
            body, template = known
            return Source(name, "cte", item, query=body, alias_columns=_alias_columns(item.args.get("alias")),
                          cte_columns=template.cte_columns)
        governed = self.tables.get(id(item))
        if governed is None:
            self.problem(f"table {item.name} could not be resolved")
            return None
        if _alias_columns(item.args.get("alias")):
            self.problem(f"column alias lists on table {item.name} are not supported; alias the columns in the select list")
        return Source(name, "table", item, governed[0])

    def derived(self, subquery: exp.Subquery, alias, scope: Scope, lateral: bool) -> Source:
        name = alias.name.lower() if alias is not None and alias.name else ""
        if lateral or self.dialect in IMPLICIT_LATERAL:
            child = self.build(subquery.this, scope, "derived", parent_limit=len(scope.sources))
        else:
            child = self.build(subquery.this, scope, "derived", skip_parent=True)
        self.scope_of[id(subquery)] = child
        self.modifiers(subquery, child)
        return Source(name, "derived", subquery, query=child, alias_columns=_alias_columns(alias), lateral=lateral)

    def values(self, node: exp.Values, scope: Scope) -> Source:
        self.unmodelled(node, _VALUES_ARGS, "a VALUES list")
        alias = node.args.get("alias")
        name = alias.name.lower() if alias is not None and alias.name else ""
        for row in node.expressions:
            self.walk(row, scope, "values", node, limit=len(scope.sources))
        width = _width(node)
        given = _alias_columns(alias) or []
        if len(given) > width:
            self.problem(f"VALUES list {name} has {width} column(s) but {len(given)} column names")
        default = VALUES_NAMES.get(self.dialect)
        names = [given[i] if i < len(given) else (default(i) if default else None) for i in range(width)]
        return Source(name, "values", node, names=names)

    def unnest(self, node: exp.Unnest, alias, scope: Scope) -> Source:
        self.unmodelled(node, _UNNEST_ARGS, "UNNEST")
        for argument in node.expressions:
            self.walk(argument, scope, "unnest", node, limit=len(scope.sources))
        name = alias.name.lower() if alias is not None and alias.name else ""
        given = _alias_columns(alias) or []
        width = len(node.expressions)
        if given:
            names: list[str | None] = list(given[:width])
            if len(given) < width:
                self.problem(f"UNNEST {name} needs a column name for each of its {width} arguments")
                names += [None] * (width - len(given))
            extra = given[width:]
        elif width == 1:
            names, extra = [name or "unnest"], []  # PostgreSQL, DuckDB: a one-column result takes the table alias
        else:
            self.problem(f"UNNEST of {width} arrays needs a column alias list (AS {name or 'u'}(a, b, ...))")
            names, extra = [None] * width, []
        offset = node.args.get("offset")
        if isinstance(offset, exp.Identifier):
            names.append(offset.name.lower())
        elif offset:
            names.append(extra[0] if extra else "ordinality")
        return Source(name or "unnest", "unnest", node, names=names)

    # ------------------------------------------------------------------ expressions

    def walk(self, node: exp.Expression, scope: Scope, clause: str, item: exp.Expression, *,
             limit: int | None = None, lambdas: frozenset = NO_READS) -> None:
        """Record the column references of an expression; build the blocks nested in it.

        One budget unit per node, spent in bulk: before each nested block is built and at the end
        (the total, and so whether the budget is exceeded, is that of spending node by node)."""
        stack = [node]
        pop, extend = stack.pop, stack.extend
        kinds = _WALK_KINDS
        steps = 0
        item_refs = None  # self.by_item[id(item)], once looked up
        while stack:
            current = pop()
            steps += 1
            kind = kinds.get(type(current)) or _walk_kind(type(current))
            if kind is _OTHER:
                extend(current.iter_expressions(reverse=True))
                continue
            if kind is _COLUMN:
                star = current.this
                if not isinstance(star, exp.Star):
                    reference = Reference(current, scope, clause, item, lambdas, limit)
                    self.references.append(reference)
                    self.ref_by_node[id(current)] = reference
                    if item_refs is None:
                        item_refs = self.by_item.get(id(item))
                        if item_refs is None:
                            item_refs = self.by_item[id(item)] = []
                    item_refs.append(reference)
                    continue
                # `t.*`: where it may stand is check_statement's business; the star is the next node
                steps += 1
                current, kind = star, _STAR
            if kind is _QUERY:
                if isinstance(current, exp.Subquery) and isinstance(current.this, exp.Table):
                    self.problem("a table in parentheses is not supported inside an expression")
                    continue
                self.budget.spend(steps)
                steps = 0
                child = self.build(current, scope, "subquery", parent_limit=limit, holder=scope, item=item)
                self.nested_by_item.setdefault(id(item), []).append(child)
            elif kind is _STAR:
                for excluded in current.args.get("except_") or ():
                    self.excluded.add(id(excluded))  # names of the star's columns, checked on expansion
                replace = current.args.get("replace")
                if replace:
                    self.budget.spend(steps)
                    steps = 0
                    for replaced in replace:
                        self.walk(replaced, scope, clause, replaced, limit=limit)
                if current.args.get("rename") or current.args.get("ilike"):
                    self.problem("* RENAME / * ILIKE are not supported; name the columns")
            elif kind is _LAMBDA:
                params = frozenset(p.name.lower() for p in current.expressions)
                self.budget.spend(steps)
                steps = 0
                # the body is the next node in walk order: walked here, with its parameters in scope
                self.walk(current.this, scope, clause, item, limit=limit, lambdas=lambdas | params)
            elif kind is _VAR:
                place = (type(current.parent).__name__, current.arg_key)
                if place not in KEYWORD_VARS and current.arg_key not in KEYWORD_VAR_ARGS:
                    self.problem(f"the word {current.name} in a {place[0]} is not understood by govern "
                                 "(it could name a column govern cannot see); write it as a column or a string")
            elif kind is _IDENTIFIER:
                if isinstance(current.parent, (exp.TableAlias, exp.Alias)):
                    continue
                place = (type(current.parent).__name__, current.arg_key)
                if place in NAME_IDENTIFIERS or current.name.lower() in lambdas:
                    continue
                self.problem(f"the name {current.name} in a {place[0]} is not understood by govern "
                             "(it could name a column govern cannot see)")
            else:  # _SOURCE
                self.problem(f"{type(current).__name__} is not supported inside an expression")
        budget = self.budget  # budget.spend(steps), inline
        budget.used += steps
        if budget.used > budget.limit:
            budget.spend(0)

    # ------------------------------------------------------------------ binding

    def bind(self, reference: Reference) -> Binding | None:
        node = reference.node
        binding = self.bindings.get(id(node))
        if binding is not None:
            return binding
        if self.excluded and id(node) in self.excluded:
            return None
        budget = self.budget
        budget.used += 1
        if budget.used > budget.limit:
            budget.spend(0)
        name = node.name.lower()
        table = node.table
        if node.args.get("catalog"):
            self.problem(f"catalog-qualified column {node.sql()} is not supported")
            binding = None
        elif table:
            schema = "" if node.args.get("db") is None else (node.db or "").lower()
            binding = self.bind_qualified(node, table.lower(), schema, name, reference)
        elif name in reference.lambdas:
            binding = Binding("lambda", reference.scope, NO_READS)
        else:
            binding = self.bind_unqualified(node, name, reference)
        if binding is not None:
            self.bindings[id(node)] = binding
        return binding

    def frames(self, scope: Scope, limit: int | None) -> Iterator[tuple[Scope, int | None]]:
        """The blocks a name may resolve in, nearest first, with how many sources each shows."""
        current, skip = scope, False
        while current is not None:
            self.budget.spend()
            if not skip:
                yield current, limit
            skip, limit, current = current.skip_parent, current.parent_limit, current.parent

    def bind_qualified(self, node, qualifier: str, schema: str, name: str, reference: Reference) -> Binding | None:
        frame, limit, skip, steps = reference.scope, reference.limit, False, 0
        source = None
        while frame is not None:  # self.frames and Scope.source, inline: one budget unit per block looked at
            steps += 1
            if not skip:
                sources = frame.sources
                i = len(sources) if limit is None or limit > len(sources) else limit
                while i > 0:
                    i -= 1
                    if sources[i].name == qualifier:
                        source = sources[i]
                        break
                if source is not None and not (schema and not (
                        source.kind == "table" and not source.node.alias and (source.node.db or "").lower() in (schema, ""))):
                    break
                source = None
            skip, limit, frame = frame.skip_parent, frame.parent_limit, frame.parent
        if source is None:
            self.budget.spend(steps)
            where = f"{schema}.{qualifier}" if schema else qualifier
            self.problem(f"unknown table or alias {where} in {node.sql()} (not in this query's FROM)")
            return None
        if source.kind == "table" and source.by_name is None and source.outputs is None:
            # find_output / table_output, inline (the common case)
            info = self.info[source.ref]
            made = source.made
            if made is None:
                steps += 1  # listing the table's outputs, as source_outputs counts it
                made = source.made = [None] * len(info.order)
            self.budget.spend(steps)
            positions = info.positions.get(name)
            if positions is None:
                output = None
            elif len(positions) == 1:
                output = made[positions[0]]
                if output is None:
                    output = self.table_column(source, info, positions[0])
                if output.hidden:
                    self.deny_hidden(output)
                binding = output.binding
                if binding is None:
                    binding = output.binding = Binding("column", frame, output.reads, source, output)
                return binding
            else:
                output = _pick([self.table_column(source, info, i) for i in positions])
        else:
            self.budget.spend(steps)
            output = self.find_output(source, name)
        if output is None:
            label = self.info[source.ref].label if source.kind == "table" else qualifier
            self.problem(f"unknown column {label}.{name}" + ("" if label == qualifier else f" (as {qualifier}.{name})"))
            return None
        if output is AMBIGUOUS:
            self.problem(f"column {qualifier}.{name} is ambiguous ({qualifier} has two columns of that name)")
            return None
        if output.hidden:
            self.deny_hidden(output)
        return Binding("column", frame, output.reads, source, output)

    def bind_unqualified(self, node, name: str, reference: Reference) -> Binding | None:
        clause = reference.clause
        row: Binding | None = None
        alias: Output | None = None
        budget = self.budget
        frame, limit, skip, depth = reference.scope, reference.limit, False, -1
        while frame is not None:  # self.frames, inline
            budget.used += 1
            if budget.used > budget.limit:
                budget.spend(0)
            if skip:
                skip, limit, frame = frame.skip_parent, frame.parent_limit, frame.parent
                continue
            depth += 1
            visible = frame.sources if limit is None else frame.sources[:limit]
            found = self.in_frame(frame, visible, name)
            if found is not None:
                if found is AMBIGUOUS:
                    return None
                if row is not None:
                    self.problem(f"{name} names a whole row of {row.source.name} and a column of an outer query; "
                                 "qualify it")
                    return None
                if alias is not None:
                    self.problem(f"{name} is an output alias here and a column of an outer query; rename the alias")
                    return None
                if depth == 0 and clause not in ("on", "values", "unnest", "window", "limit", "offset", "setorder"):
                    other = self.output_alias(frame, name, node)
                    if other is not None and not _same(other, found):
                        known = self.dialect in KNOWN_ALIAS_RULES
                        if known and clause == "order" and _whole_order_item(node):
                            return Binding("output", frame, other.reads, output=other)
                        if not (known and clause in INPUT_WINS):
                            self.problem(f"{name} is both a column and an output alias meaning something else; "
                                         "rename the alias")
                            return None
                return found
            if depth == 0:
                if clause == "setorder":
                    output = self.set_output(frame, name)
                    if output is None:
                        self.problem(f"ORDER BY {name} on a set operation names no output column")
                        return None
                    return Binding("output", frame, output.reads, output=output)
                candidate = self.output_alias(frame, name, node)
                if candidate is not None:
                    if self.alias_allowed(clause):
                        return Binding("output", frame, candidate.reads, output=candidate)
                    if self.dialect not in KNOWN_ALIAS_RULES:
                        alias = candidate  # bound below unless an outer block claims the name
            if row is None and isinstance(frame.node, exp.Select):
                whole = frame.source(name, limit)
                if whole is not None:
                    row = Binding("row", frame, frozenset().union(
                        *(o.reads for o in self.source_outputs(whole) if not o.hidden)), source=whole)
            skip, limit, frame = frame.skip_parent, frame.parent_limit, frame.parent
        if row is not None:
            return row
        if alias is not None:
            return Binding("output", reference.scope, alias.reads, output=alias)
        self.problem(f"unknown column {name} (no table in scope has it)")
        return None

    def in_frame(self, frame: Scope, visible: list[Source], name: str):
        """The binding of ``name`` among a frame's visible sources, None, or AMBIGUOUS (reported)."""
        merged = frame.merged.get(name)
        if merged is not None and all(s in visible for s in merged):
            outputs = tuple(self.find_output(s, name) for s in merged)
            reads = frozenset().union(*(self.output_reads(o) for o in outputs))
            return Binding("merged", frame, reads, sources=tuple(merged), outputs=outputs)
        holders = []
        tables_only = True
        for source in visible:
            if source.kind == "table" and source.by_name is None and source.outputs is None:
                # find_output / table_output, inline (the common case)
                info = self.info[source.ref]
                made = source.made
                if made is None:
                    self.budget.spend()  # listing the table's outputs, as source_outputs counts it
                    made = source.made = [None] * len(info.order)
                positions = info.positions.get(name)
                if positions is None:
                    continue
                if len(positions) == 1:
                    output = made[positions[0]]
                    if output is None:
                        output = self.table_column(source, info, positions[0])
                    holders.append((source, output))
                    continue
                output = _pick([self.table_column(source, info, i) for i in positions])
            else:
                if source.kind != "table":
                    tables_only = False
                output = self.find_output(source, name)
            if output is AMBIGUOUS:
                self.problem(f"column {name} is ambiguous ({source.name} has two columns of that name); qualify it")
                return AMBIGUOUS
            if output is not None:
                holders.append((source, output))
        if tables_only:  # nothing below applies to a governed table
            if len(holders) == 1:
                return self.column_binding(frame, *holders[0])
            if not holders:
                return None
            visible = ()
        unknown = []
        for source in visible:
            if source.kind in ("values", "unnest"):
                if any(o.name is None for o in self.source_outputs(source)):
                    unknown.append(source)
            elif source.outputs is None and source.kind != "table":
                self.source_outputs(source)  # a recursive CTE in its own body: its listing is not kept (and counts)
        if unknown:
            labels = ", ".join(s.name or s.kind for s in unknown)
            self.problem(f"cannot tell whether {name} is a column of {labels}: give it a column alias list")
            return AMBIGUOUS
        if len(holders) > 1:
            labels = ", ".join(f"{s.name}.{name}" for s, _ in holders)
            self.problem(f"column {name} is ambiguous ({labels}); qualify it")
            return AMBIGUOUS
        if holders:
            return self.column_binding(frame, *holders[0])
        return None

    def alias_allowed(self, clause: str) -> bool:
        if clause in ("order", "group", "having", "qualify", "distinct"):
            return True
        if clause == "select":
            return self.dialect in LATERAL_ALIAS
        if clause == "where":
            return self.dialect in WHERE_ALIAS
        return False

    def output_alias(self, frame: Scope, name: str, node: exp.Expression) -> Output | None:
        """The select-list item of ``frame`` aliased ``name`` (not the item ``node`` is inside)."""
        select = frame.node
        if not isinstance(select, exp.Select):
            return None
        aliases = self.aliases.get(id(select))
        if aliases is None:  # indexed once per block: a wide select list stays linear
            aliases = self.aliases[id(select)] = {}
            for projection in select.expressions:
                if isinstance(projection, exp.Alias):
                    aliases.setdefault(projection.alias.lower(), projection)
        found = aliases.get(name)
        if found is None:
            return None
        if _inside(node, found):
            return None  # `SELECT x + 1 AS x`: the x inside is not the alias
        return self.projection_output(frame, found)

    def set_output(self, frame: Scope, name: str) -> Output | None:
        matches = [o for o in self.outputs(frame) if o.name == name and not o.hidden]
        return matches[0] if len(matches) == 1 else None

    def column_binding(self, frame: Scope, source: Source, output: Output) -> Binding:
        if output.hidden:
            self.deny_hidden(output)
        if source.kind == "table":  # the output is the table's own: one binding, made once
            binding = output.binding
            if binding is None:
                binding = output.binding = Binding("column", frame, output.reads, source, output)
            return binding
        return Binding("column", frame, output.reads, source, output)

    def deny_hidden(self, output: Output) -> None:
        info = self.info.get(output.base[0]) if output.base else None
        self.denied.append((output.base, f"{info.label}.{output.name}" if info else str(output.name)))

    @staticmethod
    def output_reads(output) -> frozenset:
        return output.reads if isinstance(output, Output) else NO_READS

    def find_output(self, source: Source, name: str):
        """The output of ``source`` named ``name``; a visible one before a hidden one; AMBIGUOUS for two."""
        if source.by_name is None:
            if source.kind == "table" and source.outputs is None:
                return self.table_output(source, name)
            outputs = self.source_outputs(source)
            if source.outputs is None:  # provisional (a recursive CTE in its own body): not cached
                return _lookup(outputs, name)
            source.by_name = {}
            for output in outputs:
                if output.name is not None:
                    source.by_name.setdefault(output.name, []).append(output)
        return _pick(source.by_name.get(name, ()))

    def table_output(self, source: Source, name: str):
        """find_output for a governed table: only the outputs a name reaches are made (once each)."""
        info = self.info[source.ref]
        if source.made is None:
            self.budget.spend()  # listing the table's outputs, as source_outputs counts it
            source.made = [None] * len(info.order)
        positions = info.positions.get(name)
        if positions is None:
            return None
        if len(positions) == 1:
            return self.table_column(source, info, positions[0])
        return _pick([self.table_column(source, info, i) for i in positions])

    @staticmethod
    def table_column(source: Source, info: TableInfo, position: int) -> Output:
        output = source.made[position]
        if output is None:
            name, hidden = info.order[position]
            base = (source.ref, name)
            output = source.made[position] = Output(name, frozenset((base,)), None, None, base, hidden)
        return output

    # ------------------------------------------------------------------ outputs

    def source_outputs(self, source: Source) -> list[Output]:
        if source.outputs is not None:
            return source.outputs
        if source.kind == "table":
            info = self.info[source.ref]
            if source.made is None:
                self.budget.spend()
                source.made = [None] * len(info.order)
            source.outputs = [self.table_column(source, info, i) for i in range(len(info.order))]
            return source.outputs
        self.budget.spend()
        if source.kind in ("values", "unnest"):
            reads = self.item_reads([source.node], None)  # what their expressions read
            outputs = [Output(n, reads) for n in source.names]
        else:
            body = source.query
            if body.resolving and body.provisional is not None and body.recursive is not None:
                # read in its own recursive term: the anchor's names
                return _renamed(_renamed(body.provisional, source.cte_columns, self), source.alias_columns, self)
            outputs = _renamed(_renamed(self.outputs(body), source.cte_columns, self), source.alias_columns, self)
        source.outputs = outputs
        return outputs

    def outputs(self, scope: Scope) -> list[Output]:
        if scope.outputs is not None:
            return scope.outputs
        if scope.resolving:
            self.problem("a query block refers to its own output while it is being defined")
            return []
        scope.resolving = True
        try:
            node = scope.node
            if isinstance(node, exp.SetOperation):
                if scope.recursive is not None:
                    anchor = [o for o in self.outputs(scope.arms[0]) if not o.hidden]
                    scope.provisional = [Output(o.name, o.reads, o.expr, o.scope) for o in anchor]
                result = self.set_outputs(scope)
                if scope.recursive is not None:
                    # Lineage through a recursion is over-approximated: every column reads all of it.
                    everything = frozenset().union(*(o.reads for o in result)) if result else NO_READS
                    result = [Output(o.name, everything, o.expr, o.scope) for o in result]
            elif isinstance(node, exp.Select):
                result = self.select_outputs(scope)
            elif isinstance(node, exp.Values):
                reads = self.item_reads(node.expressions, scope)
                default = VALUES_NAMES.get(self.dialect)
                result = [Output(default(i) if default else None, reads) for i in range(_width(node))]
            else:
                result = []
        finally:
            scope.resolving = False
        scope.outputs = result
        return result

    def set_outputs(self, scope: Scope) -> list[Output]:
        arms = [[o for o in self.outputs(arm) if not o.hidden] for arm in scope.arms]
        if not arms:
            return []
        width = len(arms[0])
        self.budget.spend(width * len(arms))
        if any(len(arm) != width for arm in arms):
            self.problem("the arms of a set operation return different numbers of columns")
            return []
        return [Output(arms[0][i].name, frozenset().union(*(arm[i].reads for arm in arms)), None, arms[0][i].scope,
                       alternatives=tuple(arm[i] for arm in arms)) for i in range(width)]

    def select_outputs(self, scope: Scope) -> list[Output]:
        out: list[Output] = []
        budget = self.budget
        for projection in scope.node.expressions:
            budget.used += 1
            if budget.used > budget.limit:
                budget.spend(0)
            star = star_of(projection) if isinstance(projection, (exp.Star, exp.Column)) else None
            if star is not None:
                out += self.expand_star(scope, projection, star)
                continue
            out.append(self.projection_output(scope, projection))
        return out

    def projection_output(self, scope: Scope, projection: exp.Expression) -> Output:
        """The output of one (non-star) select-list item, computed once."""
        known = self.projections.get(id(projection))
        if known is not None:
            return known
        if id(projection) in self.projecting:
            self.problem("select-list aliases refer to each other in a cycle")
            return Output(None, NO_READS, projection, scope)
        self.projecting.add(id(projection))
        base = None
        try:
            if type(projection) is exp.Column and id(projection) not in self.nested_by_item:
                # item_reads and bind_node, inline: the item's one reference is the column itself
                binding = self.bindings.get(id(projection))
                if binding is None:
                    reference = self.ref_by_node.get(id(projection))
                    if reference is not None:
                        binding = self.bind(reference)
                        if binding is None:
                            self.bind(reference)  # item_reads and bind_node each try it (its problem, budget)
                if binding is None:
                    reads = NO_READS
                else:
                    budget = self.budget
                    budget.used += len(binding.reads)
                    if budget.used > budget.limit:
                        budget.spend(0)
                    reads = binding.reads if type(binding.reads) is frozenset else frozenset(binding.reads)
                    if binding.output is not None and binding.kind == "column":
                        base = binding.output.base
                output = Output(projection.name.lower(), reads, projection, scope, base)
                self.projections[id(projection)] = output
                return output
            reads = self.item_reads((projection,), scope)
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            base = None
            if isinstance(inner, exp.Column):
                binding = self.bind_node(inner)
                if binding is not None and binding.output is not None and binding.kind == "column":
                    base = binding.output.base
            if isinstance(projection, exp.Alias):
                name = projection.alias.lower() or None
            elif isinstance(projection, exp.Column):
                name = projection.name.lower()
            else:
                name = None
            output = Output(name, reads, projection, scope, base)
        finally:
            self.projecting.discard(id(projection))
        self.projections[id(projection)] = output
        return output

    def bind_node(self, column: exp.Column) -> Binding | None:
        if id(column) in self.bindings:
            return self.bindings[id(column)]
        reference = self.ref_by_node.get(id(column))
        return self.bind(reference) if reference is not None else None

    def expand_star(self, scope: Scope, projection: exp.Expression, qualifier: str) -> list[Output]:
        star = projection.this if isinstance(projection, exp.Column) else projection
        if qualifier == "*":
            sources = list(scope.sources)
            outputs: list[Output] = []
            done: set[str] = set()
            for name, holders in scope.merged.items():  # USING / NATURAL columns come first, once
                reads = frozenset().union(*(self.output_reads(self.find_output(s, name)) for s in holders))
                outputs.append(Output(name, reads))
                done.add(name)
            for source in sources:
                for output in self.source_outputs(source):
                    if output.name in done and source in scope.merged.get(output.name, ()):
                        continue
                    outputs.append(output)
        else:
            source = next((f.source(qualifier, lim) for f, lim in self.frames(scope, None)
                           if f.source(qualifier, lim) is not None), None)
            if source is None:
                self.problem(f"unknown table or alias {qualifier} in {qualifier}.*")
                return []
            outputs = list(self.source_outputs(source))
        excluded = set()
        replaced: dict[str, exp.Alias] = {}
        if isinstance(star, exp.Star):
            for item in star.args.get("except_") or ():
                name = item.name.lower()
                if not any(o.name == name and not o.hidden for o in outputs):
                    self.problem(f"EXCLUDE names {name}, which the star does not select")
                excluded.add(name)
            for item in star.args.get("replace") or ():
                if isinstance(item, exp.Alias):
                    replaced[item.alias.lower()] = item
        self.budget.spend(len(outputs))  # a star's width is work too (chained stars double it per level)
        result = []
        for output in outputs:
            if output.name in excluded:
                continue
            if output.name in replaced:
                item = replaced[output.name]
                reads = self.item_reads([item], scope)
                output = Output(output.name, reads, item, scope)
            result.append(output)
            if not output.hidden:
                self.star_reads.update(output.reads)
        return result

    def item_reads(self, items: Iterable[exp.Expression], scope: Scope) -> frozenset:
        """What the references directly in ``items`` and the blocks nested in them read."""
        out: set = set()
        bindings = self.bindings
        for item in items:
            for reference in self.by_item.get(id(item), ()):
                binding = bindings.get(id(reference.node))
                if binding is None:
                    binding = self.bind(reference)
                if binding is not None:
                    budget = self.budget
                    budget.used += len(binding.reads)
                    if budget.used > budget.limit:
                        budget.spend(0)
                    out |= binding.reads
            for nested in self.nested_by_item.get(id(item), ()):
                out |= self.total(nested)
        return frozenset(out)

    def total(self, scope: Scope) -> frozenset:
        """Everything a block reads: its references, its stars, its nested blocks."""
        if scope.total is not None:
            return scope.total
        self.budget.spend()
        out: set = set()
        for output in self.outputs(scope):
            out |= output.reads
        node = scope.node
        items: list[exp.Expression] = []
        if isinstance(node, exp.Select):
            for key, _ in SELECT_CLAUSES:
                value = node.args.get(key)
                if key == "distinct" and value is not None:
                    value = value.args.get("on")
                items += value if isinstance(value, list) else ([value] if value is not None else [])
            items += [j.args["on"] for j in node.args.get("joins") or () if j.args.get("on") is not None]
        elif isinstance(node, exp.Values):
            items += node.expressions
        for arm in scope.arms:
            out |= self.total(arm)
        for source in scope.sources:
            if source.query is not None:
                out |= self.total(source.query)
            elif source.kind in ("values", "unnest"):
                out |= self.item_reads([source.node], scope)
        out |= self.item_reads(items, scope)
        scope.total = frozenset(out)
        return scope.total


# What walk does with a node, by its class (computed once per class, in walk's order of checks).
_OTHER, _QUERY, _COLUMN, _STAR, _LAMBDA, _VAR, _IDENTIFIER, _SOURCE = (
    "other", "query", "column", "star", "lambda", "var", "identifier", "source")
_WALK_KINDS: dict[type, str] = {}
_KIND_CHECKS = (((exp.Select, exp.SetOperation, exp.Subquery), _QUERY), (exp.Column, _COLUMN), (exp.Star, _STAR),
                (exp.Lambda, _LAMBDA), (exp.Var, _VAR), (exp.Identifier, _IDENTIFIER),
                ((exp.Table, exp.Values, exp.Lateral, exp.Join, exp.From), _SOURCE))


def _walk_kind(cls: type) -> str:
    kind = next((k for classes, k in _KIND_CHECKS if issubclass(cls, classes)), _OTHER)
    _WALK_KINDS[cls] = kind
    return kind


def _lookup(outputs: list[Output], name: str):
    return _pick([o for o in outputs if o.name == name])


def _pick(matches):
    found = None
    for output in matches:
        if found is None or found.hidden:
            found = output
        elif not output.hidden:
            return AMBIGUOUS
    return found


def _alias_columns(alias) -> list[str] | None:
    if isinstance(alias, exp.TableAlias) and alias.columns:
        return [c.name.lower() for c in alias.columns]
    return None


def _width(node: exp.Values) -> int:
    first = node.expressions[0] if node.expressions else None
    return len(first.expressions) if isinstance(first, exp.Tuple) else 1


def _renamed(inner: list[Output], columns: list[str] | None, resolver: _Resolver) -> list[Output]:
    if not columns:
        return inner
    resolver.budget.spend(len(inner))
    visible = [o for o in inner if not o.hidden]
    if len(columns) > len(visible):
        resolver.problem(f"a column alias list names {len(columns)} columns of a source that has {len(visible)}")
    out, i = [], 0
    for output in inner:
        if output.hidden:
            out.append(output)
            continue
        name = columns[i] if i < len(columns) else output.name
        out.append(Output(name, output.reads, output.expr, output.scope, output.base))
        i += 1
    return out


def _same(output: Output, binding: Binding) -> bool:
    """An output alias that is just the bound column under its own name (`SELECT t.x AS x`)."""
    inner = output.expr.this if isinstance(output.expr, exp.Alias) else output.expr
    return isinstance(inner, exp.Column) and output.reads == binding.reads and binding.kind in ("column", "merged")


def _whole_order_item(node: exp.Expression) -> bool:
    """The column is an ORDER BY item by itself (`ORDER BY x`, `ORDER BY x DESC`), not inside an expression."""
    parent = node.parent
    return isinstance(parent, exp.Ordered) or isinstance(parent, exp.Order)


def _inside(node: exp.Expression, ancestor: exp.Expression) -> bool:
    current = node
    while current is not None:
        if current is ancestor:
            return True
        current = current.parent
    return False


def star_of(projection: exp.Expression) -> str | None:
    """'*' for a bare star, the qualifier for `t.*`, None for anything else."""
    if isinstance(projection, exp.Star):
        return "*"
    if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
        return (projection.table or "*").lower()
    return None
