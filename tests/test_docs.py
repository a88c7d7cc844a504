"""The docs run as written: every Python block and shell command in README.md, docs/*.md and audit/README.md.

Each document is run top to bottom, as a reader would follow it, in a fresh
directory that holds only a copy of the policy bundle (``policies/``). Nothing of
the test's own environment leaks in: no GOVERN_* variable, a HOME of its own,
and a PATH with ``govern`` and ``python`` (standing in for the installed
package) plus the system's tools. What a block needs, the text must say.

- ```python blocks run in one namespace per document (a later block uses what an
  earlier one defined), in one process; an exception fails the test, naming the
  document and the line.
- ```sh / ```bash blocks: every line is a command (``\\`` continues it); it must
  exit 0, or the code a trailing ``# exit N`` comment states. ``export`` lines
  carry over to later blocks. ```console blocks: lines starting with ``$ `` are
  commands, the rest is sample output (not compared).
- Every other block has a language tag saying what it is (yaml, sql, csv, text):
  an untagged block is an error, so a command cannot hide in one.
- A block preceded by ``<!-- not-run: reason -->`` is skipped; that must stay rare.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "audit" / "README.md"]
FENCE = re.compile(r"^(\s*)(`{3,})(\S*)\s*$")
NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(?P<reason>.*?)\s*-->\s*$")
SHELL = {"sh", "bash", "shell", "console"}
RUN = SHELL | {"python"}
MAX_NOT_RUN = 4  # across all documents: skipping a block is the exception


@dataclass
class Block:
    doc: Path
    line: int  # line of the opening fence
    lang: str
    text: str
    not_run: str | None


def blocks(doc: Path) -> list[Block]:
    out, lines, i = [], doc.read_text(encoding="utf-8").splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, ticks, lang = m.groups()
        j = i + 1
        while j < len(lines) and not (lines[j].strip() == ticks and lines[j].startswith(indent)):
            j += 1
        prev = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        skip = NOT_RUN.match(prev.strip())
        body = "\n".join(x[len(indent):] if x.startswith(indent) else x for x in lines[i + 1:j])
        out.append(Block(doc, i + 1, lang, body, skip.group("reason") if skip else None))
        i = j + 1
    return out


def commands(block: Block) -> list[tuple[int, str, int]]:
    """(line, command, expected exit code) of a shell block."""
    out, pending, start = [], "", 0
    for n, raw in enumerate(block.text.splitlines(), start=block.line + 1):
        line = raw.rstrip()
        if block.lang == "console":
            if not pending:
                if not line.startswith("$ "):
                    continue
                line = line[2:]
        elif not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not pending:
            start = n
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        cmd = pending + line
        pending = ""
        m = re.search(r"#\s*exit\s+(\d+)\b", cmd)
        out.append((start, cmd, int(m.group(1)) if m else 0))
    return out


RUNNER = r'''
import os, subprocess, sys, traceback
ENV_FILE = sys.argv[1]
ns = {"__name__": "__main__"}

def python(doc, line, source):
    print(f"--- {doc}:{line} python", flush=True)
    code = compile("\n" * line + source, doc, "exec")
    try:
        exec(code, ns)
    except BaseException:
        traceback.print_exc()
        print(f"DOC FAILED: {doc}:{line}: the python block raised", file=sys.stderr, flush=True)
        sys.exit(3)

def shell(doc, line, cmd, expect):
    print(f"--- {doc}:{line} $ {cmd}", flush=True)
    script = cmd + '\n__rc=$?\nenv -0 > "$__DOC_ENV"\nexit $__rc\n'
    done = subprocess.run(["bash", "-c", script], env={**os.environ, "__DOC_ENV": ENV_FILE}, capture_output=True, text=True)
    sys.stdout.write(done.stdout[-3000:])
    sys.stderr.write(done.stderr[-3000:])
    if done.returncode != expect or "Traceback (most recent call last)" in done.stderr:
        print(f"DOC FAILED: {doc}:{line}: `{cmd}` exited {done.returncode}, the text says {expect}", file=sys.stderr, flush=True)
        sys.exit(3)
    env = {}
    for item in open(ENV_FILE, encoding="utf-8").read().split("\0"):
        key, sep, value = item.partition("=")
        if sep and key not in ("__DOC_ENV", "_", "SHLVL", "PWD", "OLDPWD") and not key.startswith("BASH_FUNC_"):
            env[key] = value
    os.environ.clear()
    os.environ.update(env)
'''


def runner_script(doc: Path) -> str:
    name = doc.relative_to(ROOT).as_posix()
    steps = []
    for b in blocks(doc):
        if b.lang not in RUN or b.not_run:
            continue
        if b.lang == "python":
            steps.append(f"python({name!r}, {b.line}, {b.text!r})")
        else:
            steps += [f"shell({name!r}, {line}, {cmd!r}, {expect})" for line, cmd, expect in commands(b)]
    return RUNNER + "\n".join(steps) + "\n"


def fresh_directory(tmp: Path) -> dict[str, str]:
    """A directory with a copy of the bundle, and the environment a new user's shell would have."""
    shutil.copytree(ROOT / "policies", tmp / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    bin_dir = tmp / ".bin"
    bin_dir.mkdir()
    (bin_dir / "govern").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m govern.cli "$@"\n')
    (bin_dir / "govern").chmod(0o755)
    for name in ("python", "python3"):  # a script, not a symlink: a venv's python finds its packages by its own path
        (bin_dir / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        (bin_dir / name).chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp / ".home"), "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT)}  # the installed package, as `make` installs it


RUNNABLE = [d for d in DOCS if any(b.lang in RUN and not b.not_run for b in blocks(d))]


@pytest.mark.parametrize("doc", RUNNABLE, ids=[d.relative_to(ROOT).as_posix() for d in RUNNABLE])
def test_document_runs_as_written(doc, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    env = fresh_directory(work)
    (work / ".home").mkdir()
    script = tmp_path / "runner.py"
    script.write_text(runner_script(doc), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "env")], cwd=work, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout[-3000:] + "\n" + done.stderr[-5000:])


def test_every_block_says_what_it_is():
    untagged = [f"{b.doc.relative_to(ROOT)}:{b.line}" for d in DOCS for b in blocks(d) if not b.lang]
    assert not untagged, f"fenced blocks without a language tag (python, sh, console, yaml, sql, text, ...): {untagged}"


def test_skipped_blocks_are_rare_and_say_why():
    skipped = [b for d in DOCS for b in blocks(d) if b.not_run is not None]
    assert all(b.not_run for b in skipped), "a not-run comment needs a reason"
    assert len(skipped) <= MAX_NOT_RUN, [f"{b.doc.name}:{b.line}: {b.not_run}" for b in skipped]


def test_the_runner_sees_every_runnable_block():
    """The harness itself: the README's tour is found and its commands parsed (a harness that found nothing would pass)."""
    readme = blocks(ROOT / "README.md")
    assert sum(b.lang == "python" and not b.not_run for b in readme) >= 4
    shell = [c for b in readme if b.lang in SHELL and not b.not_run for c in commands(b)]
    assert any("govern check" in cmd and expect == 1 for _, cmd, expect in shell)
    assert any(cmd.startswith("export GOVERN_HASH_KEY") for _, cmd, _ in shell)


def test_a_failing_block_fails(tmp_path):
    doc = tmp_path / "bad.md"
    doc.write_text("```python\nx = 1\n```\n\n```sh\ngovern check --as nobody 'SELECT 1'\n```\n")
    script = RUNNER + f"python('bad.md', 1, 'x = 1')\n" + "".join(
        f"shell('bad.md', {line}, {cmd!r}, {expect})\n" for b in blocks(doc) if b.lang == "sh" for line, cmd, expect in commands(b))
    work = tmp_path / "w"
    work.mkdir()
    env = fresh_directory(work)
    (tmp_path / "r.py").write_text(script)
    done = subprocess.run([sys.executable, str(tmp_path / "r.py"), str(tmp_path / "env")], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 3 and "DOC FAILED: bad.md:6" in done.stderr
