"""Every kind of tampering is detected, and `verify` names the first bad record."""

import json
from pathlib import Path

import pytest

from govern.audit.canonical import canonical_line
from govern.audit.verify import verify_file
from govern.cli.audit import main

from .helpers import fill

KEY = b"checkpoint-key-for-tests"
N = 60


@pytest.fixture
def trail(tmp_path) -> Path:
    p = tmp_path / "trail.jsonl"
    fill(p, N, checkpoint_key=KEY, checkpoint_every=20).close()  # checkpoints at 20, 40, 60
    assert verify_file(p, key=KEY).ok
    return p


def lines(p: Path) -> list[bytes]:
    return p.read_bytes().splitlines(keepends=True)


def put(p: Path, ls: list[bytes]) -> None:
    p.write_bytes(b"".join(ls))


def rechain(ls: list[bytes], start: int) -> list[bytes]:
    """What an attacker with write access does: recompute every hash from `start` on."""
    out = ls[:start]
    prev = json.loads(out[-1])["hash"] if out else "0" * 64
    for raw in ls[start:]:
        r = json.loads(raw)
        r["prev_hash"] = prev
        line = canonical_line(r)
        prev = json.loads(line)["hash"]
        out.append(line)
    return out


def test_edit_a_field(trail):
    ls = lines(trail)
    ls[9] = ls[9].replace(b'"decision":"', b'"decision":"x', 1)
    put(trail, ls)
    rep = verify_file(trail, key=KEY)
    assert not rep.ok and rep.first_bad.kind == "edited" and rep.first_bad.seq == 10 and rep.first_bad.line == 10
    assert rep.records == 9


def test_delete_a_line(trail):
    ls = lines(trail)
    del ls[9]
    put(trail, ls)
    rep = verify_file(trail, key=KEY)
    assert rep.first_bad.kind == "deleted" and rep.first_bad.seq == 10


def test_swap_two_lines(trail):
    ls = lines(trail)
    ls[9], ls[10] = ls[10], ls[9]
    put(trail, ls)
    rep = verify_file(trail, key=KEY)
    assert rep.first_bad.kind == "reordered" and rep.first_bad.line == 10


def test_insert_forged_line_with_recomputed_hash(trail):
    ls = lines(trail)
    forged = json.loads(ls[9])
    forged.update(decision="allow", reasons=["forged"], prev_hash="1" * 64)  # hash recomputed, chain broken
    ls.insert(9, canonical_line(forged))
    put(trail, ls)
    rep = verify_file(trail, key=KEY)
    assert rep.first_bad.kind == "inserted" and rep.first_bad.seq == 10 and rep.first_bad.line == 10


def test_insert_forged_line_that_links_correctly(trail):
    ls = lines(trail)
    forged = json.loads(ls[9])
    forged.update(decision="allow", reasons=["forged"])  # correct prev_hash: the *next* record then breaks
    ls.insert(9, canonical_line(forged))
    put(trail, ls)
    rep = verify_file(trail)
    assert not rep.ok and rep.first_bad.line == 11  # the chain alone: the record after it breaks
    rep = verify_file(trail, key=KEY)  # with the key the forged line itself fails (its MAC is another record's)
    assert rep.first_bad.kind == "forged" and rep.first_bad.line == 10


def test_truncate(trail):
    put(trail, lines(trail)[:-5])
    rep = verify_file(trail, key=KEY)
    assert rep.first_bad.kind == "truncated" and rep.first_bad.seq == 56


def test_truncate_detected_by_expected_head_without_checkpoints(tmp_path):
    p = tmp_path / "t.jsonl"
    fill(p, 30, checkpoint_every=0).checkpoint()
    p.with_name("t.jsonl.checkpoints").unlink()
    head = verify_file(p).head_seq, verify_file(p).head_hash
    put(p, lines(p)[:-3])
    assert verify_file(p).ok  # the chain alone cannot see a cut tail...
    rep = verify_file(p, expect_head=head)  # ...the head from an earlier manifest can
    assert rep.first_bad.kind == "truncated"


def test_rewrite_whole_chain_caught_by_checkpoints(trail):
    ls = lines(trail)
    r = json.loads(ls[4])
    r["decision"] = "allow"
    ls[4] = canonical_line(r)
    put(trail, rechain(ls, 4))
    rep = verify_file(trail)  # chain itself is consistent again
    assert rep.first_bad.kind == "rewritten" and rep.first_bad.seq == 20


def test_rewritten_checkpoints_need_the_key(trail):
    ls = lines(trail)
    r = json.loads(ls[4])
    r["decision"] = "allow"
    ls[4] = canonical_line(r)
    ls = rechain(ls, 4)
    put(trail, ls)
    by_seq = {json.loads(x)["seq"]: json.loads(x)["hash"] for x in ls}
    cps = trail.with_name("trail.jsonl.checkpoints")
    forged = [dict(c, hash=by_seq.get(c["seq"], c["hash"])) for c in map(json.loads, cps.read_text().splitlines())]
    cps.write_text("".join(json.dumps(c) + "\n" for c in forged))
    assert verify_file(trail).ok  # without the key an attacker who rewrites everything wins...
    rep = verify_file(trail, key=KEY)  # ...with it, the HMACs no longer match
    assert rep.first_bad.kind == "checkpoint_forged" and rep.first_bad.seq == 20


def test_deleted_rotated_segment(tmp_path):
    p = tmp_path / "t.jsonl"
    fill(p, 200, max_bytes=20_000).close()
    segs = sorted(tmp_path.glob("t.jsonl.0*"))
    assert len(segs) >= 3
    assert verify_file(p).ok
    segs[1].unlink()
    rep = verify_file(p)
    assert rep.first_bad.kind == "deleted"


def test_cli_names_first_bad_record(trail, capsys, monkeypatch):
    monkeypatch.setenv("GOVERN_AUDIT_KEY", KEY.decode())
    ls = lines(trail)
    del ls[29]
    put(trail, ls)
    assert main(["audit", "verify", "--trail", str(trail)]) == 1
    out = capsys.readouterr().out
    assert "FIRST BAD RECORD" in out and "[deleted]" in out and "records 30..30 missing" in out
