"""The `govern` command line as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from govern.cli import main
from tests.conftest import POLICIES, ROOT, TEST_HASH_KEY


def run(args, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GOVERN_HASH_KEY", TEST_HASH_KEY)
    code = main([*args[:1], *args[1:], "--audit", str(tmp_path / "a.jsonl")] if args[0] in ("check", "demo") else args)
    return code, capsys.readouterr()


def test_check_allowed_prints_governed_sql(tmp_path, capsys, monkeypatch):
    code, out = run(["check", "--policies", str(POLICIES), "--as", "eve", "SELECT count(*) FROM customers"], tmp_path, capsys, monkeypatch)
    assert code == 0
    assert out.out.startswith("ALLOWED") and "customers-sales-rep-own-region" in out.out and "'EU'" in out.out


def test_check_denied_exits_1_with_reason(tmp_path, capsys, monkeypatch):
    code, out = run(["check", "--policies", str(POLICIES), "--as", "eve", "SELECT national_id FROM customers"], tmp_path, capsys, monkeypatch)
    assert code == 1
    assert "DENIED" in out.out and "customers.national_id" in out.out


def test_check_inline_principal_and_json(tmp_path, capsys, monkeypatch):
    code, out = run(["check", "--policies", str(POLICIES), "--as", "x", "--role", "sales_rep", "--attr", "region=NA",
                     "--attr", "tenant=globex", "--attr", "employee_id=3", "--dialect", "postgres", "--json",
                     "SELECT id FROM orders"], tmp_path, capsys, monkeypatch)
    decision = json.loads(out.out)
    assert code == 0 and decision["allowed"] and "'NA'" in decision["sql"]
    assert "params" not in decision


def test_check_principal_file(tmp_path, capsys, monkeypatch):
    who = tmp_path / "who.yaml"
    who.write_text("id: z\nroles: [support_agent]\nattributes: {region: NA}\n")
    code, out = run(["check", "--policies", str(POLICIES), "--principal", str(who), "SELECT id FROM support_tickets"], tmp_path, capsys, monkeypatch)
    assert code == 1 and "employee_id" in out.out  # the rule needs it: denied, naming it


def test_check_broken_bundle_exits_2(tmp_path, capsys, monkeypatch):
    import shutil

    bundle = tmp_path / "b"
    shutil.copytree(POLICIES, bundle)
    (bundle / "rules.yaml").write_text((bundle / "rules.yaml").read_text().replace("version: 1", "version: 1\nbogus: 2"))
    code, out = run(["check", "--policies", str(bundle), "--as", "eve", "SELECT 1"], tmp_path, capsys, monkeypatch)
    assert code == 2 and "rules.yaml:" in out.err and "bogus" in out.err


def test_demo_runs_as_a_new_user_would(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GOVERN_HASH_KEY"}
    env["GOVERN_AUDIT_PATH"] = str(tmp_path / "audit.jsonl")
    done = subprocess.run([sys.executable, "-m", "govern.cli", "demo", "--db", str(tmp_path / "demo.duckdb"), "--policies", str(POLICIES)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "building the demo database" in done.stdout
    assert "eve:" in done.stdout and "sam: DENIED" in done.stdout and "ada:" in done.stdout
    assert (tmp_path / "audit.jsonl").exists()


def test_help_lists_subcommands(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "check" in out and "demo" in out and "audit" in out


def test_check_unknown_named_principal(tmp_path, capsys, monkeypatch):
    code, out = run(["check", "--policies", str(POLICIES), "--as", "nobody", "SELECT 1"], tmp_path, capsys, monkeypatch)
    assert code == 2 and "nobody" in out.err
