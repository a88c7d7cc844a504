"""Keyed trails: every record carries a MAC, checkpoints are mandatory and contiguous.

Regression tests for the red-team findings "whole-chain rewrite passes keyed verify when the
checkpoints file is deleted" and "forged record appended after the last checkpoint is accepted".
"""

import json
import uuid
from pathlib import Path

import pytest

from govern.audit import AuditTrail
from govern.audit.canonical import canonical_line, record_mac
from govern.audit.processors import redact_error
from govern.audit.verify import verify_file
from govern.cli.audit import main

from .helpers import PG_DSN, connect_postgres_or_skip, fill, kwargs_for

KEY = b"keyed-trail-test-key-0123456789"
EVERY = 10


@pytest.fixture
def trail(tmp_path) -> Path:
    p = tmp_path / "trail.jsonl"
    fill(p, 45, checkpoint_key=KEY, checkpoint_every=EVERY).close()  # anchor 0, 10, 20, 30, 40, close 45
    rep = verify_file(p, key=KEY)
    assert rep.ok and rep.signed_records == 45 and rep.checkpoint_interval == EVERY, rep.first_bad
    return p


def lines(p: Path) -> list[bytes]:
    return p.read_bytes().splitlines(keepends=True)


def cps(p: Path) -> Path:
    return Path(str(p) + ".checkpoints")


def rechain(ls: list[bytes], start: int, keep_mac: bool) -> list[bytes]:
    out, prev = ls[:start], json.loads(ls[start - 1])["hash"] if start else "0" * 64
    for raw in ls[start:]:
        r = json.loads(raw)
        r["prev_hash"] = prev
        if not keep_mac:
            r.pop("mac", None)
        line = canonical_line(r)
        prev = json.loads(line)["hash"]
        out.append(line)
    return out


def edit_and_rechain(p: Path, keep_mac: bool) -> None:
    ls = lines(p)
    r = json.loads(ls[4])
    r["decision"] = "allow"
    ls[4] = canonical_line(r)
    p.write_bytes(b"".join(rechain(ls, 4, keep_mac)))


# ----------------------------------------------------------------------------- what is written

def test_every_record_carries_a_mac_that_the_recipe_reproduces(trail):
    for raw in lines(trail):
        r = json.loads(raw)
        assert r["mac"] == record_mac(KEY, r["hash"])
        assert canonical_line(r) == raw  # the reviewer's recipe reproduces signed lines too
    first = json.loads(cps(trail).read_text().splitlines()[0])
    assert first["seq"] == 0 and first["every"] == EVERY  # anchor written when the writer opened the trail


def test_unkeyed_lines_are_unchanged(tmp_path):
    p = tmp_path / "t.jsonl"
    fill(p, 3).close()
    assert all("mac" not in json.loads(x) for x in lines(p))
    assert b'"mac"' not in p.read_bytes()


def test_caller_cannot_set_the_mac(tmp_path):
    p = tmp_path / "t.jsonl"
    t = AuditTrail.to_file(p, checkpoint_key=KEY)
    t.record(action="check_sql", principal={"id": "eve"}, decision="allow", mac="f" * 64)
    t.close()
    assert json.loads(lines(p)[0])["mac"] != "f" * 64 and verify_file(p, key=KEY).ok
    q = tmp_path / "u.jsonl"
    t = AuditTrail.to_file(q, checkpoint_every=0)
    t.record(action="check_sql", principal={"id": "eve"}, decision="allow", mac="f" * 64)
    t.close()
    assert "mac" not in json.loads(lines(q)[0]) and verify_file(q).ok


# ----------------------------------------------------------------------------- finding 1: rewrite + deleted checkpoints

@pytest.mark.parametrize("keep_mac", [True, False])
def test_rewrite_with_checkpoints_file_deleted_fails_keyed_verify(trail, keep_mac):
    edit_and_rechain(trail, keep_mac)
    cps(trail).unlink()
    assert verify_file(trail).ok  # without the key: consistent chain, nothing to compare with
    rep = verify_file(trail, key=KEY)
    assert not rep.ok and rep.first_bad.seq == 5
    assert rep.first_bad.kind == ("forged" if keep_mac else "unsigned")


def test_checkpoints_file_deleted_alone_fails_keyed_verify(trail):
    cps(trail).unlink()
    rep = verify_file(trail, key=KEY)
    assert rep.first_bad.kind == "checkpoint_missing"


def test_checkpoints_file_emptied_fails_keyed_verify(trail):
    cps(trail).write_text("")
    assert verify_file(trail, key=KEY).first_bad.kind == "checkpoint_missing"


def test_rewrite_with_checkpoints_at_and_after_the_edit_deleted(trail):
    edit_and_rechain(trail, keep_mac=False)
    kept = [c for c in cps(trail).read_text().splitlines() if json.loads(c)["seq"] < 5]
    cps(trail).write_text("".join(c + "\n" for c in kept))
    rep = verify_file(trail, key=KEY)
    assert not rep.ok and rep.first_bad.kind == "unsigned" and rep.first_bad.seq == 5


def test_checkpoint_lines_deleted_in_the_middle_break_contiguity(trail):
    kept = [c for c in cps(trail).read_text().splitlines() if json.loads(c)["seq"] not in (20, 30)]
    cps(trail).write_text("".join(c + "\n" for c in kept))
    rep = verify_file(trail, key=KEY)
    assert rep.first_bad.kind == "checkpoint_missing" and rep.first_bad.seq == 20
    assert verify_file(trail).ok  # unkeyed verify has no notion of a required checkpoint


def test_trailing_checkpoints_deleted_leaving_too_long_a_tail(trail):
    kept = [c for c in cps(trail).read_text().splitlines() if json.loads(c)["seq"] <= 30]
    cps(trail).write_text("".join(c + "\n" for c in kept))
    rep = verify_file(trail, key=KEY)  # 15 records after seq 30 > interval 10
    assert rep.first_bad.kind == "checkpoint_missing" and rep.first_bad.seq == 40


def test_the_interval_cannot_be_widened_without_the_key(trail):
    forged = [dict(json.loads(c), every=1000) for c in cps(trail).read_text().splitlines()]
    cps(trail).write_text("".join(json.dumps(c) + "\n" for c in forged))
    assert verify_file(trail, key=KEY).first_bad.kind == "checkpoint_forged"


def test_unsigned_checkpoints_fail_keyed_verify(trail):
    stripped = [dict(json.loads(c), mac=None) for c in cps(trail).read_text().splitlines()]
    cps(trail).write_text("".join(json.dumps(c) + "\n" for c in stripped))
    assert verify_file(trail, key=KEY).first_bad.kind == "checkpoint_forged"


# ----------------------------------------------------------------------------- finding 2: appended records

def test_appended_record_with_a_copied_mac_is_forged(trail):
    last = json.loads(lines(trail)[-1])
    forged = dict(last, seq=last["seq"] + 1, prev_hash=last["hash"], event_id="f" * 32, decision="allow",
                  principal={"id": "ada", "roles": ["auditor"], "tenant": None})
    with open(trail, "ab") as f:
        f.write(canonical_line(forged))
    rep = verify_file(trail, key=KEY)
    assert rep.first_bad.kind == "forged" and rep.first_bad.seq == 46 and rep.status == "TAMPERED"
    assert main(["audit", "verify", "--trail", str(trail), "--key-env", "AUDIT_TEST_KEY"]) == 0  # env unset: no key


def test_appended_record_without_mac_is_unsigned_exit_4(trail, monkeypatch, capsys):
    last = json.loads(lines(trail)[-1])
    forged = dict(last, seq=last["seq"] + 1, prev_hash=last["hash"], decision="allow")
    forged.pop("mac")
    with open(trail, "ab") as f:
        f.write(canonical_line(forged))
    rep = verify_file(trail, key=KEY)
    assert rep.first_bad.kind == "unsigned" and rep.first_bad.seq == 46 and rep.status == "UNSIGNED"
    monkeypatch.setenv("GOVERN_AUDIT_KEY", KEY.decode())
    assert main(["audit", "verify", "--trail", str(trail)]) == 4
    assert "[unsigned]" in capsys.readouterr().out


def test_record_signed_with_another_key_is_forged(tmp_path):
    p = tmp_path / "t.jsonl"
    t = AuditTrail.to_file(p, checkpoint_key=KEY, checkpoint_every=EVERY)
    t.record(**kwargs_for(0))
    t.close()
    other = AuditTrail.to_file(p, checkpoint_key=b"another key", checkpoint_every=EVERY)
    other.record(**kwargs_for(1))
    other.close()
    rep = verify_file(p, key=KEY)
    assert not rep.ok and rep.first_bad.kind == "checkpoint_forged"  # its checkpoints fail first
    assert verify_file(p).ok


def test_unkeyed_trail_fails_keyed_verify(tmp_path):
    p = tmp_path / "t.jsonl"
    fill(p, 5, checkpoint_every=0)  # no key, never closed: no checkpoints at all
    rep = verify_file(p, key=KEY)
    assert rep.first_bad.kind == "unsigned" and rep.first_bad.seq == 1


# ----------------------------------------------------------------------------- legitimate trails stay OK

def test_live_trail_shorter_than_the_interval_verifies(tmp_path):
    p = tmp_path / "t.jsonl"
    t = fill(p, 7, checkpoint_key=KEY, checkpoint_every=EVERY)  # not closed
    rep = verify_file(p, key=KEY)
    assert rep.ok and rep.after_last_checkpoint == 7 and rep.signed_records == 7, rep.first_bad
    t.close()


def test_reopened_trail_and_writers_with_different_intervals(tmp_path):
    p = tmp_path / "t.jsonl"
    fill(p, 12, checkpoint_key=KEY, checkpoint_every=EVERY).close()
    a = AuditTrail.to_file(p, checkpoint_key=KEY, checkpoint_every=3)
    b = AuditTrail.to_file(p, checkpoint_key=KEY, checkpoint_every=25)
    for i in range(60):
        (a if i % 7 else b).record(**kwargs_for(i))
    rep = verify_file(p, key=KEY)
    assert rep.ok and rep.records == 72 and rep.checkpoint_interval == 25, rep.first_bad
    a.close()
    b.close()
    assert verify_file(p, key=KEY).ok


def test_rotated_keyed_trail_verifies(tmp_path):
    p = tmp_path / "t.jsonl"
    fill(p, 150, checkpoint_key=KEY, checkpoint_every=EVERY, max_bytes=20_000).close()
    assert len(list(tmp_path.glob("t.jsonl.0*"))) >= 2
    rep = verify_file(p, key=KEY)
    assert rep.ok and rep.signed_records == 150


def test_truncation_limits_are_as_documented(trail):
    """Cutting records AND the checkpoints after the cut is not detectable from the files alone
    (README: 'what is not detected'); an earlier head (--expect-head) detects it."""
    head = verify_file(trail, key=KEY)
    trail.write_bytes(b"".join(lines(trail)[:38]))
    assert verify_file(trail, key=KEY).first_bad.kind == "truncated"  # checkpoints 40, 45 still there
    kept = [c for c in cps(trail).read_text().splitlines() if json.loads(c)["seq"] <= 38]
    cps(trail).write_text("".join(c + "\n" for c in kept))
    assert verify_file(trail, key=KEY).ok
    rep = verify_file(trail, key=KEY, expect_head=(head.head_seq, head.head_hash))
    assert rep.first_bad.kind == "truncated"


def test_cli_keyed_and_unkeyed_output(trail, monkeypatch, capsys):
    monkeypatch.delenv("GOVERN_AUDIT_KEY", raising=False)
    assert main(["audit", "verify", "--trail", str(trail)]) == 0
    assert "NOT authenticity" in capsys.readouterr().out
    monkeypatch.setenv("GOVERN_AUDIT_KEY", KEY.decode())
    assert main(["audit", "verify", "--trail", str(trail)]) == 0
    assert "45 record MACs verified" in capsys.readouterr().out
    cps(trail).unlink()
    assert main(["audit", "verify", "--trail", str(trail)]) == 1
    assert "[checkpoint_missing]" in capsys.readouterr().out


# ----------------------------------------------------------------------------- error field redaction

def test_error_field_is_scrubbed_and_truncated(tmp_path):
    p = tmp_path / "t.jsonl"
    t = AuditTrail.to_file(p)
    card = "4111 1111 1111 1111"
    t.record(action="execute", principal={"id": "sam"}, decision="allow",
             error=f"Conversion Error: Could not convert string 'My card is {card} thanks' to INT32")
    t.record(action="execute", principal={"id": "sam"}, decision="allow",
             error=f'invalid input syntax for type integer: "call me on 555 0100 999"; card {card}')
    t.record(action="execute", principal={"id": "sam"}, decision="allow", error="x" * 100_000)
    t.record(action="execute", principal={"id": "sam"}, decision="allow", error=ValueError("unterminated 'secret"))
    t.close()
    recs = [json.loads(x) for x in lines(p)]
    text = p.read_text()
    assert card not in text and "My card" not in text and "555 0100" not in text and "secret" not in text
    assert recs[0]["error"] == "Conversion Error: Could not convert string '?' to INT32"
    assert recs[1]["error"].startswith('invalid input syntax for type integer: "?"')
    assert len(recs[2]["error"]) == 1024
    assert verify_file(p).ok


def test_redact_error_keeps_short_plain_messages():
    assert redact_error("Binder Error: column x not found") == "Binder Error: column x not found"
    assert redact_error("line 12 col 3") == "line 12 col 3"


# ----------------------------------------------------------------------------- PostgreSQL

def test_postgres_keyed_trail(tmp_path):
    conn = connect_postgres_or_skip(autocommit=True)
    table = "audit_keyed_" + uuid.uuid4().hex[:8]
    try:
        from govern.audit.verify import verify_postgres

        t = AuditTrail.to_postgres(PG_DSN, table=table, checkpoint_key=KEY, checkpoint_every=5)
        for i in range(12):
            t.record(**kwargs_for(i))
        t.close()
        rep = verify_postgres(PG_DSN, table, key=KEY)
        assert rep.ok and rep.signed_records == 12 and rep.checkpoint_interval == 5, rep.first_bad
        conn.execute(f"DELETE FROM {table}_checkpoints")
        assert verify_postgres(PG_DSN, table).ok
        assert verify_postgres(PG_DSN, table, key=KEY).first_bad.kind == "checkpoint_missing"
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_checkpoints")
        conn.close()
