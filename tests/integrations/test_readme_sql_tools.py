"""The README's code in "Where the LLM writes SQL" runs as written (from the repository root)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def section_blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Where the LLM writes SQL")
    end = text.index("\n## ", start + 1)
    return re.findall(rf"```{language}\n(.*?)```", text[start:end], flags=re.S)


def test_readme_python_block_runs(tmp_path):
    (block,) = section_blocks("python")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", block], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "query denied by governance policy" in done.stdout and "national_id" in done.stdout
    assert "***" in done.stdout  # masked emails


def test_readme_mcp_client_configuration_is_valid_json():
    import json

    (config,) = section_blocks("json")
    server = json.loads(config)["mcpServers"]["governed-db"]
    assert server["args"][0] == "mcp" and "GOVERN_MCP_TOKEN" in server["env"]
