"""JSON-lines file sink: one chained record per line, rotation that keeps the chain.

Exclusion: a threading.Lock (flock is per open file description, so threads of
one process sharing a descriptor would not exclude each other) plus
fcntl.flock on a sidecar `<trail>.lock` (the trail itself is renamed on
rotation, the sidecar never is). Under the lock the sink re-reads the chain
head whenever the file changed size or identity since its own last write, so
several processes can append to one trail.

Durability: every record is one os.write() straight to the kernel (no
user-space buffer: "flush per record"); `fsync=True` also fsyncs each record.

Keys and checkpoints: with `checkpoint_key` every record carries a MAC (see
canonical.py) and every checkpoint is signed over (seq, hash, time, every),
`every` being the writer's checkpoint interval. A keyed writer appends an
anchor checkpoint when it opens the trail, then one whenever `every` records
have been written since the trail's last checkpoint (whoever wrote it), and
one on close: so with the key, `verify` can require that no two consecutive
checkpoints (nor the last one and the head) are more than `every` apart.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import logging
import os
import re
import threading
from datetime import datetime, timezone
from pathlib import Path

from .. import canonical
from ..model import GENESIS_HASH

log = logging.getLogger("govern.audit")

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class TrailCorrupt(RuntimeError):
    """The trail's last complete line is not a chained record: refuse to extend it."""


def segments(path: str | os.PathLike) -> list[Path]:
    """Rotated segments (`trail.jsonl.<first seq, 12 digits>`) in order, then the live file."""
    p = Path(path)
    pat = re.compile(re.escape(p.name) + r"\.(\d{12})$")
    rotated = sorted(
        (int(m.group(1)), q) for q in p.parent.glob(p.name + ".*") if (m := pat.match(q.name))
    )
    out = [q for _, q in rotated]
    if p.exists():
        out.append(p)
    return out


def checkpoint_path(path: str | os.PathLike) -> Path:
    return Path(str(path) + ".checkpoints")


def sign_checkpoint(key: bytes | None, seq: int, h: str, time: str, every: int | None = None) -> str | None:
    """HMAC-SHA256 over "seq:hash:time:every" (over "seq:hash:time" for checkpoints without `every`)."""
    if not key:
        return None
    msg = f"{seq}:{h}:{time}" if every is None else f"{seq}:{h}:{time}:{every}"
    return hmac.new(key, msg.encode(), "sha256").hexdigest()


def last_checkpoint_seq(path: str | os.PathLike) -> int:
    """seq of the last checkpoint line of a trail (0 if none or unreadable: checkpoint sooner, never later)."""
    p = checkpoint_path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        return 0
    if not size:
        return 0
    data = _read_tail(p, size, 4096).rstrip(b"\n")
    try:
        return int(json.loads(data[data.rfind(b"\n") + 1 :])["seq"])
    except (ValueError, KeyError, TypeError):
        return 0


def _read_tail(path: Path, size: int, want: int = 65536) -> bytes:
    with open(path, "rb") as f:
        while True:
            start = max(0, size - want)
            f.seek(start)
            data = f.read(size - start)
            # need the whole last complete line: its start must be in the window
            if start == 0 or data.count(b"\n") >= 2:
                return data
            want *= 4


def last_record(path: Path, size: int) -> tuple[int, str] | None:
    """(seq, hash) of the last complete line of a file, or None if empty."""
    if size == 0:
        return None
    data = _read_tail(path, size)
    body = data[: data.rfind(b"\n")] if not data.endswith(b"\n") else data[:-1]
    line = body[body.rfind(b"\n") + 1 :]
    if not line:
        return None
    try:
        seq, _prev, h, _ = canonical.split_line(line)
    except canonical.LineError as e:
        raise TrailCorrupt(f"{path}: last line is not a chained record ({e}); run `govern audit verify`") from e
    return seq, h


class FileSink:
    def __init__(
        self,
        path: str | os.PathLike = "audit/trail.jsonl",
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        fsync: bool = False,
        checkpoint_key: bytes | None = None,
        checkpoint_every: int = 1000,
    ) -> None:
        self.path = Path(path)
        self._spath = str(self.path)  # os.stat(str) skips Path.__fspath__ on every record
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.fsync = fsync
        self.checkpoint_key = checkpoint_key
        self.record_key = checkpoint_key or None
        self.record_signer = canonical.record_signer(checkpoint_key) if checkpoint_key else None  # used by `chain`
        self.checkpoint_every = checkpoint_every
        self.head: tuple[int, str] = (0, GENESIS_HASH)
        self._tlock = threading.Lock()
        self._pid = -1
        self._lockfd = -1
        self._fd = -1
        self._ino = -1
        self._size = -1
        self._ckpt_seq = 0
        with self.locked():  # read the tail now: the chain survives restarts
            if self.record_key:  # anchor: declares this writer's interval, and the checkpoints exist from the start
                self._checkpoint()

    # -- locking -------------------------------------------------------------
    def _open_fds(self) -> None:
        # after fork the inherited descriptors share the parent's lock: reopen
        self._pid = os.getpid()
        self._lockfd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        self._fd = -1

    def locked(self) -> "FileSink":
        """`with sink.locked():` -- a plain __enter__/__exit__ pair, cheaper than @contextmanager."""
        return self

    def __enter__(self) -> "FileSink":
        self._tlock.acquire()
        try:
            if self._pid != os.getpid():
                self._open_fds()
            fcntl.flock(self._lockfd, fcntl.LOCK_EX)
        except BaseException:
            self._tlock.release()
            raise
        try:
            try:  # _refresh(), its common case inlined: our file, size unchanged since our last write
                st = os.stat(self._spath)
            except FileNotFoundError:
                st = None
            if st is None or self._fd < 0 or st.st_ino != self._ino or st.st_size != self._size:
                self._refresh(st)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            fcntl.flock(self._lockfd, fcntl.LOCK_UN)
        finally:
            self._tlock.release()

    def _refresh(self, st: os.stat_result | None) -> None:
        if self._fd < 0 or st is None or st.st_ino != self._ino:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1  # if the reopen fails, never write to whatever reuses the closed number
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            st = os.fstat(self._fd)
            self._ino, self._size = st.st_ino, -1
        if st.st_size != self._size:  # someone else wrote (or we just opened): re-read the head
            self._load_head(st.st_size)

    def _load_head(self, size: int) -> None:
        if size:
            data = _read_tail(self.path, size)
            if not data.endswith(b"\n"):
                size = self._recover_torn(size, data)
        rec = last_record(self.path, size)
        if rec is None:  # empty live file: continue from the last rotated segment
            segs = [s for s in segments(self.path) if s != self.path]
            rec = last_record(segs[-1], segs[-1].stat().st_size) if segs else None
        self.head = rec or (0, GENESIS_HASH)
        self._size = size
        if self.checkpoint_every:  # another writer may have checkpointed meanwhile
            self._ckpt_seq = last_checkpoint_seq(self.path)

    def _recover_torn(self, size: int, data: bytes) -> int:
        """A crash left half a line: keep it aside for forensics, cut it, continue the chain."""
        cut = size - (len(data) - data.rfind(b"\n") - 1)
        frag = data[data.rfind(b"\n") + 1 :]
        side = Path(f"{self.path}.torn-{cut}")
        side.write_bytes(frag)
        os.truncate(self.path, cut)
        log.warning("audit trail %s: torn last line (%d bytes) moved to %s", self.path, len(frag), side)
        return cut

    # -- writing (caller holds locked()) -------------------------------------
    def write(self, data: bytes, record: dict) -> dict:
        n = os.write(self._fd, data)  # one write() per record; the loop only if the kernel took part of it
        if n < len(data):
            view = memoryview(data)[n:]
            while view:
                view = view[os.write(self._fd, view):]
        if self.fsync:
            os.fsync(self._fd)
        self._size += len(data)
        self.head = (record["seq"], record["hash"])
        if self.checkpoint_every and record["seq"] - self._ckpt_seq >= self.checkpoint_every:
            self._checkpoint()
        if self._size >= self.max_bytes:
            self._rotate()
        return record

    def _rotate(self) -> None:
        with open(self.path, "rb") as f:
            first = canonical.split_line(f.readline().rstrip(b"\n"))[0]
        os.rename(self.path, f"{self.path}.{first:012d}")
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._ino, self._size = os.fstat(self._fd).st_ino, 0

    def _checkpoint(self) -> None:
        seq, h = self.head
        t = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        every = self.checkpoint_every
        cp = {"seq": seq, "hash": h, "time": t, "every": every, "mac": sign_checkpoint(self.checkpoint_key, seq, h, t, every)}
        with open(checkpoint_path(self.path), "a", encoding="ascii") as f:
            f.write(json.dumps(cp, separators=(",", ":")) + "\n")
        self._ckpt_seq = seq

    def checkpoint(self) -> None:
        with self.locked():
            if self.head[0] and self.head[0] != self._ckpt_seq:
                self._checkpoint()

    def close(self) -> None:
        if self._pid != os.getpid():
            return
        self.checkpoint()
        with self._tlock:
            for fd in (self._fd, self._lockfd):
                if fd >= 0:
                    os.close(fd)
            self._fd = self._lockfd = -1
            self._pid = -1
