"""Every script in examples/ runs to completion (they are documentation that must stay true)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    env = {**os.environ, "GOVERN_AUDIT_PATH": str(tmp_path / "audit.jsonl"), "PYTHONPATH": str(ROOT)}  # this checkout's govern
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip()


def test_quickstart_shows_different_views():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")], env=env, capture_output=True, text=True, timeout=300).stdout
    assert "eve: [" in out and "sam: denied" in out and "ada: [" in out
    assert "denied is not empty: False" in out and "national_id" in out
    assert "ann.lee@example.com" not in out and "4111 1111 1111 1111" not in out
