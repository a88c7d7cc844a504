"""`govern audit verify|export|report`.

`register(subparsers)` adds the group to the main `govern` parser; `main(argv)`
runs it standalone (`python -m govern.cli.audit verify ...`).

Exit codes: 0 ok; 1 the trail failed verification (verify, export, report); 2 usage error;
3 verified but the last line is torn (a writer crashed mid-write);
4 (keyed verify) a record carries no MAC: written without the key, or forged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from govern.cli.args import CliError, add_format, check_time

AUDIT_PATH_ENV = "GOVERN_AUDIT_PATH"
# the actions govern records (govern.audit.model.KNOWN_ACTIONS; kept here so --help imports nothing heavy)
ACTIONS = ("check_sql", "execute", "mask_text", "mask_texts", "mask_rows", "reveal", "retrieve", "entity_scope", "policy_load")
DECISIONS = ("allow", "deny", "rewrite", "mask", "drop")


def _source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trail", help="JSON-lines trail (rotated segments are found beside it); default $GOVERN_AUDIT_PATH, "
                                   "else the trail --policies names (settings.audit.trail)")
    p.add_argument("--policies", metavar="DIR", help="read the trail location from this bundle's settings.audit.trail")
    p.add_argument("--postgres", metavar="CONNINFO", help="read the trail from PostgreSQL instead")
    p.add_argument("--table", default="govern_audit", help="PostgreSQL table (default govern_audit)")
    p.add_argument("--key-env", default="GOVERN_AUDIT_KEY", help="env var holding the HMAC key (record MACs and checkpoints)")


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", help="ISO time, inclusive (2026-12-07 or 2026-12-07T10:00:00Z)")
    p.add_argument("--until", help="ISO time, exclusive")
    p.add_argument("--principal", help="only this principal id")
    p.add_argument("--decision", choices=DECISIONS)
    p.add_argument("--action", choices=ACTIONS)


def register(subparsers) -> argparse.ArgumentParser:
    audit = subparsers.add_parser("audit", help="verify, export and report on the audit trail",
                                  description="Exit 0 ok; 1 the trail failed verification; 2 a usage error; "
                                              "3 verified but the last line is torn; 4 (keyed) a record carries no MAC.")
    sub = audit.add_subparsers(dest="audit_cmd", required=True)

    v = sub.add_parser("verify", help="check sequence, chain and checkpoints; name the first bad record")
    _source_args(v)
    v.add_argument("--expect-head", metavar="SEQ:HASH", help="head from an earlier manifest: detects truncation")
    add_format(v)
    v.add_argument("--json", dest="format", action="store_const", const="json", help=argparse.SUPPRESS)  # older spelling
    v.set_defaults(audit_func=cmd_verify)

    e = sub.add_parser("export", help="export records (jsonl | csv | ocsf) with a manifest")
    _source_args(e)
    add_format(e, ("jsonl", "csv", "ocsf"), "jsonl", help="format of the exported file: jsonl | csv | ocsf (default jsonl)")
    e.add_argument("--out", "-o", required=True)
    _filter_args(e)
    e.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on a terminal for trails over 8 MiB)")
    e.set_defaults(audit_func=cmd_export)

    r = sub.add_parser("report", help="self-contained HTML report for a security review (exit 1 on a broken chain)")
    _source_args(r)
    r.add_argument("--out", "-o", default=None, help="HTML file to write (default: report.html beside the trail)")
    r.add_argument("--title", default="govern audit report")
    _filter_args(r)
    add_format(r)
    r.set_defaults(audit_func=cmd_report)
    return audit


def _trail(args) -> str:
    """The trail to read: --trail, $GOVERN_AUDIT_PATH, or the bundle's settings.audit.trail; never a guess."""
    if args.trail:
        return args.trail
    if os.environ.get(AUDIT_PATH_ENV):
        return os.environ[AUDIT_PATH_ENV]
    if args.policies:
        from govern.bundle import load_bundle
        from govern.governor import audit_location

        return str(audit_location(load_bundle(args.policies)))
    raise CliError(f"which trail? give --trail PATH, --policies DIR (its settings.audit.trail) or set ${AUDIT_PATH_ENV}")


def _filters(args, max_seq=None):
    from govern.audit.export import Filters

    return Filters(since=check_time(args.since, "--since"), until=check_time(args.until, "--until"),
                   principal=args.principal, decision=args.decision, action=args.action, max_seq=max_seq)


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
        raise CliError(f"no audit trail at {args.trail}")
    return file_lines(args.trail), sum(s.stat().st_size for s in segs)


def _verify(args, expect_head=None):
    from govern.audit.verify import verify_file, verify_postgres

    if args.postgres:
        return verify_postgres(args.postgres, args.table, key=_key(args), expect_head=expect_head)
    args.trail = _trail(args)
    if Path(args.trail).is_dir():
        raise CliError(f"{args.trail}: is a directory; --trail names the trail file (e.g. audit/trail.jsonl)")
    if not Path(args.trail).exists() and not list(Path(args.trail).parent.glob(Path(args.trail).name + ".*")):
        raise CliError(f"no audit trail at {args.trail}")
    return verify_file(args.trail, key=_key(args), expect_head=expect_head)


def cmd_verify(args) -> int:
    head = None
    if args.expect_head:
        s, _, h = args.expect_head.partition(":")
        if not s.isdigit() or len(h) != 64:
            raise CliError(f"--expect-head {args.expect_head!r}: expected SEQ:HASH (a number, a colon, 64 hex digits)")
        head = (int(s), h)
    rep = _verify(args, head)
    if args.format == "json":
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
    from govern.audit.export import export

    flt = _filters(args)  # checked before the trail is read
    rep = _verify(args)
    flt.max_seq = rep.head_seq if rep.ok else None
    lines, total = _lines(args)
    m = export(lines, args.out, fmt=args.format, filters=flt, report=rep, total_bytes=total,
               progress=args.progress, source=args.postgres and f"postgres:{args.table}" or args.trail)
    print(f"exported {m['records']} records (seq {m['first_seq']}..{m['last_seq']}) to {args.out}; "
          f"manifest {args.out}.manifest.json; trail {rep.status}")
    return 0 if rep.ok else 1


def cmd_report(args) -> int:
    """The HTML report of the records the filters select; exit 1 when the chain does not verify."""
    from govern.audit.export import records
    from govern.audit.report import render

    flt = _filters(args)
    rep = _verify(args)
    lines, _ = _lines(args)
    html = render((r for _, r in records(lines) if flt.match(r)), rep, title=args.title,
                  source=args.postgres and f"postgres table {args.table}" or args.trail, filters=flt.as_dict())
    if not args.out and args.postgres:
        raise CliError("--out FILE is needed with --postgres (there is no trail file to put the report beside)")
    out = Path(args.out) if args.out else Path(args.trail).parent / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    if args.format == "json":
        print(json.dumps({"report": str(out), "chain": rep.status, "ok": rep.ok, "filters": flt.as_dict()}))
    else:
        print(f"wrote {out} (chain {rep.status})")
    if not rep.ok:
        print(f"govern audit report: the trail does not verify ({rep.status}); the report shows where", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch parsed `govern audit ...` arguments; returns the exit code."""
    try:
        return args.audit_func(args)
    except (FileNotFoundError, CliError) as e:
        print(f"govern audit: {e}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    from govern.cli.args import Parser

    parser = Parser(prog="govern")
    register(parser.add_subparsers(dest="cmd", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    argv = sys.argv[1:]
    sys.exit(main(argv if argv[:1] == ["audit"] else ["audit", *argv]))
