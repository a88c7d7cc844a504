"""Row-filter, mask and grant semantics on a small bundle with no schema in its catalog.

Runs the governed SQL on sqlite3 and DuckDB, and checks the results against
what docs/policy-bundle.md promises.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from govern import Governor, Principal
from govern.audit import AuditTrail

MINI = Path(__file__).parent / "bundles" / "mini"
KEY = "mini-key"

PROJECTS = [
    (1, "apollo", "alice@corp.example", "a", "s1", 500),
    (2, "gemini", "bob@corp.example", "a", "s2", 5000),
    (3, "mercury", "carol@corp.example", "b", "s3", 700),
    (4, "vostok", None, "b", "s4", 120),
    (5, "soyuz", "dave@corp.example", "c", "s5", 950),
]
MEMBERS = [(1, "u1"), (3, "u1"), (2, "u2")]
NOTES = [(1, 1, "call alice", "a"), (2, 3, "call carol", "b"), (3, 5, "call dave", "c")]


def load(conn) -> None:
    conn.execute("CREATE TABLE projects (id INTEGER, name VARCHAR, owner_email VARCHAR, tenant VARCHAR, secret VARCHAR, budget INTEGER)")
    conn.execute("CREATE TABLE members (project_id INTEGER, user_id VARCHAR)")
    conn.execute("CREATE TABLE notes (id INTEGER, project_id INTEGER, body VARCHAR, tenant VARCHAR)")
    conn.executemany("INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?)", PROJECTS)
    conn.executemany("INSERT INTO members VALUES (?, ?)", MEMBERS)
    conn.executemany("INSERT INTO notes VALUES (?, ?, ?, ?)", NOTES)


@pytest.fixture(scope="module")
def mini() -> Governor:
    return Governor.from_path(MINI, audit=AuditTrail.null(), hash_key=KEY)


@pytest.fixture(params=["sqlite", "duckdb"])
def conn(request):
    c = sqlite3.connect(":memory:") if request.param == "sqlite" else duckdb.connect()
    load(c)
    yield c
    c.close()


def ids(gov, conn, principal, sql="SELECT id FROM projects"):
    return sorted(r[0] for r in gov.execute(conn, sql, principal).rows)


def test_lookup_table_filter(mini, conn):
    assert ids(mini, conn, mini.principal("u1")) == [1, 3]


def test_role_hierarchy_inherits_filters(mini, conn):
    assert ids(mini, conn, mini.principal("u2")) == [2]  # lead inherits member's lookup filter


def test_permissive_or_restrictive_and(mini, conn):
    # tenant a (permissive) AND budget < 1000 (restrictive)
    assert ids(mini, conn, mini.principal("admin_a")) == [1]


def test_no_applicable_filter_sees_nothing_never_everything(mini, conn):
    assert ids(mini, conn, mini.principal("v")) == []


def test_filter_for_everyone_with_list_attribute(mini, conn):
    sql = "SELECT id FROM notes"
    assert ids(mini, conn, mini.principal("u2"), sql) == [1, 2]
    assert ids(mini, conn, mini.principal("aud"), sql) == [1, 2, 3]
    assert ids(mini, conn, Principal("z", ["member"], {"tenants": []}), sql) == []  # empty list: nothing


def test_deny_overrides_allow_across_roles(mini):
    both = Principal("x", ["auditor", "member"], {"tenants": []})
    decision = mini.check_sql("SELECT secret FROM projects", both)
    assert not decision.allowed and "projects.secret" in decision.reasons[0]


def test_hierarchy_allow_does_not_beat_inherited_deny(mini):
    # lead allows secret, but lead inherits member, which denies it: deny wins.
    decision = mini.check_sql("SELECT secret FROM projects", mini.principal("u2"))
    assert not decision.allowed


def test_masks_first_matching_rule_wins_and_applies_at_scan(mini, conn):
    u1 = mini.principal("u1")
    rows = dict(mini.execute(conn, "SELECT id, owner_email FROM projects", u1).rows)
    # keep_last 13, but a partial mask never shows more than half of a value (18 characters: 9)
    assert rows == {1: "***p.example", 3: "***p.example"}
    # WHERE sees the masked value: the raw address matches nothing.
    assert mini.execute(conn, "SELECT id FROM projects WHERE owner_email = 'alice@corp.example'", u1).rows == []


def test_expression_and_hash_masks(mini, conn):
    import hashlib

    rows = {r[0]: r[1:] for r in mini.execute(conn, "SELECT id, budget, owner_email FROM projects", mini.principal("aud")).rows}
    assert rows[2][0] == 5000 and rows[1][0] == 500 and rows[5][0] == 900
    assert rows[1][1] == hashlib.sha256((KEY + "alice@corp.example").encode()).hexdigest()
    assert rows[4][1] is None  # NULL stays NULL under hash


def test_cte_cannot_stand_in_for_a_lookup_table(mini, conn):
    # The filter of projects reads `members`; a user CTE named members must not replace it.
    sql = "WITH members AS (SELECT id AS project_id, 'u1' AS user_id FROM projects) SELECT id FROM projects"
    assert ids(mini, conn, mini.principal("u1"), sql) == [1, 3]
    decision = mini.check_sql(sql, mini.principal("u1"))
    assert "members_cte1" in decision.sql


def test_cte_named_like_table_keeps_alias_for_columns(mini, conn):
    sql = "WITH projects AS (SELECT 42 AS id) SELECT projects.id FROM projects"
    assert ids(mini, conn, mini.principal("u1"), sql) == [42]


def test_row_cap_from_bundle(mini, conn):
    sql = "SELECT a.id FROM projects a, projects b, projects c"
    assert len(mini.execute(conn, sql, mini.principal("aud")).rows) == 50


def test_sqlite_emits_runnable_partial_mask(mini):
    decision = mini.check_sql("SELECT owner_email FROM projects", mini.principal("u1"), dialect="sqlite")
    assert "RIGHT(" not in decision.sql.upper()


def test_policies_and_tables_reported(mini):
    decision = mini.check_sql("SELECT p.name, n.body FROM projects p JOIN notes n ON n.project_id = p.id", mini.principal("admin_a"))
    assert decision.allowed
    assert decision.tables == ["projects", "notes"]
    assert {"projects-tenant-admin", "projects-small-budget-only", "notes-by-tenant-list", "owner-email-partial"} <= set(decision.policies)
    assert "projects.name" in decision.columns and "notes.body" in decision.columns


def test_principal_from_dict(mini):
    decision = mini.check_sql("SELECT id FROM projects", {"id": "u1", "roles": ["member"], "attributes": {}})
    assert decision.allowed


def test_rendered_relations_are_never_shared_across_principal_values(mini, conn):
    # The render cache keys on the values the relation reads: same roles, other values, other rows.
    a = Principal("a1", ["tenant_admin"], {"tenant": "a", "tenants": ["a"]})
    b = Principal("b1", ["tenant_admin"], {"tenant": "b", "tenants": ["b"]})
    for _ in range(2):
        assert ids(mini, conn, a) == [1]
        assert ids(mini, conn, b) == [3, 4]
        assert ids(mini, conn, a, "SELECT id FROM notes") == [1]
        assert ids(mini, conn, b, "SELECT id FROM notes") == [2]
