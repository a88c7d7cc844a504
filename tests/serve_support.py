"""Run `govern serve` for real: a subprocess on a free loopback port, talked to over HTTP.

Used by tests/test_serve.py and benchmarks/bench_serve.py. The bundle is a copy
of the demo bundle with ``rules.yaml`` limits changed as a test needs; tokens are
minted in-process with the same secret the server reads (``GOVERN_JWT_SECRET``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from govern.bundle import load_bundle
from govern.identity import mint_dev_token
from govern.principal import Principal

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
JWT_SECRET = "serve-tests-jwt-secret-0123456789abcdef"
HASH_KEY = "serve-tests-hash-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bundle_copy(target: Path, **limits) -> Path:
    """The demo bundle in ``target`` with ``limits`` set in rules.yaml."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("tests"))
    if limits:
        rules = target / "rules.yaml"
        data = yaml.safe_load(rules.read_text())
        data.setdefault("limits", {}).update(limits)
        rules.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return target


class Server:
    """`python -m govern.cli serve ...` in a subprocess; ``url``, ``token(...)``, ``stop()``."""

    def __init__(self, policies: Path, audit: Path, db: str | None = None, *, lazy: bool = False,
                 extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None, log: Path | None = None):
        self.policies, self.audit, self.port = Path(policies), Path(audit), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "GOVERN_JWT_SECRET": JWT_SECRET, "GOVERN_HASH_KEY": HASH_KEY,
                    "PYTHONPATH": str(ROOT), **(env or {})}
        self.env.pop("GOVERN_AUDIT_KEY", None)
        args = [sys.executable, "-m", "govern.cli", "serve", "--policies", str(policies), "--audit", str(audit),
                "--port", str(self.port), *(["--db", db] if db else []), *(["--lazy"] if lazy else []), *extra_args]
        self.log = log or self.audit.with_suffix(".log")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log, "wb")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT)
        self._bundle = load_bundle(policies)

    def wait_ready(self, timeout: float = 300) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"govern serve exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"govern serve did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def token(self, principal: Principal | str, expires_in: int = 3600) -> str:
        if isinstance(principal, str):
            principal = self._bundle.principals[principal]
        return mint_dev_token(self._bundle.identity, principal, expires_in=expires_in, environ={"GOVERN_JWT_SECRET": JWT_SECRET})

    def client(self, principal: Principal | str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(principal)}"} if principal is not None else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=kw.pop("timeout", 60), **kw)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> bool:
        """Signal the server and wait; True when it shut down gracefully (its lifespan shutdown ran:
        the audit trail closed). uvicorn re-raises the signal after a graceful shutdown."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()
        return self.proc.returncode in (0, -sig) and "govern serve: stopped" in self.log.read_text()

    def __enter__(self) -> Server:
        return self.wait_ready()

    def __exit__(self, *exc) -> None:
        self.stop()
