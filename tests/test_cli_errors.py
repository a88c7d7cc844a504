"""The CLI as a user who makes mistakes meets it: every user error is one line on stderr, exit 2, no traceback.

Each command runs in a subprocess (``python -m govern.cli``), from a directory
that is not the repository, as a user's shell would run it: the exit code and
stderr seen here are exactly what the user sees.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from govern.audit import AuditTrail
from tests.conftest import POLICIES, ROOT, TEST_HASH_KEY


def govern(*args, cwd, env=None, stdin=None):
    e = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "GOVERN_HASH_KEY": TEST_HASH_KEY,
         "HOME": str(cwd), **(env or {})}
    return subprocess.run([sys.executable, "-m", "govern.cli", *args], cwd=cwd, env=e, capture_output=True, text=True,
                          timeout=120, input=stdin)


def one_line_error(done, *needles):
    """Exit 2, exactly one line on stderr, no traceback, and the line names what is wrong."""
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture()
def trail(tmp_path):
    path = tmp_path / "trail.jsonl"
    t = AuditTrail.to_file(path)
    t.record(action="check_sql", principal={"id": "eve", "roles": ["sales_rep"]}, decision="deny", reasons=["no"])
    t.close()
    return path


CHECK = ["check", "--policies", str(POLICIES)]


def test_principal_file_not_yaml_names_file_and_line(tmp_path):
    who = tmp_path / "who.yaml"
    who.write_text("id: x\nroles: [sales_rep\nattributes: {}\n")
    line = one_line_error(govern(*CHECK, "--principal", str(who), "SELECT 1", "--audit", str(tmp_path / "a.jsonl"), cwd=tmp_path),
                          "who.yaml:")
    assert str(tmp_path) in line  # the path the user gave, so the file can be found


def test_principal_file_wrong_types_names_file_line_and_key(tmp_path):
    who = tmp_path / "who.yaml"
    who.write_text("id: x\nroles: 5\nattributes: {}\n")
    one_line_error(govern(*CHECK, "--principal", str(who), "SELECT 1", "--audit", str(tmp_path / "a.jsonl"), cwd=tmp_path),
                   "who.yaml:2", "roles")
    who.write_text("id: x\nroles: [a]\nattributes: {}\nbogus: 1\n")
    one_line_error(govern(*CHECK, "--principal", str(who), "SELECT 1", "--audit", str(tmp_path / "a.jsonl"), cwd=tmp_path),
                   "who.yaml:4", "bogus")
    who.write_text("- just a list\n")
    one_line_error(govern(*CHECK, "--principal", str(who), "SELECT 1", "--audit", str(tmp_path / "a.jsonl"), cwd=tmp_path),
                   "who.yaml:1")


def test_missing_principal_file(tmp_path):
    one_line_error(govern(*CHECK, "--principal", "nowhere.yaml", "SELECT 1", "--audit", str(tmp_path / "a.jsonl"), cwd=tmp_path),
                   "nowhere.yaml", "no such")


def test_missing_bundle_directory(tmp_path):
    one_line_error(govern("check", "--policies", "no-such-dir", "--as", "eve", "SELECT 1", cwd=tmp_path), "no-such-dir")
    one_line_error(govern("policy", "report", "no-such-dir", cwd=tmp_path), "no-such-dir")
    one_line_error(govern("explain", "--policies", "no-such-dir", "--as", "eve", "SELECT 1", cwd=tmp_path), "no-such-dir")


def test_missing_database_file(tmp_path):
    one_line_error(govern("catalog", "classify", "--db", "nowhere.duckdb", cwd=tmp_path), "nowhere.duckdb")


def test_unknown_principal(tmp_path):
    one_line_error(govern(*CHECK, "--as", "nobody", "SELECT 1", "--audit", str(tmp_path / "a.jsonl"), cwd=tmp_path),
                   "nobody", "principals.yaml")
    one_line_error(govern("explain", "--policies", str(POLICIES), "--as", "nobody", "SELECT 1", cwd=tmp_path), "nobody")


def test_unknown_dialect_lists_the_known_ones(tmp_path):
    one_line_error(govern(*CHECK, "--as", "eve", "--dialect", "postgresql9", "SELECT 1", "--audit", str(tmp_path / "a.jsonl"),
                          cwd=tmp_path), "postgresql9", "duckdb", "postgres")
    one_line_error(govern("explain", "--policies", str(POLICIES), "--as", "eve", "--dialect", "nope", "SELECT 1", cwd=tmp_path),
                   "nope")


def test_bad_attr(tmp_path):
    one_line_error(govern(*CHECK, "--as", "x", "--role", "sales_rep", "--attr", "region", "SELECT 1",
                          "--audit", str(tmp_path / "a.jsonl"), cwd=tmp_path), "--attr", "K=V")


@pytest.mark.parametrize("flag", ["--since", "--until"])
@pytest.mark.parametrize("command", ["export", "report"])
def test_bad_dates(tmp_path, trail, flag, command):
    one_line_error(govern("audit", command, "--trail", str(trail), "-o", str(tmp_path / "out"), flag, "last tuesday", cwd=tmp_path),
                   flag, "last tuesday", "ISO")


@pytest.mark.parametrize("command", ["export", "report"])
def test_unknown_action_lists_valid_ones(tmp_path, trail, command):
    line = one_line_error(govern("audit", command, "--trail", str(trail), "-o", str(tmp_path / "out"), "--action", "retrieval",
                                 cwd=tmp_path), "retrieval")
    for valid in ("retrieve", "check_sql", "execute", "policy_load"):
        assert valid in line


def test_unknown_decision(tmp_path, trail):
    one_line_error(govern("audit", "export", "--trail", str(trail), "-o", str(tmp_path / "o"), "--decision", "denied",
                          cwd=tmp_path), "denied", "deny")


def test_missing_trail(tmp_path):
    one_line_error(govern("audit", "verify", "--trail", "nowhere.jsonl", cwd=tmp_path), "nowhere.jsonl")
    one_line_error(govern("audit", "verify", "--trail", str(tmp_path), cwd=tmp_path), "directory")


def test_no_trail_given_is_an_error_not_a_guess(tmp_path):
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "trail.jsonl").write_text("")  # a trail relative to the cwd is never picked up silently
    one_line_error(govern("audit", "verify", cwd=tmp_path), "--trail", "GOVERN_AUDIT_PATH")


def test_bad_expect_head(tmp_path, trail):
    one_line_error(govern("audit", "verify", "--trail", str(trail), "--expect-head", "latest", cwd=tmp_path), "SEQ:HASH")


def test_usage_errors_are_one_line(tmp_path):
    one_line_error(govern("chek", cwd=tmp_path), "chek")
    one_line_error(govern("check", "--policies", str(POLICIES), cwd=tmp_path), "--help")
    one_line_error(govern("audit", "verify", "--bogus", cwd=tmp_path), "--bogus")


def test_bundle_that_does_not_load_is_one_line(tmp_path):
    import shutil

    bundle = tmp_path / "b"
    shutil.copytree(POLICIES, bundle)
    (bundle / "rules.yaml").write_text((bundle / "rules.yaml").read_text().replace("version: 1", "version: 1\nbogus: 2"))
    one_line_error(govern("check", "--policies", str(bundle), "--as", "eve", "SELECT 1", cwd=tmp_path), "rules.yaml:", "bogus")


def test_closed_pipe(tmp_path):
    """`govern policy report --format json | head -1`: the reader leaves early; no traceback, one line, exit 2.
    (The output is larger than a pipe's buffer, so the writer is still writing when the reader leaves.)"""
    e = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "GOVERN_HASH_KEY": TEST_HASH_KEY, "HOME": str(tmp_path)}
    p = subprocess.Popen([sys.executable, "-m", "govern.cli", "policy", "report", str(POLICIES), "--format", "json"],
                         cwd=tmp_path, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("{")
    p.stdout.close()
    err = p.stderr.read()
    code = p.wait(timeout=120)
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines() == ["govern: output closed before it was complete (broken pipe)"]


# ---------------------------------------------------------------- help, version, --format


def test_bare_govern_prints_help(tmp_path):
    done = govern(cwd=tmp_path)
    assert done.returncode == 0 and "usage: govern" in done.stdout and "check" in done.stdout and not done.stderr


def test_version(tmp_path):
    done = govern("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("govern ")


def test_help_loads_no_heavy_module(tmp_path):
    """--help answers without importing Presidio, spaCy, sqlglot, casbin, pydantic or a database driver."""
    code = ("import sys, io, contextlib\nfrom govern.cli import main\n"
            "for argv in (['--help'], ['check', '--help'], ['audit', 'export', '--help'], ['policy', 'report', '--help']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try: main(argv)\n"
            "        except SystemExit: pass\n"
            "print(' '.join(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": os.environ["PATH"]},
                          capture_output=True, text=True, timeout=60)
    loaded = {m.split(".")[0] for m in done.stdout.split()}
    assert done.returncode == 0, done.stderr
    heavy = {"presidio_analyzer", "presidio_anonymizer", "spacy", "sqlglot", "casbin", "duckdb", "psycopg", "rich", "structlog",
             "pydantic", "yaml"}
    assert not loaded & heavy, loaded & heavy


def _leaves(parser: argparse.ArgumentParser, path=()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def test_every_subcommand_has_format():
    from govern.cli import build_parser

    leaves = list(_leaves(build_parser()))
    assert len(leaves) >= 10
    for path, parser in leaves:
        flags = {opt for a in parser._actions for opt in a.option_strings}
        assert "--format" in flags, path
        choices = next(a.choices for a in parser._actions if "--format" in a.option_strings)
        artifact = path in (("audit", "export"), ("policy", "report"))  # their --format is the format of the file they write
        assert artifact or {"text", "json"} <= set(choices), (path, choices)


def test_format_json_is_json(tmp_path, trail):
    done = govern(*CHECK, "--as", "eve", "SELECT count(*) FROM customers", "--format", "json", "--audit", str(tmp_path / "a.jsonl"),
                  cwd=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["allowed"] is True
    done = govern("audit", "verify", "--trail", str(trail), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["ok"] is True
    done = govern("audit", "report", "--trail", str(trail), "-o", str(tmp_path / "r.html"), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["chain"] == "OK"
    done = govern("policy", "report", str(POLICIES), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["subjects"]
