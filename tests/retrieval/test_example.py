"""examples/rag_support_assistant.py runs: three principals, different masked passages, one denial."""

from __future__ import annotations

import importlib.util
import json
import re

from tests.conftest import ROOT

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
CARD = re.compile(r"\b(?:\d[ -]?){15,16}\b")


def load_example():
    spec = importlib.util.spec_from_file_location("rag_support_assistant", ROOT / "examples" / "rag_support_assistant.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_three_principals_differ_and_are_masked(tmp_path, demo_duckdb):
    example = load_example()
    audit = tmp_path / "trail.jsonl"
    out = example.run(audit, k=3, db_dir=tmp_path)
    sam, tara, ada, eve = (out[p] for p in ("sam", "tara", "ada", "eve"))
    assert "no grant to retrieve" in eve["denied"][0]
    ids = {p: [i for i, _ in out[p]["passages"]] for p in ("sam", "tara", "ada")}
    assert all(len(v) == 3 for v in ids.values())
    assert len({tuple(v) for v in ids.values()}) == 3, "three principals, three different answers"
    meta = {f"ticket-{i}": (a, r) for i, a, r in demo_duckdb.execute("SELECT id, agent_id, region FROM support_tickets").fetchall()}
    assert all(meta[i][0] == 22 for i in ids["sam"])
    assert all(meta[i][1] == "EU" or meta[i][0] == 33 for i in ids["tara"])
    texts = {p: " ".join(t for _, t in out[p]["passages"]) for p in ("sam", "tara", "ada")}
    assert all(not CARD.search(t) for t in texts.values()), "card numbers masked for everyone"
    assert EMAIL.search(texts["sam"]) and not EMAIL.search(texts["ada"]), "support sees emails, the auditor does not"
    assert "<PERSON_" in texts["ada"]
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    retrieves = [r for r in records if r["action"] == "retrieve"]
    assert [r["principal"]["id"] for r in retrieves] == ["sam", "tara", "ada", "eve"]
    assert retrieves[-1]["decision"] == "deny"
    raw = " ".join(r[0] for r in demo_duckdb.execute("SELECT body FROM support_tickets").fetchall())
    assert not any(e in audit.read_text() for e in set(EMAIL.findall(raw))), "no PII value in the audit trail"


def test_example_main_prints(capsys):
    assert load_example().main([]) == 0
    printed = capsys.readouterr().out
    assert "== eve: DENIED" in printed and "== sam: 3 passage(s)" in printed
