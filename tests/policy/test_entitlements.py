"""`govern policy report`: the entitlement matrix says what check_sql does, and renders for a reviewer.

The oracle is the governor itself: for every named principal of the demo bundle and
every column of its catalog, ``SELECT column FROM table`` is governed, and the matrix
must agree (denied <-> denied naming the column or table; masked by rule R <-> R among
the applied policies; allowed <-> no mask rule of that column applied; row filters and
entity scopes listed <-> applied). Then the HTML is rendered in headless Chromium and
the CSV read back.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess

import pytest

from govern import Governor
from govern.cli import main
from govern.policy.entitlements import CSV_COLUMNS, entitlements, to_csv, to_html
from tests.audit.test_report import CHROMIUM, _png_size_and_colours
from tests.conftest import POLICIES, TEST_HASH_KEY


@pytest.fixture(scope="module")
def gov(tmp_path_factory):
    return Governor.from_path(POLICIES, audit=tmp_path_factory.mktemp("ent") / "t.jsonl", hash_key=TEST_HASH_KEY)


@pytest.fixture(scope="module")
def matrix(gov):
    return entitlements(gov.bundle)


def test_matrix_covers_every_subject_and_column(gov, matrix):
    bundle = gov.bundle
    names = {(s.kind, s.name) for s in matrix.subjects}
    assert {("role", r) for r in bundle.grants.roles} | {("principal", p) for p in bundle.principals} == names
    columns = [(t.name, c.name) for t in sorted(bundle.catalog, key=lambda t: t.name) for c in t.columns]
    for s in matrix.subjects:
        assert [(c.table, c.column) for c in s.columns] == columns
        assert {c["collection"] for c in s.collections} == set(matrix.collections)


def test_matrix_agrees_with_check_sql_for_every_principal_and_column(gov, matrix):
    mask_ids = {(m.table.lower(), col): {x.id for x in ms} for p in gov.bundle.policies.values()
                for col, ms in p.masks.items() for m in ms[:1]}
    seen = {"allowed": 0, "masked": 0, "denied": 0}
    for s in (s for s in matrix.subjects if s.kind == "principal"):
        principal = gov.principal(s.name)
        rows = {t.table: t for t in s.tables}
        for c in s.columns:
            d = gov.check_sql(f'SELECT "{c.column}" FROM "{c.table}"', principal)
            where = (s.name, c.table, c.column, c.access, d.reasons)
            t = rows[c.table]
            if t.missing:
                assert not d.allowed and any("lacks attribute" in r for r in d.reasons), where
                continue
            if c.access in ("denied", "withheld"):
                assert not d.allowed, where
                assert any(c.column.lower() in r.lower() or c.table.lower() in r.lower() for r in d.reasons), where
                seen["denied"] += 1
                continue
            assert d.allowed, where
            column_masks = mask_ids.get((c.table.lower(), c.column.lower()), set())
            applied = set(d.policies)
            if c.access == "masked":
                assert c.rule in applied, where
                seen["masked"] += 1
            else:
                assert not (column_masks & applied), where
                assert not any(p.startswith(f"classification:{c.table}.{c.column}:") for p in applied), where
                seen["allowed"] += 1
            # the row filters and entity scopes the matrix lists are the ones the query got
            listed = {f.split(":", 1)[0] for f in t.filters + t.entity_scopes}
            assert listed <= applied, (where, listed - applied)
    assert all(n > 5 for n in seen.values()), seen  # every kind of answer was checked, not a vacuous pass


def test_collections_and_reveals_follow_the_grants(gov, matrix):
    grants = gov.bundle.grants
    for s in matrix.subjects:
        roles = grants.expand_roles(tuple(s.roles))
        for c in s.collections:
            assert c["retrieve"] == grants.allowed(roles, f"collection:{c['collection']}", "retrieve")
        assert s.pii_reveals == [t for t in matrix.pii_types if grants.allowed(roles, f"pii:{t}", "reveal")]
    assert any(s.pii_reveals for s in matrix.subjects) and any(not s.pii_reveals for s in matrix.subjects)


def test_csv_reads_back_one_row_per_subject_and_object(matrix, tmp_path, capsys):
    out = tmp_path / "ent.csv"
    assert main(["policy", "report", str(POLICIES), "--format", "csv", "-o", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == CSV_COLUMNS
    per_subject = len(matrix.columns) + len(matrix.subjects[0].tables) + len(matrix.collections) + len(matrix.pii_types)
    assert len(rows) - 1 == len(matrix.subjects) * per_subject
    eve = {(r[4], r[5]): r for r in rows[1:] if r[1] == "eve" and r[3] == "column"}
    assert eve[("customers", "national_id")][6] == "denied"
    assert eve[("customers", "email")][6] == "masked" and eve[("customers", "email")][7]
    assert to_csv(matrix) == out.read_text()


def test_html_is_self_contained_and_escaped(matrix):
    html = to_html(matrix, title="<script>x</script>")
    assert "<script" not in html and "&lt;script&gt;" in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert html.count('<td class="c"') == len(matrix.subjects) * len(matrix.columns)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (Debian packages chromium, chromium-driver)")
def test_entitlement_report_renders_in_headless_chromium(matrix, tmp_path):
    page = tmp_path / "entitlements.html"
    assert main(["policy", "report", str(POLICIES), "-o", str(page)]) == 0
    shot = tmp_path / "entitlements.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000", f"--screenshot={shot}", page.as_uri()]
    subprocess.run(cmd, check=True, timeout=90, capture_output=True)
    w, h, colours = _png_size_and_colours(shot)
    assert (w, h) == (1400, 1000)
    assert colours > 8  # the coloured matrix drew: a blank or error page is one or two colours
    dom = subprocess.run([*cmd[:-2], "--dump-dom", page.as_uri()], check=True, timeout=90,
                         capture_output=True, text=True).stdout
    assert dom.count('class="c"') == len(matrix.subjects) * len(matrix.columns)
    assert "Column access" in dom and "customers.national_id" in dom
