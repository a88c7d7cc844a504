"""Verify a trail: sequence, chain, checkpoints; name the first bad record.

Works on any source of raw lines (rotated files, the PostgreSQL table), so
the file and database trails are checked by the same code. The fast path does
not parse JSON: `seq` and `prev_hash` sit at fixed offsets (see canonical.py)
and the hash is over the line's own bytes.

With the key (`key=`), verification is *authenticated*: every checkpoint's
HMAC is checked first, then every record must carry a MAC that matches
(`unsigned` / `forged` otherwise), the checkpoints must exist when the trail
has records (`checkpoint_missing`), and no two consecutive checkpoints (nor
the last one and the head) may be further apart than the interval the
writers declared in their signed checkpoints (`checkpoint_missing`).
Without the key only the chain's internal consistency is checked: anyone
who can write the files can rewrite it (and its checkpoints) undetected.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from . import canonical
from .model import GENESIS_HASH
from .sinks.file import checkpoint_path, segments, sign_checkpoint

# (where, line number within `where`, raw line without "\n", ended_with_newline)
RawLine = tuple[str, int, bytes, bool]


@dataclass
class Problem:
    # edited | deleted | reordered | inserted | corrupt | truncated | rewritten | checkpoint_forged | missing_start
    # with the key also: unsigned | forged | checkpoint_missing
    kind: str
    message: str
    seq: int | None = None
    where: str | None = None
    line: int | None = None


@dataclass
class VerifyReport:
    ok: bool = True
    records: int = 0  # complete records that verified, in order from seq 1
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    first_bad: Problem | None = None
    torn_tail: dict | None = None  # a crash left half a line at the very end
    torn_fragments: list[str] = field(default_factory=list)  # fragments a writer set aside on recovery
    checkpoints: int = 0
    signed_checkpoints: int = 0
    keyed: bool = False  # verified with the key: records and checkpoints authenticated
    mac_records: int = 0  # records carrying a MAC (checked only when keyed)
    signed_records: int = 0  # records whose MAC matched the key
    checkpoint_interval: int | None = None  # largest interval declared by the writers (keyed verify)
    after_last_checkpoint: int = 0  # records after the last checkpoint: cutting them is not detectable
    sources: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.ok:
            if self.first_bad and self.first_bad.kind == "corrupt":
                return "CORRUPT"
            return "UNSIGNED" if self.first_bad and self.first_bad.kind == "unsigned" else "TAMPERED"
        return "OK (torn tail)" if self.torn_tail else "OK"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status"] = self.status
        return d


def snapshot(path: str | Path) -> tuple[list[tuple[str, BinaryIO, int]], list[dict]]:
    """Open every segment and note its size under the writers' lock, held only for that moment.

    Writers append whole lines under that lock, so the sizes fall on line
    boundaries: a write in flight is never mistaken for a torn tail, and a
    rotation during a long verify cannot make a file appear twice or vanish.
    """
    lock = Path(str(path) + ".lock")
    fd = os.open(lock, os.O_RDONLY) if lock.exists() else -1
    if fd >= 0:
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        files = []
        for seg in segments(path):
            f = open(seg, "rb")
            files.append((str(seg), f, os.fstat(f.fileno()).st_size))
        cps = read_checkpoints(path)
    finally:
        if fd >= 0:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
    return files, cps


def file_lines(path: str | Path, files: list[tuple[str, BinaryIO, int]] | None = None) -> Iterator[RawLine]:
    if files is None:
        files = snapshot(path)[0]
    for name, f, size in files:
        with f:
            left = size
            for i, raw in enumerate(f, 1):
                if left <= 0:
                    break
                if len(raw) > left:  # appended after the snapshot
                    raw = raw[:left]
                left -= len(raw)
                nl = raw.endswith(b"\n")
                yield name, i, raw[:-1] if nl else raw, nl


def read_checkpoints(path: str | Path) -> list[dict]:
    p = checkpoint_path(path)
    if not p.exists():
        return []
    out = []
    for ln in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(ln))
        except ValueError:
            out.append({"corrupt": ln})
    return out


def verify_lines(
    lines: Iterable[RawLine],
    checkpoints: list[dict] = (),
    *,
    key: bytes | None = None,
    expect_head: tuple[int, str] | None = None,
) -> VerifyReport:
    rep = VerifyReport(keyed=bool(key))
    checkpoints = list(checkpoints)
    if key:  # authenticate the anchors first: nothing below may rely on a forged checkpoint
        rep.first_bad = _check_checkpoint_macs(checkpoints, key)
        if rep.first_bad:
            rep.checkpoints = len(checkpoints)
            rep.ok = False
            return rep
    want_seq, want_prev = 1, GENESIS_HASH
    cp_seqs = {c.get("seq") for c in checkpoints}
    seen_hash: dict[int, str] = {}
    it = iter(lines)
    sha = canonical.hashlib.sha256
    split = canonical.split_signed
    sign = canonical.record_signer(key) if key else None
    same = canonical.hmac.compare_digest
    macs = signed = 0
    for where, ln, raw, nl in it:
        if where not in rep.sources:
            rep.sources.append(where)
        if not nl:  # no newline: only legitimate as the very last thing a crashed writer wrote
            if next(it, None) is None:
                rep.torn_tail = {"where": where, "line": ln, "bytes": len(raw), "after_seq": want_seq - 1}
                break
            rep.first_bad = Problem("corrupt", "line without newline in the middle of the trail", None, where, ln)
            break
        try:
            seq, prev, h, body, mac = split(raw)
        except canonical.LineError as e:
            rep.first_bad = Problem("corrupt", f"not a chained record: {e}", want_seq, where, ln)
            break
        if sha(body).hexdigest() != h:
            rep.first_bad = Problem("edited", f"record seq {seq}: content does not match its hash", seq, where, ln)
            break
        if seq != want_seq:
            rep.first_bad = _classify_seq(seq, want_seq, where, ln, it)
            break
        if prev != want_prev:
            kind = "missing_start" if seq == 1 else "inserted"
            msg = f"record seq {seq}: prev_hash does not match record {seq - 1} (forged or inserted record)"
            rep.first_bad = Problem(kind, msg, seq, where, ln)
            break
        if mac is not None:
            macs += 1
        if key:
            if mac is None:
                msg = f"record seq {seq} carries no MAC: written without the key, or forged"
                rep.first_bad = Problem("unsigned", msg, seq, where, ln)
                break
            if not same(sign(h), mac):
                msg = f"record seq {seq}: MAC does not match the key (forged or rewritten record)"
                rep.first_bad = Problem("forged", msg, seq, where, ln)
                break
            signed += 1
        if seq in cp_seqs:
            seen_hash[seq] = h
        want_seq, want_prev = seq + 1, h
        rep.records += 1
    rep.mac_records, rep.signed_records = macs, signed
    rep.head_seq, rep.head_hash = want_seq - 1, want_prev
    if rep.first_bad is None:
        _check_checkpoints(rep, checkpoints, seen_hash, key)
    if rep.first_bad is None and key:
        _check_coverage(rep, checkpoints)
    if rep.first_bad is None and expect_head is not None:
        s, hh = expect_head
        if rep.head_seq < s:
            rep.first_bad = Problem("truncated", f"expected head seq {s}, trail ends at {rep.head_seq}", rep.head_seq + 1)
        elif rep.head_seq == s and rep.head_hash != hh:
            rep.first_bad = Problem("rewritten", f"head seq {s} hash differs from the expected head", s)
    rep.ok = rep.first_bad is None
    return rep


def _classify_seq(seq: int, want: int, where: str, ln: int, rest: Iterator[RawLine]) -> Problem:
    if seq < want:
        return Problem("reordered", f"record seq {seq} appears after seq {want - 1} (reordered or duplicated)", seq, where, ln)
    # seq jumped ahead: if the missing one shows up later the lines were reordered, else deleted
    for _w, _l, raw, _nl in rest:
        try:
            if canonical.split_line(raw)[0] == want:
                return Problem("reordered", f"expected seq {want}, found {seq}: records out of order", seq, where, ln)
        except canonical.LineError:
            continue
    return Problem("deleted", f"expected seq {want}, found {seq}: records {want}..{seq - 1} missing", want, where, ln)


def _check_checkpoint_macs(cps: list[dict], key: bytes) -> Problem | None:
    for c in cps:
        if "corrupt" in c:
            return Problem("checkpoint_forged", "unreadable checkpoint line")
        seq, h, mac, every = c.get("seq"), c.get("hash"), c.get("mac"), c.get("every")
        if not isinstance(seq, int) or seq < 0 or (every is not None and (not isinstance(every, int) or every < 0)):
            return Problem("checkpoint_forged", f"malformed checkpoint {c!r}")
        good = sign_checkpoint(key, seq, str(h), str(c.get("time", "")), every)
        if not isinstance(mac, str) or not hmac.compare_digest(mac, good):
            return Problem("checkpoint_forged", f"checkpoint at seq {seq}: bad or missing HMAC", seq)
    return None


def _check_checkpoints(rep: VerifyReport, cps: list[dict], seen: dict[int, str], key: bytes | None) -> None:
    for c in cps:
        rep.checkpoints += 1
        if "corrupt" in c:
            rep.first_bad = Problem("checkpoint_forged", "unreadable checkpoint line")
            return
        seq, h = c.get("seq"), c.get("hash")
        if not isinstance(seq, int):
            rep.first_bad = Problem("checkpoint_forged", f"malformed checkpoint {c!r}")
            return
        if key:
            rep.signed_checkpoints += 1  # HMACs were checked before the records
        if seq == 0:  # anchor written when a keyed writer opened an empty trail
            if h != GENESIS_HASH:
                rep.first_bad = Problem("rewritten", "checkpoint at seq 0 does not name the genesis hash", 0)
                return
            continue
        if seq > rep.head_seq:
            rep.first_bad = Problem(
                "truncated", f"checkpoint at seq {seq} but the trail ends at seq {rep.head_seq}", rep.head_seq + 1
            )
            return
        if seen.get(seq) != h:
            rep.first_bad = Problem("rewritten", f"record seq {seq} differs from its checkpoint (chain rewritten)", seq)
            return


def _check_coverage(rep: VerifyReport, cps: list[dict]) -> None:
    """Keyed only: the checkpoints exist, and no gap between them (or after the last) exceeds the interval.

    Keyed writers checkpoint when they open the trail, whenever `every` records have been written since
    the last checkpoint, and on close; each signed checkpoint declares its writer's `every`. The bound is
    the largest declared interval (a writer with interval 0 -- checkpoints only on open and close --
    switches the bound off). A trail whose checkpoints were all written before intervals were declared
    gets no bound.
    """
    seqs = sorted({c["seq"] for c in cps})
    if rep.head_seq and not seqs:
        rep.first_bad = Problem(
            "checkpoint_missing",
            f"the trail has {rep.head_seq} records but no checkpoints: a keyed writer always writes them "
            "(checkpoints file deleted, or the trail was not written with this key)", 1)
        return
    last = seqs[-1] if seqs else 0
    rep.after_last_checkpoint = rep.head_seq - last
    declared = [c["every"] for c in cps if c.get("every") is not None]
    if not declared or min(declared) == 0:
        return
    bound = rep.checkpoint_interval = max(declared)
    prev = 0
    for s in seqs + [rep.head_seq]:
        if s - prev > bound:
            rep.first_bad = Problem(
                "checkpoint_missing",
                f"no checkpoint between seq {prev} and seq {s}, but the writers checkpoint at least every "
                f"{bound} records (checkpoints deleted)", prev + bound)
            return
        prev = s


def verify_file(path: str | Path, *, key: bytes | None = None, expect_head: tuple[int, str] | None = None) -> VerifyReport:
    files, cps = snapshot(path)
    rep = verify_lines(file_lines(path, files), cps, key=key, expect_head=expect_head)
    p = Path(path)
    rep.torn_fragments = sorted(str(q) for q in p.parent.glob(p.name + ".torn-*"))
    return rep


def verify_postgres(conninfo: str, table: str = "govern_audit", *, key: bytes | None = None,
                    expect_head: tuple[int, str] | None = None) -> VerifyReport:
    from .sinks.postgres import pg_checkpoints, pg_lines

    return verify_lines(pg_lines(conninfo, table), pg_checkpoints(conninfo, table), key=key, expect_head=expect_head)
