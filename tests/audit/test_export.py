"""Export filters, CSV, manifest, OCSF 6005 attributes."""

import csv
import hashlib
import json

import pytest

from govern.audit.verify import verify_file
from govern.cli.audit import main

from .helpers import fill

N = 300


@pytest.fixture(scope="module")
def trail(tmp_path_factory):
    p = tmp_path_factory.mktemp("exp") / "trail.jsonl"
    fill(p, N).close()
    return p


def all_records(p):
    return [json.loads(x) for x in p.read_bytes().splitlines()]


def export(trail, out, *args):
    assert main(["audit", "export", "--trail", str(trail), "-o", str(out), *args]) == 0
    return json.loads(out.with_name(out.name + ".manifest.json").read_text())


@pytest.mark.parametrize(
    "flags, pred",
    [
        (["--principal", "alice"], lambda r: r["principal"]["id"] == "alice"),
        (["--decision", "deny"], lambda r: r["decision"] == "deny"),
        (["--action", "retrieve"], lambda r: r["action"] == "retrieve"),
        (["--principal", "bob", "--decision", "rewrite"], lambda r: r["principal"]["id"] == "bob" and r["decision"] == "rewrite"),
    ],
)
def test_filters(trail, tmp_path, flags, pred):
    out = tmp_path / "out.jsonl"
    m = export(trail, out, *flags)
    want = [r for r in all_records(trail) if pred(r)]
    got = [json.loads(x) for x in out.read_bytes().splitlines()]
    assert got == want and 0 < len(got) < N and m["records"] == len(got)


def test_time_window_and_manifest(trail, tmp_path):
    recs = all_records(trail)
    since, until = recs[100]["time"], recs[200]["time"]
    out = tmp_path / "win.jsonl"
    m = export(trail, out, "--since", since, "--until", until)
    got = [json.loads(x) for x in out.read_bytes().splitlines()]
    assert [r["seq"] for r in got] == [r["seq"] for r in recs if since <= r["time"] < until]
    assert m["first_seq"] == got[0]["seq"] and m["last_seq"] == got[-1]["seq"]
    assert m["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    rep = verify_file(trail)
    assert m["trail"]["head_seq"] == N and m["trail"]["head_hash"] == rep.head_hash and m["trail"]["ok"]
    assert m["filters"]["since"].endswith("Z")
    # exported lines are the original bytes: each still matches its own hash
    raw = set(trail.read_bytes().splitlines())
    assert all(x in raw for x in out.read_bytes().splitlines())


def test_csv(trail, tmp_path):
    out = tmp_path / "out.csv"
    m = export(trail, out, "--format", "csv", "--decision", "mask")
    rows = list(csv.DictReader(out.open(newline="")))
    assert len(rows) == m["records"] > 0
    assert all(r["decision"] == "mask" for r in rows)
    assert rows[0]["pii"].startswith("EMAIL_ADDRESS:") and rows[0]["hash"] and rows[0]["principal_id"]


def test_csv_neutralises_formulas(tmp_path):
    from govern.audit import AuditTrail

    p = tmp_path / "t.jsonl"
    t = AuditTrail.to_file(p)
    t.record(action="check_sql", principal={"id": "=HYPERLINK(\"x\")"}, decision="deny", input_text="-- comment\nselect 1")
    t.close()
    out = tmp_path / "o.csv"
    export(p, out, "--format", "csv")
    row = next(csv.DictReader(out.open(newline="")))
    assert row["principal_id"].startswith("'=") and row["input_text"].startswith("'--")


# OCSF 1.3.0: base event + datastore_activity (class 6005) required attributes, written out
# from the schema here rather than imported from the mapper, so the test is independent of it.
OCSF_REQUIRED = ["activity_id", "category_uid", "class_uid", "metadata", "severity_id", "time", "type_uid",
                 "actor", "src_endpoint"]
ACTIVITY_IDS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99}


def test_ocsf_datastore_activity(trail, tmp_path):
    out = tmp_path / "out.ocsf.jsonl"
    m = export(trail, out, "--format", "ocsf")
    events = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(events) == m["records"] == N
    recs = {r["event_id"]: r for r in all_records(trail)}
    for e in events:
        missing = [a for a in OCSF_REQUIRED if e.get(a) in (None, "", {}, [])]
        assert not missing, missing
        assert e["class_uid"] == 6005 and e["category_uid"] == 6
        assert e["activity_id"] in ACTIVITY_IDS and e["type_uid"] == 6005 * 100 + e["activity_id"]
        assert e["severity_id"] in {0, 1, 2, 3, 4, 5, 6, 99}
        assert isinstance(e["time"], int) and e["time"] > 1_600_000_000_000  # epoch milliseconds
        md = e["metadata"]
        assert md["version"].startswith("1.") and md["product"]["vendor_name"] and md["product"]["name"]
        user = e["actor"]["user"]
        assert user.get("uid") or user.get("name")  # user: at least one of account, name, uid
        assert any(e["src_endpoint"].get(k) for k in ("hostname", "ip", "name", "uid"))
        assert any(k in e for k in ("database", "databucket", "table"))  # class constraint
        r = recs[md["uid"]]
        assert user["uid"] == r["principal"]["id"] and [g["name"] for g in user["groups"]] == r["principal"]["roles"]
        assert e["query_info"]["query_string"] == r["input_text"]
        assert [a["decision"] for a in e["authorizations"]] == [r["decision"]] * len(r["policies"])
        assert [a["policy"]["uid"] for a in e["authorizations"]] == r["policies"]
        assert e["status_id"] == (2 if r["decision"] == "deny" else 1)
        assert e["unmapped"]["hash"] == r["hash"]


def test_export_from_postgres(tmp_path):
    import uuid

    from govern.audit import AuditTrail

    from .helpers import PG_DSN, connect_postgres_or_skip

    c = connect_postgres_or_skip(autocommit=True)
    table = "audit_exp_" + uuid.uuid4().hex[:8]
    try:
        t = AuditTrail.to_postgres(PG_DSN, table=table, synchronous_commit=False)
        for i in range(20):
            t.record(action="check_sql", principal={"id": "alice" if i % 2 else "bob"}, decision="allow")
        t.close()
        out = tmp_path / "pg.jsonl"
        assert main(["audit", "export", "--postgres", PG_DSN, "--table", table, "-o", str(out), "--principal", "alice"]) == 0
        m = json.loads((tmp_path / "pg.jsonl.manifest.json").read_text())
        assert m["records"] == 10 and m["trail"]["ok"]
    finally:
        c.execute(f"DROP TABLE IF EXISTS {table}, {table}_checkpoints")
