"""Issue 14 (5): the pseudonym vault in PostgreSQL, shared by workers and kept across restarts.

Two worker processes mask overlapping values in one conversation at the same time and agree
on every pseudonym; a third process started afterwards (a restart) reveals them; nothing of a
value, the principal or the conversation id is stored in clear; entries expire by the bundle's
``pii.vault.ttl_seconds``; a missing DSN or secret, a wrong secret or a tampered row never
shows a value.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from govern.pii import PiiEngine, PiiSettings
from govern.pii.nlp import PiiConfigError
from tests.conftest import PG_DSN, connect_postgres_or_skip

ROOT = Path(__file__).resolve().parents[2]
SECRET = "vault-test-secret-0123456789abcdef-0123456789"
EMAILS = [f"user{i}@clinic{i % 3}.example.com" for i in range(12)]
TOKEN = re.compile(r"<EMAIL_ADDRESS_\d+>")

WORKER = r"""
import json, os, sys
from govern.pii import PiiEngine, PiiSettings
settings = PiiSettings.model_validate(json.loads(os.environ["VAULT_TEST_SETTINGS"]))
engine = PiiEngine(settings)
job = json.loads(sys.argv[1])
out = {"masked": [m.text for m in engine.mask_many(job["texts"], conversation=job["conv"])] if job["texts"] else [],
       "revealed": [engine.reveal(t, job["conv"], {"EMAIL_ADDRESS"}) for t in job["reveal"]]}
print(json.dumps(out))
"""


@pytest.fixture()
def vault_table():
    conn = connect_postgres_or_skip(autocommit=True)
    table = f"govern_pii_vault_t{secrets.token_hex(4)}"
    yield conn, table
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"DROP TABLE IF EXISTS {table}_scopes")
    conn.close()


def _settings(table: str, ttl: float = 3600) -> dict:
    return {"operators": {"default": {"operator": "pseudonym"}},
            "vault": {"backend": "postgresql", "table": table, "ttl_seconds": ttl}}


def _env(table: str, secret: str = SECRET) -> dict:
    return {**os.environ, "GOVERN_VAULT_DSN": PG_DSN, "GOVERN_VAULT_KEY": secret,
            "VAULT_TEST_SETTINGS": json.dumps(_settings(table)), "PYTHONPATH": str(ROOT)}


def _start(table: str, conv: str, texts: list[str], reveal: list[str] = (), secret: str = SECRET):
    job = json.dumps({"conv": conv, "texts": texts, "reveal": list(reveal)})
    return subprocess.Popen([sys.executable, "-c", WORKER, job], cwd=ROOT, env=_env(table, secret),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(proc) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def test_two_workers_agree_and_a_restart_reveals(vault_table):
    conn, table = vault_table
    conv = "7:analyst\x1fconv-42"  # the governor's scope key: principal and conversation
    # overlapping values, in different orders, masked by two processes at once
    a_texts = [f"write to {e}" for e in EMAILS[:8]]
    b_texts = [f"cc {e}" for e in reversed(EMAILS[4:])]
    a, b = _start(table, conv, a_texts), _start(table, conv, b_texts)
    ra, rb = _result(a), _result(b)
    pairs = [(e, TOKEN.search(t).group()) for e, t in zip(EMAILS[:8], ra["masked"])]
    pairs += [(e, TOKEN.search(t).group()) for e, t in zip(reversed(EMAILS[4:]), rb["masked"])]
    by_value, by_token = {}, {}
    for value, token in pairs:
        assert by_value.setdefault(value, token) == token  # same value, same token, in both workers
        assert by_token.setdefault(token, value) == value  # different values, different tokens
    assert sorted(int(t[15:-1]) for t in by_token) == list(range(1, len(EMAILS) + 1))
    # a restart: a new process, same table and secret, reveals every token
    tokens = sorted(by_token)
    rc = _result(_start(table, conv, [], reveal=tokens))
    assert rc["revealed"] == [by_token[t] for t in tokens]
    # another conversation (or principal) reveals nothing of this one, nor does another secret
    from govern.pii.vault_pg import PostgresVault

    settings = PiiSettings.model_validate(_settings(table))
    same = PiiEngine(settings, vault=PostgresVault(settings.vault, PG_DSN, SECRET))
    other_key = PiiEngine(settings, vault=PostgresVault(settings.vault, PG_DSN, "x" * 40))
    assert [same.reveal(t, "7:analyst\x1fother", {"EMAIL_ADDRESS"}) for t in tokens] == tokens
    assert [other_key.reveal(t, conv, {"EMAIL_ADDRESS"}) for t in tokens] == tokens
    assert [same.reveal(t, conv, {"EMAIL_ADDRESS"}) for t in tokens] == [by_token[t] for t in tokens]
    same.vault.close()
    other_key.vault.close()

    # nothing in clear: no value, principal or conversation id in any column
    dump = repr(conn.execute(f"SELECT * FROM {table}").fetchall()) + repr(
        conn.execute(f"SELECT * FROM {table}_scopes").fetchall())
    raw = b"".join(bytes(c) if isinstance(c, (bytes, memoryview)) else str(c).encode()
                   for r in conn.execute(f"SELECT * FROM {table}").fetchall() for c in r)
    for e in EMAILS:
        assert e not in dump and e.encode() not in raw and e.split("@")[0].encode() not in raw
    assert b"analyst" not in raw and b"conv-42" not in raw and "analyst" not in dump


def test_entries_expire_by_the_bundle_setting(vault_table):
    _, table = vault_table
    now = [1_000_000.0]
    settings = PiiSettings.model_validate(_settings(table, ttl=60))
    from govern.pii.vault_pg import PostgresVault

    def engine():
        return PiiEngine(settings, vault=PostgresVault(settings.vault, PG_DSN, SECRET, clock=lambda: now[0]))

    e1, e2 = engine(), engine()
    assert e1.mask("a@example.com", conversation="c").text == "<EMAIL_ADDRESS_1>"
    now[0] += 59
    assert e2.reveal("<EMAIL_ADDRESS_1>", "c", {"EMAIL_ADDRESS"}) == "a@example.com"  # any worker's use extends it
    now[0] += 59
    assert e1.mask("b@example.com a@example.com", conversation="c").text == "<EMAIL_ADDRESS_2> <EMAIL_ADDRESS_1>"
    now[0] += 61  # idle longer than ttl_seconds: forgotten everywhere, numbering restarts
    assert e2.reveal("<EMAIL_ADDRESS_1>", "c", {"EMAIL_ADDRESS"}) == "<EMAIL_ADDRESS_1>"
    assert e1.mask("b@example.com", conversation="c").text == "<EMAIL_ADDRESS_1>"
    assert e2.reveal("<EMAIL_ADDRESS_1>", "c", {"EMAIL_ADDRESS"}) == "b@example.com"
    assert e1.vault.conversations() == 1
    e1.vault.forget("c")
    assert e1.vault.conversations() == 0
    e1.vault.close()
    e2.vault.close()


def test_placeholders_are_numbered_in_the_vault_but_never_stored_or_revealed(vault_table):
    conn, table = vault_table
    settings = PiiSettings.model_validate({**_settings(table), "operators": {"default": {"operator": "placeholder"}}})
    from govern.pii.vault_pg import PostgresVault

    e = PiiEngine(settings, vault=PostgresVault(settings.vault, PG_DSN, SECRET))
    assert e.mask("a@example.com b@example.com", conversation="c").text == "<EMAIL_ADDRESS_1> <EMAIL_ADDRESS_2>"
    assert e.mask("b@example.com", conversation="c").text == "<EMAIL_ADDRESS_2>"
    assert e.reveal("<EMAIL_ADDRESS_2>", "c", {"EMAIL_ADDRESS"}) == "<EMAIL_ADDRESS_2>"
    assert conn.execute(f"SELECT count(*) FROM {table} WHERE sealed IS NOT NULL").fetchone()[0] == 0
    e.vault.close()


def test_a_tampered_row_fails_closed(vault_table):
    """A sealed value moved to another row does not decrypt (the row's scope and token are bound to it)."""
    conn, table = vault_table
    settings = PiiSettings.model_validate(_settings(table))
    from govern.pii.vault_pg import PostgresVault

    e = PiiEngine(settings, vault=PostgresVault(settings.vault, PG_DSN, SECRET))
    assert e.mask("a@example.com b@example.com", conversation="c").text == "<EMAIL_ADDRESS_1> <EMAIL_ADDRESS_2>"
    conn.execute(f"UPDATE {table} SET sealed = (SELECT sealed FROM {table} WHERE token = '<EMAIL_ADDRESS_1>') "
                 "WHERE token = '<EMAIL_ADDRESS_2>'")
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        e.reveal("<EMAIL_ADDRESS_2>", "c", {"EMAIL_ADDRESS"})
    e.vault.close()


def test_missing_configuration_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("GOVERN_VAULT_DSN", raising=False)
    monkeypatch.setenv("GOVERN_VAULT_KEY", SECRET)
    settings = PiiSettings.model_validate(_settings("govern_pii_vault"))
    with pytest.raises(PiiConfigError, match=r"\$GOVERN_VAULT_DSN is not set"):
        PiiEngine(settings)
    monkeypatch.setenv("GOVERN_VAULT_DSN", PG_DSN)
    monkeypatch.setenv("GOVERN_VAULT_KEY", "short")
    with pytest.raises(PiiConfigError, match="at least 32 bytes"):
        PiiEngine(settings)
