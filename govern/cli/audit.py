"""`govern audit verify|export|report`.

`register(subparsers)` adds the group to the main `govern` parser; `main(argv)`
runs it standalone (`python -m govern.cli.audit verify ...`).

Exit codes: 0 ok; 1 the trail failed verification; 2 usage error;
3 verified but the last line is torn (a writer crashed mid-write);
4 (keyed verify) a record carries no MAC: written without the key, or forged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DEFAULT_TRAIL = "audit/trail.jsonl"


def _source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trail", default=DEFAULT_TRAIL, help="JSON-lines trail (rotated segments are found beside it)")
    p.add_argument("--postgres", metavar="CONNINFO", help="read the trail from PostgreSQL instead")
    p.add_argument("--table", default="govern_audit", help="PostgreSQL table (default govern_audit)")
    p.add_argument("--key-env", default="GOVERN_AUDIT_KEY", help="env var holding the HMAC key (record MACs and checkpoints)")


def register(subparsers) -> argparse.ArgumentParser:
    audit = subparsers.add_parser("audit", help="verify, export and report on the audit trail")
    sub = audit.add_subparsers(dest="audit_cmd", required=True)

    v = sub.add_parser("verify", help="check sequence, chain and checkpoints; name the first bad record")
    _source_args(v)
    v.add_argument("--expect-head", metavar="SEQ:HASH", help="head from an earlier manifest: detects truncation")
    v.add_argument("--json", action="store_true", help="machine-readable result")
    v.set_defaults(audit_func=cmd_verify)

    e = sub.add_parser("export", help="export records (jsonl | csv | ocsf) with a manifest")
    _source_args(e)
    e.add_argument("--format", choices=("jsonl", "csv", "ocsf"), default="jsonl")
    e.add_argument("--out", "-o", required=True)
    e.add_argument("--since", help="ISO time, inclusive")
    e.add_argument("--until", help="ISO time, exclusive")
    e.add_argument("--principal")
    e.add_argument("--decision", choices=("allow", "deny", "rewrite", "mask", "drop"))
    e.add_argument("--action")
    e.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on a terminal for trails over 8 MiB)")
    e.set_defaults(audit_func=cmd_export)

    r = sub.add_parser("report", help="self-contained HTML report for a security review")
    _source_args(r)
    r.add_argument("--out", "-o", default="audit/report.html")
    r.add_argument("--title", default="govern audit report")
    r.set_defaults(audit_func=cmd_report)
    return audit


def _key(args) -> bytes | None:
    v = os.environ.get(args.key_env) if args.key_env else None
    return v.encode() if v else None


def _lines(args):
    if args.postgres:
        from govern.audit.sinks.postgres import pg_lines

        return pg_lines(args.postgres, args.table), None
    from govern.audit.sinks.file import segments
    from govern.audit.verify import file_lines

    segs = segments(args.trail)
    if not segs:
        raise FileNotFoundError(f"no audit trail at {args.trail}")
    return file_lines(args.trail), sum(s.stat().st_size for s in segs)


def _verify(args, expect_head=None):
    from govern.audit.verify import verify_file, verify_postgres

    if args.postgres:
        return verify_postgres(args.postgres, args.table, key=_key(args), expect_head=expect_head)
    if not Path(args.trail).exists() and not list(Path(args.trail).parent.glob(Path(args.trail).name + ".*")):
        raise FileNotFoundError(f"no audit trail at {args.trail}")
    return verify_file(args.trail, key=_key(args), expect_head=expect_head)


def cmd_verify(args) -> int:
    head = None
    if args.expect_head:
        s, _, h = args.expect_head.partition(":")
        head = (int(s), h)
    rep = _verify(args, head)
    if args.json:
        print(json.dumps(rep.to_dict(), indent=2))
    else:
        src = args.postgres and f"postgres table {args.table}" or args.trail
        print(f"{src}: {rep.status}: {rep.records} records verified, head seq {rep.head_seq} {rep.head_hash}")
        print(f"  checkpoints: {rep.checkpoints} ({rep.signed_checkpoints} HMAC-verified)")
        if rep.keyed:
            if rep.ok:
                iv = f"every {rep.checkpoint_interval}" if rep.checkpoint_interval else "no periodic interval declared"
                print(f"  key given: {rep.signed_records} record MACs verified; checkpoints {iv}; "
                      f"{rep.after_last_checkpoint} records after the last checkpoint (cutting those is only "
                      "visible with --expect-head)")
        else:
            print(f"  no key ({args.key_env} unset): chain consistency only, NOT authenticity -- whoever can write "
                  "the trail can rewrite it and its checkpoints undetected"
                  + (f"; {rep.mac_records} records carry MACs left unchecked" if rep.mac_records else ""))
        if rep.first_bad:
            fb = rep.first_bad
            where = f" at {fb.where}:{fb.line}" if fb.where else ""
            print(f"  FIRST BAD RECORD{where}: [{fb.kind}] {fb.message}")
        if rep.torn_tail:
            t = rep.torn_tail
            print(f"  torn last line at {t['where']}:{t['line']} ({t['bytes']} bytes) after seq {t['after_seq']}: "
                  "a writer crashed mid-write; every complete record before it verifies")
        for frag in rep.torn_fragments:
            print(f"  note: torn fragment set aside by a writer on restart: {frag}")
    if not rep.ok:
        return 4 if rep.status == "UNSIGNED" else 1
    return 3 if rep.torn_tail else 0


def cmd_export(args) -> int:
    from govern.audit.export import Filters, export

    rep = _verify(args)
    lines, total = _lines(args)
    flt = Filters(since=args.since, until=args.until, principal=args.principal, decision=args.decision, action=args.action,
                  max_seq=rep.head_seq if rep.ok else None)
    m = export(lines, args.out, fmt=args.format, filters=flt, report=rep, total_bytes=total,
               progress=args.progress, source=args.postgres and f"postgres:{args.table}" or args.trail)
    print(f"exported {m['records']} records (seq {m['first_seq']}..{m['last_seq']}) to {args.out}; "
          f"manifest {args.out}.manifest.json; trail {rep.status}")
    return 0 if rep.ok else 1


def cmd_report(args) -> int:
    from govern.audit.export import records
    from govern.audit.report import render

    rep = _verify(args)
    lines, _ = _lines(args)
    html = render((r for _, r in records(lines)), rep, title=args.title,
                  source=args.postgres and f"postgres table {args.table}" or args.trail)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    print(f"wrote {out} (chain {rep.status})")
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch parsed `govern audit ...` arguments; returns the exit code."""
    try:
        return args.audit_func(args)
    except FileNotFoundError as e:
        print(f"govern audit: {e}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="govern")
    register(parser.add_subparsers(dest="cmd", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    argv = sys.argv[1:]
    sys.exit(main(argv if argv[:1] == ["audit"] else ["audit", *argv]))
