"""A trail whose file cannot be reopened refuses records; it never writes to a descriptor it closed.

Found by `govern serve`'s audit-unwritable test: the sink closed its descriptor, the reopen
failed, and the next record went to whatever the process had opened since under the same
number (an HTTP client's socket).
"""

from __future__ import annotations

import os

import pytest

from govern.audit import AuditTrail, verify_file

PRINCIPAL = {"id": "u", "roles": [], "tenant": None}


def test_failed_reopen_never_writes_to_a_reused_descriptor(tmp_path):
    path = tmp_path / "trail.jsonl"
    trail = AuditTrail.to_file(path)
    trail.record(action="check_sql", principal=PRINCIPAL, decision="allow")
    path.rename(tmp_path / "moved.jsonl")
    path.mkdir()  # the trail's path is now a directory
    with pytest.raises(OSError):
        trail.record(action="check_sql", principal=PRINCIPAL, decision="allow")
    bystanders = [os.open(tmp_path / f"other-{i}", os.O_WRONLY | os.O_CREAT, 0o644) for i in range(8)]
    try:
        with pytest.raises(OSError):
            trail.record(action="check_sql", principal=PRINCIPAL, decision="allow")
    finally:
        for fd in bystanders:
            os.close(fd)
    assert all((tmp_path / f"other-{i}").read_bytes() == b"" for i in range(8))
    path.rmdir()
    (tmp_path / "moved.jsonl").rename(path)
    trail.record(action="check_sql", principal=PRINCIPAL, decision="allow")  # writable again: the chain goes on
    assert verify_file(path).ok and len(path.read_text().splitlines()) == 2
