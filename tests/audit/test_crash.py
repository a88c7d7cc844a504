"""kill -9 of a writer: a torn last line is reported as such, and the chain goes on."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from govern.audit import AuditTrail
from govern.audit.verify import verify_file
from govern.cli.audit import main

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {root!r})
    from govern.audit import AuditTrail
    from govern.audit.sinks.file import FileSink
    path, n, tear = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "tear"
    t = AuditTrail.to_file(path)
    for i in range(n):
        t.record(action="check_sql", principal={{"id": "w", "roles": [], "tenant": None}}, decision="allow",
                 input_text="select %d" % i)
    if tear:  # the next record is written in two halves; we are killed in between
        orig = FileSink.write
        def half(self, data, record):
            os.write(self._fd, data[: len(data) // 2])
            print("HALF", flush=True)
            import time; time.sleep(60)
        FileSink.write = half
        t.record(action="check_sql", principal={{"id": "w"}}, decision="deny", input_text="torn")
    else:
        print("GO", flush=True)
        while True:
            t.record(action="check_sql", principal={{"id": "w"}}, decision="allow", input_text="loop")
    """
).format(root=str(ROOT))


def spawn(tmp_path, n, mode):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "trail.jsonl"), str(n), mode],
                            stdout=subprocess.PIPE, text=True)


def test_kill9_mid_write_leaves_torn_tail_that_verify_reports(tmp_path, capsys):
    p = tmp_path / "trail.jsonl"
    proc = spawn(tmp_path, 100, "tear")
    assert proc.stdout.readline().strip() == "HALF"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert not p.read_bytes().endswith(b"\n")

    rep = verify_file(p)
    assert rep.ok and rep.records == 100 and rep.torn_tail and rep.torn_tail["after_seq"] == 100
    assert main(["audit", "verify", "--trail", str(p)]) == 3
    assert "torn last line" in capsys.readouterr().out

    # the next writer sets the fragment aside and continues the chain from seq 100
    t = AuditTrail.to_file(p)
    assert t.head[0] == 100
    t.record(action="check_sql", principal={"id": "x"}, decision="allow")
    t.close()
    rep = verify_file(p)
    assert rep.ok and not rep.torn_tail and rep.records == 101 and len(rep.torn_fragments) == 1


def test_kill9_at_random_points_never_breaks_the_chain(tmp_path):
    p = tmp_path / "trail.jsonl"
    total = 0
    for round_ in range(3):
        proc = spawn(tmp_path, 10, "loop")
        assert proc.stdout.readline().strip() == "GO"
        time.sleep(0.15 + 0.1 * round_)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        rep = verify_file(p)
        assert rep.ok, rep.first_bad  # complete records verify; at most a torn tail
        assert rep.records > total
        total = rep.records
    assert total > 30
