"""Hand-written oracle views for the demo bundle in ``policies/``.

For one demo principal, ``create_oracle_views`` creates in a schema one VIEW per
table the principal may see, named like the table, that applies the row filters
and column masks of ``policies/rules.yaml`` and ``policies/grants.csv`` by plain
SQL and leaves out denied and ungranted columns. It is written from the policy
text, not from govern's rewriter, so comparing govern's governed SQL against these
views tests the rewriter. If you change the bundle, change this file by hand.

How the policy text turns into the dicts below:

* columns: the grants (``grants.csv``, plus the ``denied_columns`` of rules.yaml)
  decide which columns exist, in catalog order;
* masks: the first ``column_masks`` rule (file order) whose roles apply;
* rows: (OR of the applicable permissive filters) AND (each restrictive filter),
  evaluated on the raw columns; tables without any row filter are not filtered;
* entity scopes (``entities`` / ``entity_scopes``): the customer entity is the
  ``customers`` table with members accounts, orders, support_tickets (their
  ``customer_id``) and order_items (through their order). A member row is kept
  when the customer it belongs to is in the principal's scope (OR of the
  applicable scopes), AND-ed with the row filters; ``where: "TRUE"`` scopes
  (sales lead, auditor) keep every row; no applicable scope keeps none. Written
  here as plain joins, not as govern's nested semi-joins.

Mask SQL (docs/policy-bundle.md): ``null`` -> ``CAST(NULL AS type)``; ``redact``
-> the constant; ``partial`` -> ``'***' || RIGHT(col, N)``; ``hash`` -> lower-case
hex SHA-256 of ``key || CAST(col AS text)`` (UTF-8); ``expression`` -> as written.

Works on DuckDB (``dialect='duckdb'``) and PostgreSQL (``dialect='postgres'``);
``conn`` only needs ``.execute(sql)`` (a duckdb or psycopg connection). With
psycopg the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The demo principals, copied by hand from policies/principals.yaml (a test checks
# that the two agree). Roles listed here include the inherited ones.
PRINCIPALS: dict[str, dict[str, Any]] = {
    "eve": {"roles": ["sales_rep"], "attributes": {"region": "EU", "tenant": "acme", "employee_id": 1}},
    "lena": {"roles": ["sales_lead"], "attributes": {"region": "NA", "tenant": "globex", "employee_id": 18}},
    "sam": {"roles": ["support_agent"], "attributes": {"region": "NA", "employee_id": 22}},
    "tara": {"roles": ["support_lead"], "attributes": {"region": "EU", "employee_id": 33}},
    "ada": {"roles": ["auditor"], "attributes": {"employee_id": 40}},
}

DEMO_TABLES = (
    "regions", "employees", "customers", "accounts", "orders", "order_items", "support_tickets", "assignments",
)


def lit(value: Any) -> str:
    """A SQL literal for a principal attribute (strings quoted, numbers as is)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Masks:
    """Mask SQL in one dialect. Every method returns ``<expr> AS <col>``."""

    dialect: str
    hash_key: str

    def text_type(self, sql_type: str = "VARCHAR") -> str:
        if sql_type == "VARCHAR":
            return {"mysql": "CHAR", "spark": "STRING"}.get(self.dialect, sql_type)
        return sql_type

    def null(self, col: str, sql_type: str) -> str:
        return f"CAST(NULL AS {self.text_type(sql_type)}) AS {col}"

    def redact(self, col: str, replacement: str = "[REDACTED]") -> str:
        return f"CAST({lit(replacement)} AS {self.text_type()}) AS {col}"

    def partial(self, col: str, keep_last: int) -> str:
        # never more than half of the value's characters
        half = {"duckdb": f"LENGTH({col}) // 2", "mysql": f"CHAR_LENGTH({col}) DIV 2",
                "spark": f"LENGTH({col}) DIV 2"}.get(self.dialect, f"LENGTH({col}) / 2")
        return f"'***' || RIGHT({col}, LEAST({keep_last}, {half})) AS {col}"

    def hash(self, col: str) -> str:
        key = lit(self.hash_key)
        if self.dialect == "duckdb":
            return f"sha256({key} || CAST({col} AS VARCHAR)) AS {col}"
        if self.dialect == "postgres":
            return f"encode(sha256(convert_to({key} || CAST({col} AS text), 'UTF8')), 'hex') AS {col}"
        if self.dialect in ("mysql", "spark"):
            return f"sha2({key} || CAST({col} AS {self.text_type()}), 256) AS {col}"
        raise ValueError(f"unsupported dialect {self.dialect!r}")

    def expression(self, col: str, sql: str) -> str:
        return f"{sql} AS {col}"


# A view is (select list, where). `{src}` in a where string is the quoted source schema.
View = tuple[list[str], str]


def oracle_definitions(principal_id: str, m: Masks) -> dict[str, View]:
    """table -> (select list, where) for one demo principal, written from the policy text."""
    if principal_id not in PRINCIPALS:
        raise KeyError(f"not a demo principal: {principal_id!r}")
    a = PRINCIPALS[principal_id]["attributes"]
    everything = "TRUE"  # table not row-governed, or a `where: "TRUE"` filter

    # -- shared column lists ---------------------------------------------------------
    regions = ["id", "code", "name"]
    # employees: salary denied to sales (denied_columns), email partial (except support_lead)
    employees_sales = ["id", "name", m.partial("email", 17), "role", "region", "hired_on"]
    # customers: national_id denied to sales; email keeps its last 12 characters
    customers_sales = [
        "id", "name", m.partial("email", 12), "phone", "region", "account_manager_id", "tenant", "segment",
        "created_at",
    ]
    accounts_sales = ["id", "customer_id", m.partial("iban", 4), "balance", "status", "opened_on", "region"]
    orders_all = ["id", "customer_id", "region", "ordered_at", "status", "total"]
    order_items_all = ["id", "order_id", "product", "quantity", "unit_price"]
    tickets_no_body = ["id", "customer_id", "agent_id", "region", "opened_at", "status", "priority", "subject"]
    tickets_all = tickets_no_body + ["body"]
    # support: the granted customer columns, phone keeps its last 4 digits
    customers_support = ["id", "name", "email", m.partial("phone", 4), "region", "tenant", "segment", "created_at"]
    assignments_all = ["agent_id", "customer_id"]

    if principal_id in ("eve", "lena"):
        # permissive: own region (sales_rep) OR every region (sales_lead); restrictive: own tenant
        region_ok = f"region = {lit(a['region'])}"
        if principal_id == "lena":
            region_ok = f"({region_ok} OR TRUE)"
        tenant_customers = f"customer_id IN (SELECT id FROM {{src}}.customers WHERE tenant = {lit(a['tenant'])})"
        items_region = f"order_id IN (SELECT id FROM {{src}}.orders WHERE region = {lit(a['region'])})"
        if principal_id == "lena":
            items_region = f"({items_region} OR TRUE)"
        items_tenant = (
            "order_id IN (SELECT o.id FROM {src}.orders AS o JOIN {src}.customers AS c ON c.id = o.customer_id "
            f"WHERE c.tenant = {lit(a['tenant'])})"
        )
        # entity scope: an account manager's own book (sales_rep); a sales lead every customer (TRUE)
        book = f"account_manager_id = {lit(a['employee_id'])}"
        own_customer = f"customer_id IN (SELECT id FROM {{src}}.customers WHERE {book})"
        own_items = (
            "order_id IN (SELECT o.id FROM {src}.orders AS o JOIN {src}.customers AS c ON c.id = o.customer_id "
            f"WHERE c.{book})"
        )
        if principal_id == "lena":
            book = own_customer = own_items = everything
        return {
            "regions": (regions, everything),
            "employees": (employees_sales, everything),
            "customers": (customers_sales, f"{region_ok} AND tenant = {lit(a['tenant'])} AND {book}"),
            "accounts": (accounts_sales, f"{region_ok} AND {tenant_customers} AND {own_customer}"),
            "orders": (orders_all, f"{region_ok} AND {tenant_customers} AND {own_customer}"),
            "order_items": (order_items_all, f"{items_region} AND {items_tenant} AND {own_items}"),
            "support_tickets": (tickets_no_body, f"{region_ok} AND {tenant_customers} AND {own_customer}"),
        }

    if principal_id in ("sam", "tara"):
        emp = lit(a["employee_id"])
        # entity scope (support_agent): the customers assigned to them in the lookup table
        assigned = f"id IN (SELECT customer_id FROM {{src}}.assignments WHERE agent_id = {emp})"
        customers_where = assigned  # row filter TRUE, entity scope: assigned
        in_scope = f"customer_id IN (SELECT customer_id FROM {{src}}.assignments WHERE agent_id = {emp})"
        tickets_where = f"agent_id = {emp} AND {in_scope}"
        assignments_where = f"agent_id = {emp}"  # assignments is not a member of the entity
        employees = ["id", "name", m.partial("email", 17), "role", "region"]
        if principal_id == "tara":  # support_lead: OR the whole region; colleagues' e-mails unmasked
            region = lit(a["region"])
            # rows: assigned-or-TRUE OR region (= all); scope: assigned OR the region's customers
            customers_where = f"({assigned} OR region = {region})"
            in_scope = (
                f"customer_id IN (SELECT c.id FROM {{src}}.customers AS c WHERE c.region = {region} "
                f"OR c.id IN (SELECT customer_id FROM {{src}}.assignments WHERE agent_id = {emp}))"
            )
            tickets_where = f"(agent_id = {emp} OR region = {region}) AND {in_scope}"
            assignments_where = (
                f"(agent_id = {emp} OR agent_id IN (SELECT id FROM {{src}}.employees WHERE region = {region}))"
            )
            employees = ["id", "name", "email", "role", "region"]
        return {
            "regions": (regions, everything),
            "employees": (employees, everything),
            "customers": (customers_support, customers_where),
            "support_tickets": (tickets_all, tickets_where),
            "assignments": (assignments_all, assignments_where),
        }

    if principal_id == "ada":  # auditor: every table and row, PII masked
        return {
            "regions": (regions, everything),
            "employees": (["id", m.expression("name", "left(name, 1) || '.'"), m.hash("email"), "role", "region", "salary", "hired_on"], everything),
            "customers": (
                [
                    "id", m.expression("name", "left(name, 1) || '.'"), m.hash("email"), m.redact("phone"),
                    m.null("national_id", "VARCHAR"), "region", "account_manager_id", "tenant", "segment",
                    "created_at",
                ],
                everything,
            ),
            "accounts": (accounts_sales, everything),
            "orders": (orders_all, everything),
            "order_items": (order_items_all, everything),
            "support_tickets": (tickets_all, everything),
            "assignments": (assignments_all, everything),
        }
    raise AssertionError("unreachable")


def view_sql(table: str, view: View, *, schema: str, source_schema: str) -> str:
    """``CREATE VIEW`` text: filter on the raw rows first, then mask (masks never feed the filter)."""
    columns, where = view
    src = ".".join(qident(part) for part in source_schema.split("."))  # "db.schema" allowed
    where_sql = where.replace("{src}", src)
    return (
        f"CREATE VIEW {qident(schema)}.{qident(table)} AS\n"
        f"SELECT {', '.join(columns)}\n"
        f"FROM (SELECT * FROM {src}.{qident(table)} WHERE {where_sql}) AS t"
    )


def create_oracle_views(
    conn: Any,
    principal_id: str,
    schema: str,
    dialect: str,
    *,
    hash_key: str = "demo-hash-key",
    source_schema: str = "main",
) -> list[str]:
    """Create (or replace) the oracle views of ``principal_id`` in ``schema``.

    The demo tables are read from ``source_schema``. Views of tables the principal
    may not see are dropped if present. Returns the names of the views created.
    """
    if dialect not in ("duckdb", "postgres"):
        raise ValueError(f"unsupported dialect {dialect!r}")
    definitions = oracle_definitions(principal_id, Masks(dialect, hash_key))
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {qident(schema)}")
    for table in DEMO_TABLES:
        conn.execute(f"DROP VIEW IF EXISTS {qident(schema)}.{qident(table)}")
    for table, view in definitions.items():
        conn.execute(view_sql(table, view, schema=schema, source_schema=source_schema))
    return list(definitions)
