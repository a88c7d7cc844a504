"""Hand-written oracle views: the policy of each bundle, enforced by the database.

For every corpus database and every principal of its bundle
(``policies/<db>/principals.yaml``), one view per table the principal may
see, named like the table, applying the same row filters (permissive rules
OR-ed, restrictive rules AND-ed on top) and column masks (first applicable
rule in file order wins) and omitting denied columns. Tables the principal
may not see get no view at all. They are written by hand from
``rules.yaml`` / ``grants.csv`` / ``principals.yaml`` -- deliberately NOT
generated from the bundle by code -- so that they are an independent
statement of what the policy means. Principal attribute values are inlined.

Placeholders: ``{base}`` is the schema holding the base tables;
``{HASH:col}`` is the keyed hash mask, rendered per engine:

* PostgreSQL: ``encode(sha256(convert_to(key || CAST(col AS TEXT), 'UTF8')), 'hex')``
* DuckDB:     ``sha256(key || CAST(col AS VARCHAR))``

(lower-case hex SHA-256 of key || text(col), UTF-8). Partial masks are
``'***' || RIGHT(col, N)``, redact the constant, null ``CAST(NULL AS type)``.

The original corpus query then runs with ONLY the oracle schema on the
search path, so base tables cannot be reached unqualified.
"""

from __future__ import annotations

import re

HASH_KEY = "corpus-test-key-0001"  # the value the fixtures put in GOVERN_HASH_KEY


def oracle_schema(db: str, principal: str) -> str:
    return f"oracle_{db}_{principal}"


ALL = "SELECT * FROM {base}.%s"

_BROKER_TX_TAX_NULL = (
    "SELECT sbtxid, sbtxcustid, sbtxtickerid, sbtxdatetime, sbtxtype, sbtxshares, sbtxprice, "
    "sbtxamount, sbtxccy, CAST(NULL AS NUMERIC(10,2)) AS sbtxtax, sbtxcommission, sbtxkpx, "
    "sbtxsettlementdatestr, sbtxstatus FROM {base}.sbtransaction"
)

_CD_CARS_NO_COST = (
    "SELECT id, make, model, year, color, left(vin_number, 3) || '-' || right(vin_number, 4) AS vin_number, "
    "engine_type, transmission, crtd_ts FROM {base}.cars"
)



def _cd_team(customer: str, team: str) -> str:
    """car_dealership: the customer bought at least once from a salesperson of ``team``."""
    return f"EXISTS (SELECT 1 FROM {{base}}.sales AS t WHERE t.customer_id = {customer} AND t.salesperson_id IN ({team}))"


VIEWS: dict[str, dict[str, dict[str, str]]] = {
    # ------------------------------------------------------------------ broker
    "broker": {
        # analyst: states CA/NY/TX, no failed tx, amount <= 100000 (restrictive), prices since 2023-04-02;
        # entity customer (sbcustomer + its sbtransaction rows): customers who traded T001/T002/T003
        "ana": {
            "sbcustomer": (
                "SELECT sbcustid, upper(left(sbcustname, 1)) || '.' AS sbcustname, "
                "{HASH:sbcustemail} AS sbcustemail, '***' || RIGHT(sbcustphone, 4) AS sbcustphone, "
                "sbcustcity, sbcuststate, sbcustcountry, sbcustjoindate, '[REDACTED]' AS sbcuststatus "
                "FROM {base}.sbcustomer WHERE sbcuststate IN ('CA', 'NY', 'TX') "
                "AND EXISTS (SELECT 1 FROM {base}.sbtransaction AS t WHERE t.sbtxcustid = sbcustomer.sbcustid "
                "AND t.sbtxtickerid IN ('T001', 'T002', 'T003'))"
            ),
            "sbticker": ALL % "sbticker",
            "sbdailyprice": "SELECT * FROM {base}.sbdailyprice WHERE sbdpdate >= CAST('2023-04-02' AS DATE)",
            "sbtransaction": _BROKER_TX_TAX_NULL + " AS x WHERE sbtxstatus <> 'fail' AND sbtxamount <= 100000 "
            "AND EXISTS (SELECT 1 FROM {base}.sbtransaction AS t WHERE t.sbtxcustid = x.sbtxcustid "
            "AND t.sbtxtickerid IN ('T001', 'T002', 'T003'))",
        },
        # senior_analyst (inherits analyst): name/status unmasked, all prices (permissive TRUE);
        # entity customer: traded T005/T006 (analyst scope) OR on the book C004/C011/C012/C015
        "sam": {
            "sbcustomer": (
                "SELECT sbcustid, sbcustname, {HASH:sbcustemail} AS sbcustemail, "
                "'***' || RIGHT(sbcustphone, 4) AS sbcustphone, sbcustcity, sbcuststate, sbcustcountry, "
                "sbcustjoindate, sbcuststatus FROM {base}.sbcustomer WHERE sbcuststate IN ('CA', 'FL', 'NJ') "
                "AND (sbcustid IN ('C004', 'C011', 'C012', 'C015') OR EXISTS (SELECT 1 FROM {base}.sbtransaction AS t "
                "WHERE t.sbtxcustid = sbcustomer.sbcustid AND t.sbtxtickerid IN ('T005', 'T006')))"
            ),
            "sbticker": ALL % "sbticker",
            "sbdailyprice": ALL % "sbdailyprice",
            "sbtransaction": _BROKER_TX_TAX_NULL + " AS x WHERE sbtxstatus <> 'fail' AND sbtxamount <= 500000 "
            "AND (sbtxcustid IN ('C004', 'C011', 'C012', 'C015') OR EXISTS (SELECT 1 FROM {base}.sbtransaction AS t "
            "WHERE t.sbtxcustid = x.sbtxcustid AND t.sbtxtickerid IN ('T005', 'T006')))",
        },
        # compliance: all rows (entity scope TRUE), email partial(9), no commission column
        "cleo": {
            "sbcustomer": (
                "SELECT sbcustid, sbcustname, '***' || RIGHT(sbcustemail, 9) AS sbcustemail, sbcustphone, "
                "sbcustaddress1, sbcustaddress2, sbcustcity, sbcuststate, sbcustcountry, sbcustpostalcode, "
                "sbcustjoindate, sbcuststatus FROM {base}.sbcustomer"
            ),
            "sbticker": ALL % "sbticker",
            "sbdailyprice": ALL % "sbdailyprice",
            "sbtransaction": (
                "SELECT sbtxid, sbtxcustid, sbtxtickerid, sbtxdatetime, sbtxtype, sbtxshares, sbtxprice, "
                "sbtxamount, sbtxccy, sbtxtax, sbtxkpx, sbtxsettlementdatestr, sbtxstatus "
                "FROM {base}.sbtransaction"
            ),
        },
    },
    # ---------------------------------------------------------- car_dealership
    "car_dealership": {
        # sales_rep: team 1,2,3,7; customer states CA/TX/NY/FL; active salespersons; no financing payments;
        # entity customer (customers, their sales, the payments for those sales): bought from the team
        "rita": {
            "cars": _CD_CARS_NO_COST,
            "salespersons": (
                "SELECT id, first_name, last_name, CAST(NULL AS VARCHAR(255)) AS email, "
                "'***' || RIGHT(phone, 4) AS phone, hire_date, termination_date, crtd_ts "
                "FROM {base}.salespersons WHERE termination_date IS NULL"
            ),
            "customers": (
                "SELECT id, first_name, left(last_name, 1) || '.' AS last_name, '[REDACTED]' AS email, "
                "'***' || RIGHT(phone, 4) AS phone, city, state, crtd_ts "
                "FROM {base}.customers AS c WHERE state IN ('CA', 'TX', 'NY', 'FL') AND " + _cd_team("c.id", "1, 2, 3, 7")
            ),
            "sales": "SELECT * FROM {base}.sales AS s WHERE salesperson_id IN (1, 2, 3, 7) AND " + _cd_team("s.customer_id", "1, 2, 3, 7"),
            "inventory_snapshots": ALL % "inventory_snapshots",
            "payments_received": (
                "SELECT p.* FROM {base}.payments_received AS p JOIN {base}.sales AS ps ON ps.id = p.sale_id "
                "WHERE p.payment_method <> 'financing' AND " + _cd_team("ps.customer_id", "1, 2, 3, 7")
            ),
        },
        # sales_manager (inherits sales_rep): all sales/customers, phones and last names unmasked,
        # still: no car cost, no address/zip, email redacted, salesperson email null, active salespersons;
        # entity customer: customers in CA, or who bought from team 1/2 (sales rep scope)
        "max": {
            "cars": _CD_CARS_NO_COST,
            "salespersons": (
                "SELECT id, first_name, last_name, CAST(NULL AS VARCHAR(255)) AS email, phone, hire_date, "
                "termination_date, crtd_ts FROM {base}.salespersons WHERE termination_date IS NULL"
            ),
            "customers": (
                "SELECT id, first_name, last_name, '[REDACTED]' AS email, phone, city, state, crtd_ts "
                "FROM {base}.customers AS c WHERE (c.state IN ('CA') OR " + _cd_team("c.id", "1, 2") + ")"
            ),
            "sales": (
                "SELECT s.* FROM {base}.sales AS s JOIN {base}.customers AS sc ON sc.id = s.customer_id "
                "WHERE (sc.state IN ('CA') OR " + _cd_team("s.customer_id", "1, 2") + ")"
            ),
            "inventory_snapshots": ALL % "inventory_snapshots",
            "payments_received": (
                "SELECT p.* FROM {base}.payments_received AS p JOIN {base}.sales AS ps ON ps.id = p.sale_id "
                "JOIN {base}.customers AS pc ON pc.id = ps.customer_id WHERE p.payment_method <> 'financing' "
                "AND (pc.state IN ('CA') OR " + _cd_team("ps.customer_id", "1, 2") + ")"
            ),
            "payments_made": "SELECT * FROM {base}.payments_made WHERE payment_amount <= 200000",
        },
        # accountant: no customers / salespersons; sales since 2023-03-20; payments_made <= 100000;
        # entity customer: the ledger's customers 1, 2, 3, 5, 8, 13 (their sales and payments received)
        "otto": {
            "cars": (
                "SELECT id, make, model, year, color, left(vin_number, 3) || '-' || right(vin_number, 4) "
                "AS vin_number, engine_type, transmission, cost, crtd_ts FROM {base}.cars"
            ),
            "sales": (
                "SELECT * FROM {base}.sales WHERE sale_date >= CAST('2023-03-20' AS DATE) "
                "AND customer_id IN (1, 2, 3, 5, 8, 13)"
            ),
            "inventory_snapshots": ALL % "inventory_snapshots",
            "payments_received": (
                "SELECT p.* FROM {base}.payments_received AS p JOIN {base}.sales AS ps ON ps.id = p.sale_id "
                "WHERE ps.customer_id IN (1, 2, 3, 5, 8, 13)"
            ),
            "payments_made": "SELECT * FROM {base}.payments_made WHERE payment_amount <= 100000",
        },
    },
    # ---------------------------------------------------------------- academic
    "academic": {
        # reader: no cite/keyword/publication_keyword; publications >= 2021; domain 4 hidden;
        # organisations in North America/Europe without homepage
        "rob": {
            "author": "SELECT aid, '[hidden]' AS homepage, upper(name) AS name, oid FROM {base}.author",
            "conference": "SELECT cid, '***' || RIGHT(homepage, 7) AS homepage, name FROM {base}.conference",
            "domain": "SELECT * FROM {base}.domain WHERE did NOT IN (4)",
            "domain_author": "SELECT * FROM {base}.domain_author WHERE did NOT IN (4)",
            "domain_conference": "SELECT * FROM {base}.domain_conference WHERE did NOT IN (4)",
            "domain_journal": "SELECT * FROM {base}.domain_journal WHERE did NOT IN (4)",
            "domain_keyword": "SELECT * FROM {base}.domain_keyword WHERE did NOT IN (4)",
            "domain_publication": "SELECT * FROM {base}.domain_publication WHERE did NOT IN (4)",
            "journal": "SELECT {HASH:homepage} AS homepage, jid, name FROM {base}.journal",
            "organization": (
                "SELECT continent, name, oid FROM {base}.organization "
                "WHERE continent IN ('North America', 'Europe')"
            ),
            "publication": (
                "SELECT CAST(NULL AS TEXT) AS abstract, cid, citation_num, jid, pid, reference_num, title, year "
                "FROM {base}.publication WHERE year >= 2021"
            ),
            "writes": ALL % "writes",
        },
        # librarian (inherits reader): every table; author/journal unmasked; still reader's filters
        "lib": {
            "author": ALL % "author",
            "cite": ALL % "cite",
            "conference": "SELECT cid, '***' || RIGHT(homepage, 7) AS homepage, name FROM {base}.conference",
            "domain": "SELECT * FROM {base}.domain WHERE did NOT IN (99)",
            "domain_author": "SELECT * FROM {base}.domain_author WHERE did NOT IN (99)",
            "domain_conference": "SELECT * FROM {base}.domain_conference WHERE did NOT IN (99)",
            "domain_journal": "SELECT * FROM {base}.domain_journal WHERE did NOT IN (99)",
            "domain_keyword": "SELECT * FROM {base}.domain_keyword WHERE did NOT IN (99)",
            "domain_publication": "SELECT * FROM {base}.domain_publication WHERE did NOT IN (99)",
            "journal": ALL % "journal",
            "keyword": ALL % "keyword",
            "organization": (
                "SELECT continent, name, oid FROM {base}.organization WHERE continent IN ('Asia', 'North America')"
            ),
            "publication": (
                "SELECT CAST(NULL AS TEXT) AS abstract, cid, citation_num, jid, pid, reference_num, title, year "
                "FROM {base}.publication WHERE year >= 2020"
            ),
            "publication_keyword": ALL % "publication_keyword",
            "writes": ALL % "writes",
        },
    },
    # ------------------------------------------------------------- restaurants
    "restaurants": {
        # guide: cities LA/SF/NY, regions California/New York, house number null, county redacted
        "gail": {
            "restaurant": (
                "SELECT * FROM {base}.restaurant "
                "WHERE city_name IN ('Los Angeles', 'San Francisco', 'New York')"
            ),
            "location": (
                "SELECT restaurant_id, CAST(NULL AS BIGINT) AS house_number, street_name, city_name "
                "FROM {base}.location WHERE city_name IN ('Los Angeles', 'San Francisco', 'New York')"
            ),
            "geographic": (
                "SELECT city_name, '[county]' AS county, region FROM {base}.geographic "
                "WHERE region IN ('California', 'New York')"
            ),
        },
        # critic: rating >= 4.0, no house number, street partial(6), upper(name)
        "carl": {
            "restaurant": (
                "SELECT id, upper(name) AS name, food_type, city_name, rating "
                "FROM {base}.restaurant WHERE rating >= 4.0"
            ),
            "location": (
                "SELECT restaurant_id, '***' || RIGHT(street_name, 6) AS street_name, city_name FROM {base}.location"
            ),
            "geographic": (
                "SELECT * FROM {base}.geographic "
                "WHERE region IN ('California', 'New York', 'Florida', 'Illinois')"
            ),
        },
    },
    # ----------------------------------------------------------------- scholar
    "scholar": {
        # researcher: paper 3 embargoed everywhere; author initials; dataset name partial(8)
        "pat": {
            "author": "SELECT authorid, left(authorname, 1) || '.' AS authorname FROM {base}.author",
            "cite": "SELECT * FROM {base}.cite WHERE citingpaperid NOT IN (3) AND citedpaperid NOT IN (3)",
            "dataset": "SELECT datasetid, '***' || RIGHT(datasetname, 8) AS datasetname FROM {base}.dataset",
            "field": ALL % "field",
            "journal": ALL % "journal",
            "keyphrase": ALL % "keyphrase",
            "paper": "SELECT * FROM {base}.paper WHERE paperid NOT IN (3)",
            "paperdataset": "SELECT * FROM {base}.paperdataset WHERE paperid NOT IN (3)",
            "paperfield": "SELECT * FROM {base}.paperfield WHERE paperid NOT IN (3)",
            "paperkeyphrase": "SELECT * FROM {base}.paperkeyphrase WHERE paperid NOT IN (3)",
            "venue": ALL % "venue",
            "writes": "SELECT * FROM {base}.writes WHERE paperid NOT IN (3)",
        },
        # guest: 7 tables; papers 3 and 5 embargoed, papers from 2020 on (restrictive),
        # no numcitedby, author name hashed, journal name redacted, venue name null
        "gus": {
            "author": "SELECT authorid, {HASH:authorname} AS authorname FROM {base}.author",
            "journal": "SELECT journalid, '[journal]' AS journalname FROM {base}.journal",
            "keyphrase": ALL % "keyphrase",
            "paper": (
                "SELECT paperid, title, venueid, year, numciting, journalid FROM {base}.paper "
                "WHERE paperid NOT IN (3, 5) AND year >= 2020"
            ),
            "paperkeyphrase": "SELECT * FROM {base}.paperkeyphrase WHERE paperid NOT IN (3, 5)",
            "venue": "SELECT venueid, CAST(NULL AS TEXT) AS venuename FROM {base}.venue",
            "writes": "SELECT * FROM {base}.writes WHERE paperid NOT IN (3, 5)",
        },
    },
}

_HASH_RE = re.compile(r"\{HASH:([a-z_][a-z0-9_]*)\}")
_PARTIAL_RE = re.compile(r"'\*\*\*' \|\| RIGHT\(([a-z_][a-z0-9_]*), (\d+)\)")


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def render(sql: str, engine: str, base: str, key: str = HASH_KEY) -> str:
    """Fill ``{base}`` and ``{HASH:col}`` for ``engine`` ('postgres' or 'duckdb')."""

    def hash_expr(m: re.Match) -> str:
        col = m.group(1)
        if engine == "postgres":
            return f"encode(sha256(convert_to({_sql_str(key)} || CAST({col} AS TEXT), 'UTF8')), 'hex')"
        if engine == "duckdb":
            return f"sha256({_sql_str(key)} || CAST({col} AS VARCHAR))"
        if engine == "mysql":  # PostgreSQL syntax: MysqlEngine transpiles the view to MySQL
            return f"SHA2({_sql_str(key)} || CAST({col} AS TEXT), 256)"
        raise ValueError(engine)

    def partial_expr(m: re.Match) -> str:
        # a partial mask never shows more than half of a value's characters
        col, keep = m.group(1), m.group(2)
        half = {"postgres": f"LENGTH({col}) / 2", "mysql": f"FLOOR(LENGTH({col}) / 2)"}.get(engine, f"LENGTH({col}) // 2")
        return f"'***' || RIGHT({col}, LEAST({keep}, {half}))"

    sql = _PARTIAL_RE.sub(partial_expr, sql)
    return _HASH_RE.sub(hash_expr, sql).replace("{base}", base)


def principals(db: str) -> list[str]:
    return list(VIEWS[db])


def view_statements(db: str, principal: str, engine: str, base: str, schema: str) -> list[str]:
    return [
        f"CREATE VIEW {schema}.{table} AS {render(body, engine, base)}"
        for table, body in VIEWS[db][principal].items()
    ]


def oracle_marker(db: str, principal: str) -> str:
    import hashlib

    blob = repr(sorted(VIEWS[db][principal].items())) + HASH_KEY
    return "govern-oracle " + hashlib.sha256(blob.encode()).hexdigest()[:16]


def install_postgres(conn, db: str, principal: str) -> str:
    """Create (idempotently) the oracle schema of (db, principal) in PostgreSQL."""
    from . import load

    schema = oracle_schema(db, principal)
    base = load.corpus_schema(db)

    def build(c):
        for stmt in view_statements(db, principal, "postgres", base, schema):
            c.execute(stmt)

    # The oracle depends on the base tables: rebuilding them (DROP ... CASCADE) drops the views,
    # so the marker includes the base marker too.
    load.pg_ensure_schema(conn, schema, oracle_marker(db, principal) + " / " + load.corpus_marker(db), build)
    return schema


def install_duckdb(con, db: str, principal: str) -> str:
    from . import load

    schema = oracle_schema(db, principal)
    con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    con.execute(f"CREATE SCHEMA {schema}")
    for stmt in view_statements(db, principal, "duckdb", load.corpus_schema(db), schema):
        con.execute(stmt)
    return schema


def materialise_sqlite(duck_con, db: str, principal: str):
    """SQLite has no schemas to shadow with: copy the DuckDB oracle views into a fresh SQLite db."""
    from . import load

    schema = oracle_schema(db, principal)
    return load.copy_relations_to_sqlite(duck_con, {t: f"{schema}.{t}" for t in VIEWS[db][principal]})
