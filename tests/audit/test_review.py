"""An audit trail a reviewer can sign off: what a denial records, how OCSF classifies each action,
the first load, the checkpoint at exit, an explicit location, redacted literals, validated filters,
and a report that fails on a broken chain and lists every denial."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys

import pytest

from govern import Governor, PolicyLoadError
from govern.audit import AuditTrail, verify_file
from govern.audit.ocsf import to_ocsf
from govern.cli import main
from tests.conftest import POLICIES, ROOT, TEST_HASH_KEY

CARD = "4111 1111 1111 1111"


def records(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


@pytest.fixture()
def gov(tmp_path):
    return Governor.from_path(POLICIES, audit=tmp_path / "trail.jsonl", hash_key=TEST_HASH_KEY)


# ---------------------------------------------------------------- what a denial records


@pytest.mark.parametrize("who, sql, tables, columns", [
    # an ungranted table in a join: both tables and every column named are on the record
    ("sam", "SELECT c.email, o.total FROM customers c JOIN orders o ON o.customer_id = c.id",
     {"customers", "orders"}, {"customers.email", "customers.id", "orders.total", "orders.customer_id"}),
    # a column not permitted: the permitted one and the denied one
    ("eve", "SELECT name, national_id FROM customers", {"customers"}, {"customers.name", "customers.national_id"}),
    # a table not in the catalog
    ("eve", "SELECT a, t.b FROM nosuch t", {"nosuch"}, {"nosuch.a", "nosuch.b"}),
    # a column that exists nowhere
    ("eve", "SELECT bogus FROM customers", {"customers"}, {"customers.bogus"}),
])
def test_denied_query_records_what_it_asked_for(gov, tmp_path, who, sql, tables, columns):
    d = gov.check_sql(sql, gov.principal(who))
    assert not d.allowed
    rec = records(tmp_path / "trail.jsonl")[-1]
    assert rec["decision"] == "deny" and rec["event_id"] == d.audit_id
    assert set(rec["tables"]) == tables
    assert columns <= set(rec["columns"]), rec["columns"]


# ---------------------------------------------------------------- OCSF


def test_ocsf_classifies_each_action(gov, tmp_path):
    eve = gov.principal("eve")
    gov.check_sql("SELECT * FROM nosuch", eve)  # denied, no table it could read
    gov.check_sql("SELECT count(*) FROM customers", eve)
    gov.check_sql("SELECT 1", eve)
    trail = AuditTrail.to_file(tmp_path / "trail.jsonl")
    trail.record(action="retrieve", principal=eve.summary(), decision="deny", reasons=["no grant"], collection="support_kb")
    trail.record(action="mask_text", principal=eve.summary(), decision="mask", pii={"EMAIL_ADDRESS": 1})
    trail.close()
    by_action = {}
    for r in records(tmp_path / "trail.jsonl"):
        by_action.setdefault(r["action"], []).append(to_ocsf(r))
    for ev in by_action["check_sql"]:  # a SQL query, allowed or denied, with or without tables: a Query on a database
        assert (ev["activity_id"], ev["activity_name"], ev["type"]) == (4, "Query", "Table")
        assert "database" in ev and "databucket" not in ev
    denied = [e for e in by_action["check_sql"] if e["status"] == "Failure"]
    assert denied and denied[0]["table"]["name"] == "nosuch"
    (ret,) = by_action["retrieve"]
    assert (ret["activity_id"], ret["type"], ret["databucket"]["name"]) == (1, "Document collection", "support_kb")
    assert ret["status_id"] == 2
    (mask,) = by_action["mask_text"]
    assert mask["activity_name"] == "Mask" and mask["type"] == "Passages"
    (load,) = by_action["policy_load"]
    assert load["activity_name"] == "Policy load" and load["type"] == "Policy bundle"
    for evs in by_action.values():
        for ev in evs:
            assert ev["class_uid"] == 6005 and ev["type_uid"] == 600500 + ev["activity_id"]
            assert any(k in ev for k in ("database", "databucket", "table"))  # the class requires one


# ---------------------------------------------------------------- first load, checkpoint at exit, location


def test_first_load_is_audited_like_a_reload(gov, tmp_path):
    first = records(tmp_path / "trail.jsonl")[0]
    assert (first["action"], first["decision"], first["seq"]) == ("policy_load", "allow", 1)
    assert first["bundle_hash"] == gov.bundle.content_hash and first["input_text"] == str(POLICIES)
    gov.reload()
    again = records(tmp_path / "trail.jsonl")[-1]
    assert again["action"] == "policy_load" and again["bundle_hash"] == first["bundle_hash"]


def test_checkpoint_at_normal_exit(tmp_path):
    trail = tmp_path / "trail.jsonl"
    script = ("from govern import Governor\n"
              f"gov = Governor.from_path({str(POLICIES)!r}, audit={str(trail)!r}, hash_key='k')\n"
              "gov.check_sql('SELECT count(*) FROM customers', gov.principal('eve'))\n")  # never closed by the program
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    head = records(trail)[-1]
    checkpoints = [json.loads(line) for line in open(str(trail) + ".checkpoints")]
    assert checkpoints and (checkpoints[-1]["seq"], checkpoints[-1]["hash"]) == (head["seq"], head["hash"])
    assert verify_file(trail).ok


def _bundle_copy(tmp_path, trail_setting):
    bundle = tmp_path / "bundle"
    shutil.copytree(POLICIES, bundle, ignore=shutil.ignore_patterns("tests"))
    text = (bundle / "rules.yaml").read_text()
    line = "    trail: ../audit/trail.jsonl      # relative to this directory: the repository's audit/ folder\n"
    assert line in text
    text = text.replace(line, f"    trail: {trail_setting}\n" if trail_setting else "    redact_sql_literals: true\n")
    (bundle / "rules.yaml").write_text(text)
    return bundle


def test_trail_location_is_relative_to_the_bundle_never_the_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv("GOVERN_AUDIT_PATH", raising=False)
    bundle = _bundle_copy(tmp_path, "../review/trail.jsonl")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    gov = Governor.from_path(bundle, hash_key="k")
    gov.check_sql("SELECT 1", gov.principal("eve"))
    assert (tmp_path / "review" / "trail.jsonl").exists()
    assert not any(elsewhere.rglob("*.jsonl"))


def test_no_trail_location_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("GOVERN_AUDIT_PATH", raising=False)
    bundle = _bundle_copy(tmp_path, None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PolicyLoadError, match="settings.audit.trail"):
        Governor.from_path(bundle, hash_key="k")
    monkeypatch.setenv("GOVERN_AUDIT_PATH", str(tmp_path / "env.jsonl"))  # the environment names it: fine
    Governor.from_path(bundle, hash_key="k")
    assert (tmp_path / "env.jsonl").exists()


# ---------------------------------------------------------------- literals


@pytest.mark.parametrize("sql", [
    f"SELECT name FROM customers WHERE email LIKE '%{CARD}%'",
    f"SELECT name FROM customers WHERE name = 'x' /* {CARD} */",
    f"SELECT name FROM customers -- {CARD}",
    "SELECT name FROM customers WHERE id = 4111111111111111",
    f"SELECT name, national_id FROM customers WHERE email = '{CARD}'",  # denied: same redaction
])
def test_sql_literals_redacted_by_default_with_a_keyed_digest(gov, tmp_path, sql):
    d = gov.check_sql(sql, gov.principal("eve"))
    raw = (tmp_path / "trail.jsonl").read_text()
    assert CARD not in raw and "4111111111111111" not in raw
    rec = records(tmp_path / "trail.jsonl")[-1]
    assert rec["event_id"] == d.audit_id and "customers" in rec["input_text"]
    assert rec["extra"]["sql_literals"] == "redacted"
    assert rec["input_sha256"] == hashlib.sha256(rec["input_text"].encode()).hexdigest()
    assert rec["extra"]["input_digest"] == hmac.new(TEST_HASH_KEY.encode(), sql.encode(), hashlib.sha256).hexdigest()


def test_literal_redaction_opt_out_per_bundle(tmp_path):
    bundle = _bundle_copy(tmp_path, "../t.jsonl")
    text = (bundle / "rules.yaml").read_text()
    (bundle / "rules.yaml").write_text(text.replace("  audit:\n", "  audit:\n    redact_sql_literals: false\n"))
    gov = Governor.from_path(bundle, hash_key="k")
    sql = f"SELECT name FROM customers WHERE email LIKE '%{CARD}%'"
    gov.check_sql(sql, gov.principal("eve"))
    rec = records(tmp_path / "t.jsonl")[-1]
    assert rec["input_text"] == sql and "sql_literals" not in rec["extra"]


# ---------------------------------------------------------------- export and report


@pytest.fixture()
def reviewed(gov, tmp_path):
    eve, sam = gov.principal("eve"), gov.principal("sam")
    gov.check_sql("SELECT count(*) FROM customers", eve)
    gov.check_sql("SELECT name, national_id FROM customers", eve)
    gov.check_sql("SELECT salary FROM employees", sam)
    gov.check_sql("SELECT total FROM orders", sam)
    gov.audit.close()
    return tmp_path / "trail.jsonl"


def test_report_lists_each_denial_and_takes_exports_filters(reviewed, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["audit", "report", "--trail", str(reviewed), "-o", str(out)]) == 0
    html = out.read_text()
    assert "Denials, one by one" in html
    denials = html[html.index("Denials, one by one"):]
    assert "customers.national_id" in denials and "employees.salary" in denials and "orders" in denials
    assert main(["audit", "report", "--trail", str(reviewed), "-o", str(out), "--principal", "eve", "--decision", "deny"]) == 0
    denials = out.read_text().split("Denials, one by one")[1]
    assert "customers.national_id" in denials and "employees.salary" not in denials
    assert "principal=eve" in out.read_text()


def test_report_exits_non_zero_on_a_broken_chain(reviewed, tmp_path, capsys):
    lines = reviewed.read_bytes().splitlines(keepends=True)
    del lines[2]
    reviewed.write_bytes(b"".join(lines))
    out = tmp_path / "r.html"
    assert main(["audit", "report", "--trail", str(reviewed), "-o", str(out)]) == 1
    assert "chain TAMPERED" in out.read_text()
    assert "does not verify" in capsys.readouterr().err


def test_report_time_filters(reviewed, tmp_path):
    out = tmp_path / "r.html"
    assert main(["audit", "report", "--trail", str(reviewed), "-o", str(out), "--since", "2999-01-01"]) == 0
    assert "No denials." in out.read_text() and " 0 records" in out.read_text()


def test_export_action_filter_is_validated(reviewed, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["audit", "export", "--trail", str(reviewed), "-o", str(tmp_path / "x"), "--action", "retrieval"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "retrieval" in err and "retrieve" in err
    assert main(["audit", "export", "--trail", str(reviewed), "-o", str(tmp_path / "x.jsonl"), "--action", "policy_load"]) == 0
    assert [json.loads(x)["action"] for x in open(tmp_path / "x.jsonl")] == ["policy_load"]


def test_cli_actions_are_the_models():
    from govern.audit.model import KNOWN_ACTIONS
    from govern.cli.audit import ACTIONS

    assert set(ACTIONS) == set(KNOWN_ACTIONS)
