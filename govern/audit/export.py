"""Export a trail for review: JSON Lines (verbatim), CSV, OCSF; with a manifest.

JSON Lines export copies the original lines byte for byte, so every exported
record can still be checked against its own hash. The manifest pins the
export to the trail: record range, the trail's chain head and verify status,
and the SHA-256 of the exported file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .ocsf import to_ocsf
from .processors import utc_now
from .verify import RawLine, VerifyReport

CSV_COLUMNS = (
    "seq", "event_id", "time", "duration_ms", "correlation_id", "action", "principal_id", "principal_roles",
    "principal_tenant", "decision", "reasons", "tables", "columns", "columns_shown", "policies", "bundle_hash",
    "input_sha256", "input_text", "governed_sql", "pii", "rows", "documents", "error", "prev_hash", "hash",
)


@dataclass
class Filters:
    since: str | None = None  # ISO time, inclusive
    until: str | None = None  # ISO time, exclusive
    principal: str | None = None
    decision: str | None = None
    action: str | None = None
    max_seq: int | None = None  # set by the CLI to the verified head: records appended meanwhile are left out

    def __post_init__(self) -> None:
        # records store "...Z" with microseconds; normalise bounds so string comparison is time order
        self.since = _norm_time(self.since)
        self.until = _norm_time(self.until)

    def match(self, r: dict) -> bool:
        return (
            (self.since is None or r["time"] >= self.since)
            and (self.until is None or r["time"] < self.until)
            and (self.principal is None or r["principal"]["id"] == self.principal)
            and (self.decision is None or r["decision"] == self.decision)
            and (self.action is None or r["action"] == self.action)
            and (self.max_seq is None or r["seq"] <= self.max_seq)
        )

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _norm_time(t: str | None) -> str | None:
    if not t:
        return None
    from datetime import datetime, timezone

    d = datetime.fromisoformat(t.replace("Z", "+00:00"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def records(lines: Iterable[RawLine]) -> Iterator[tuple[bytes, dict]]:
    """(raw line, parsed record) for every complete record; skips a torn tail."""
    for _w, _l, raw, nl in lines:
        if not nl:
            continue
        try:
            yield raw, json.loads(raw)
        except ValueError:
            continue


def _csv_safe(v: str) -> str:
    # a reviewer opens this in a spreadsheet: neutralise formula injection from LLM-written text
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def csv_row(r: dict) -> list:
    p = r["principal"]
    vals = {
        **r,
        "principal_id": p["id"],
        "principal_roles": ";".join(p.get("roles", [])),
        "principal_tenant": p.get("tenant"),
        "reasons": " | ".join(r.get("reasons", [])),
        "tables": ";".join(r.get("tables", [])),
        "columns": ";".join(r.get("columns", [])),
        "columns_shown": ";".join(r.get("columns_shown", [])),
        "policies": ";".join(r.get("policies", [])),
        "pii": ";".join(f"{k}:{v}" for k, v in (r.get("pii") or {}).items()),
    }
    return [_csv_safe(v) if isinstance(v, str) else ("" if v is None else v) for v in (vals.get(c) for c in CSV_COLUMNS)]


def _progress(total_bytes: int | None, enabled: bool):
    if not enabled:
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    prog = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                    console=None, transient=True)
    return prog, prog.add_task("exporting", total=total_bytes)


def export(
    lines: Iterable[RawLine],
    out: str | Path,
    *,
    fmt: str = "jsonl",
    filters: Filters | None = None,
    report: VerifyReport | None = None,
    total_bytes: int | None = None,
    progress: bool | None = None,
    source: str = "",
) -> dict:
    """Write the export and `<out>.manifest.json`; return the manifest."""
    if fmt not in ("jsonl", "csv", "ocsf"):
        raise ValueError(f"unknown format {fmt!r}: jsonl, csv or ocsf")
    flt = filters or Filters()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if progress is None:  # large trails on a terminal get a bar; pipes and CI stay quiet
        progress = sys.stderr.isatty() and (total_bytes or 0) > 8 * 1024 * 1024
    bar = _progress(total_bytes, progress)
    n, first, last = 0, None, None
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f) if fmt == "csv" else None
        if w:
            w.writerow(CSV_COLUMNS)
        ctx = bar[0] if bar else _Null()
        with ctx:
            for raw, r in records(lines):
                if bar:
                    bar[0].advance(bar[1], len(raw) + 1)
                if not flt.match(r):
                    continue
                if fmt == "jsonl":
                    f.write(raw.decode("utf-8") + "\n")
                elif fmt == "csv":
                    w.writerow(csv_row(r))
                else:
                    f.write(json.dumps(to_ocsf(r), separators=(",", ":"), ensure_ascii=False) + "\n")
                n += 1
                first = r["seq"] if first is None else first
                last = r["seq"]
    manifest = {
        "file": out.name,
        "format": fmt if fmt != "ocsf" else "ocsf-1.3.0-class-6005-jsonl",
        "sha256": sha256_file(out),
        "bytes": out.stat().st_size,
        "records": n,
        "first_seq": first,
        "last_seq": last,
        "filters": flt.as_dict(),
        "source": source,
        "generated_at": utc_now(),
    }
    if report is not None:
        manifest["trail"] = {"status": report.status, "ok": report.ok, "head_seq": report.head_seq,
                             "head_hash": report.head_hash, "records": report.records}
    Path(str(out) + ".manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False
