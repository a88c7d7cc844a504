"""structlog processors that turn a decision into a chained audit line.

Each is a plain `(logger, method_name, event_dict) -> event_dict` callable, so
the pipeline is a list you can read, reorder or extend (configuration, not code
paths). They run while the sink holds its lock; `logger` is the sink, whose
`head` is the (seq, hash) of the last record written.

    add_time -> add_sequence -> hash_input -> normalize (= redact, fill_defaults, check) -> chain -> render
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import time
from typing import Any, Callable

from . import canonical
from .model import FIELDS, SCHEMA_VERSION

_FIELDS = frozenset(FIELDS)

EventDict = dict[str, Any]
Processor = Callable[[Any, str, EventDict], Any]

_HOST = socket.gethostname()


_sec_cache = [-1, ""]


def utc_now() -> str:
    """RFC 3339 UTC with microseconds; the date part is formatted once a second (4x cheaper)."""
    ns = time.time_ns()
    sec, us = divmod(ns // 1000, 1_000_000)
    if sec != _sec_cache[0]:
        _sec_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _sec_cache[0] = sec
    return "%s.%06dZ" % (_sec_cache[1], us)


def add_time(logger: Any, method: str, ev: EventDict) -> EventDict:
    """Wall-clock time, taken under the lock so time never goes back as seq goes up."""
    ev["time"] = utc_now()
    if "event_id" not in ev:
        ev["event_id"] = os.urandom(16).hex()  # 128 random bits; uuid4() costs 4x more
    ev["host"] = _HOST
    ev["pid"] = os.getpid()  # not cached: forked writers must report their own pid
    ev["schema_version"] = SCHEMA_VERSION
    return ev


def add_sequence(logger: Any, method: str, ev: EventDict) -> EventDict:
    ev["seq"] = logger.head[0] + 1
    return ev


def hash_input(logger: Any, method: str, ev: EventDict) -> EventDict:
    """SHA-256 of the raw input, computed before any redaction so it matches the caller's copy."""
    text = ev.get("input_text")
    if text is not None and not ev.get("input_sha256"):
        ev["input_sha256"] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return ev


# Values that could carry personal data never get into a record: these keys are dropped.
_DROP_KEYS = frozenset({"values", "raw", "rows_data", "passages", "documents_data", "findings", "attributes"})
_SQL_STRING = re.compile(r"'(?:[^']|'')*'")
# in `error` (driver messages quote the offending value: 'x' in DuckDB, "x" in PostgreSQL)
_ERR_QUOTED = re.compile(r"'(?:[^']|'')*'?|\"(?:[^\"]|\"\")*\"?")
_ERR_DIGITS = re.compile(r"\d(?:[ \-.]?\d){5,}")  # 6+ digits, maybe grouped: card, phone, id numbers
MAX_ERROR = 1024


def redact_error(text: str, max_error: int = MAX_ERROR) -> str:
    """Driver messages can quote the failing value (a ticket body, a card number): keep the message's
    shape, drop quoted strings and long digit runs, and cut it to `max_error` characters."""
    text = _ERR_QUOTED.sub(lambda m: '"?"' if m.group(0)[0] == '"' else "'?'", text[: max_error * 4])
    text = _ERR_DIGITS.sub("#", text)
    return text if len(text) <= max_error else text[: max_error - 1] + "\u2026"


def make_redact(*, sql_literals: bool = False, max_text: int = 65536, max_error: int = MAX_ERROR) -> Processor:
    """Build the redaction step.

    - principal keeps id/roles/tenant only (other attributes may be personal data);
    - pii keeps type -> count; a list of found values becomes its length;
    - unknown keys go to `extra` if scalar, are dropped if in _DROP_KEYS or not scalar;
    - sql_literals=True replaces quoted string literals in input_text/governed_sql
      with '?' (the input hash still identifies the original text);
    - `error` always loses quoted strings and runs of 6+ digits and is cut to
      `max_error` characters (driver messages quote the value that failed).
    """

    def redact(logger: Any, method: str, ev: EventDict) -> EventDict:
        p = ev.get("principal") or {}
        if not isinstance(p, dict):  # a pydantic Principal or similar
            p = p.model_dump() if hasattr(p, "model_dump") else dict(p)
        tenant = p.get("tenant")
        if tenant is None and isinstance(p.get("attributes"), dict):  # govern.principal.Principal keeps it there
            tenant = p["attributes"].get("tenant")
        ev["principal"] = {
            "id": str(p.get("id", "")),
            "roles": [str(r) for r in (p.get("roles") or ())],
            "tenant": None if tenant is None else str(tenant),
        }
        pii = ev.get("pii")
        if pii:
            clean = {}
            for k, v in dict(pii).items():
                if isinstance(v, bool) or not isinstance(v, int):
                    v = len(v) if isinstance(v, (list, tuple, set)) else 1
                clean[str(k)] = int(v)
            ev["pii"] = {k: clean[k] for k in sorted(clean)}  # canonical: nested keys sorted
        extra = dict(ev.get("extra") or {})
        for k in ev.keys() - _FIELDS:
            v = ev.pop(k)
            if k in _DROP_KEYS or k == "event":
                continue
            if v is None or isinstance(v, (str, int, float, bool)):
                extra[k] = v
        if extra:
            ev["extra"] = {
                k: extra[k] for k in sorted(extra)
                if k not in _DROP_KEYS and (extra[k] is None or isinstance(extra[k], (str, int, float, bool)))
            }
        for key in ("input_text", "governed_sql"):
            v = ev.get(key)
            if isinstance(v, str):
                if sql_literals:
                    ev[key] = v = _SQL_STRING.sub("'?'", v)
                if len(v) > max_text:
                    ev[key] = v[:max_text]
        err = ev.get("error")
        if err is not None:
            ev["error"] = redact_error(err if isinstance(err, str) else str(err), max_error)
        return ev

    return redact


redact = make_redact()

_NONE_DEFAULTS = ("duration_ms", "correlation_id", "input_text", "input_sha256", "bundle_hash",
                  "governed_sql", "rows", "documents", "error")
_LIST_DEFAULTS = ("tables", "columns", "columns_shown", "reasons", "policies")


def fill_defaults(logger: Any, method: str, ev: EventDict) -> EventDict:
    """Every key present in every record: one layout for reviewers and the schema."""
    for k in _NONE_DEFAULTS:
        if k not in ev:
            ev[k] = None
    for k in _LIST_DEFAULTS:
        v = ev.get(k)
        if v is None:
            ev[k] = []
        elif type(v) is not list:
            ev[k] = list(v)  # elements that are not str are encoded with str() (canonical.to_json fallback)
    if not ev.get("pii"):
        ev["pii"] = {}
    if not ev.get("extra"):
        ev["extra"] = {}
    return ev


_DECISIONS = frozenset({"allow", "deny", "rewrite", "mask", "drop"})


def check(logger: Any, method: str, ev: EventDict) -> EventDict:
    """Cheap structural checks (full pydantic validation per record would halve throughput)."""
    if ev.get("decision") not in _DECISIONS:
        raise ValueError(f"audit: decision must be one of {sorted(_DECISIONS)}, got {ev.get('decision')!r}")
    if not isinstance(ev.get("action"), str) or not ev["action"]:
        raise ValueError("audit: action must be a non-empty string")
    for k in ("rows", "documents"):
        if ev[k] is not None and (not isinstance(ev[k], int) or ev[k] < 0):
            raise ValueError(f"audit: {k} must be a non-negative int")
    d = ev["duration_ms"]
    if d is not None:
        # 3 decimals: keeps every float in the shortest-repr range both JSON encoders agree on
        d = round(float(d), 3)
        ev["duration_ms"] = d if d == d and 0 <= d < 1e15 else None
    return ev


def validate_model(logger: Any, method: str, ev: EventDict) -> EventDict:
    """Optional: full pydantic validation (insert before `chain` for strict mode)."""
    from .model import AuditRecord

    AuditRecord.model_validate({**ev, "hash": "0" * 64, "prev_hash": ev.get("prev_hash", "0" * 64)})
    return ev


_ADDED = ("seq", "time", "event_id", "host", "pid", "schema_version")  # set before `normalize` runs


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def make_normalize(*, sql_literals: bool = False, max_text: int = 65536, max_error: int = MAX_ERROR) -> Processor:
    """`redact` + `fill_defaults` + `check` in one pass (the writer's hot path), same result.

    Builds a new event dict whose keys are already in canonical order (`seq`, `prev_hash`,
    then the rest sorted: `canonical.BODY_KEYS`), so `chain` encodes it without re-sorting;
    `chain` and `add_sequence` only overwrite keys, which keeps that order. An event that
    lacks what add_time/add_sequence set (a custom pipeline) takes the three steps one by one.
    tests/audit/test_record.py checks that both paths give the same record.
    """
    slow_redact = make_redact(sql_literals=sql_literals, max_text=max_text, max_error=max_error)
    sub = _SQL_STRING.sub
    fields = _FIELDS
    drop = _DROP_KEYS

    def normalize(logger: Any, method: str, ev: EventDict) -> EventDict:
        try:  # _ADDED
            seq, event_id, host, pid, schema_version, time_ = (
                ev["seq"], ev["event_id"], ev["host"], ev["pid"], ev["schema_version"], ev["time"])
        except KeyError:
            return check(logger, method, fill_defaults(logger, method, slow_redact(logger, method, ev)))
        get = ev.get
        # -- redact
        p = get("principal") or {}
        if not isinstance(p, dict):  # a pydantic Principal or similar
            p = p.model_dump() if hasattr(p, "model_dump") else dict(p)
        tenant = p.get("tenant")
        if tenant is None and isinstance(p.get("attributes"), dict):  # govern.principal.Principal keeps it there
            tenant = p["attributes"].get("tenant")
        principal = {
            "id": str(p.get("id", "")),
            "roles": [str(r) for r in (p.get("roles") or ())],
            "tenant": None if tenant is None else str(tenant),
        }
        pii = get("pii")
        if pii:
            clean = {}
            for k, v in dict(pii).items():
                if isinstance(v, bool) or not isinstance(v, int):
                    v = len(v) if isinstance(v, (list, tuple, set)) else 1
                clean[str(k)] = int(v)
            pii = {k: clean[k] for k in sorted(clean)}
        else:
            pii = {}
        extra = get("extra")
        unknown = () if fields.issuperset(ev) else ev.keys() - fields  # (issuperset: 3x cheaper than `-`)
        if extra or unknown:
            extra = dict(extra or {})
            for k in unknown:
                if k in drop or k == "event":
                    continue
                v = ev[k]
                if _scalar(v):
                    extra[k] = v
            extra = {k: extra[k] for k in sorted(extra) if k not in drop and _scalar(extra[k])}
        else:
            extra = {}
        input_text = get("input_text")
        if isinstance(input_text, str):
            if sql_literals:
                input_text = sub("'?'", input_text)
            if len(input_text) > max_text:
                input_text = input_text[:max_text]
        governed_sql = get("governed_sql")
        if isinstance(governed_sql, str):
            if sql_literals:
                governed_sql = sub("'?'", governed_sql)
            if len(governed_sql) > max_text:
                governed_sql = governed_sql[:max_text]
        err = get("error")
        if err is not None:
            err = redact_error(err if isinstance(err, str) else str(err), max_error)
        # -- fill_defaults (lists; the None defaults are get()'s)
        v = get("tables")  # _LIST_DEFAULTS, unrolled
        tables = [] if v is None else v if type(v) is list else list(v)
        v = get("columns")
        columns = [] if v is None else v if type(v) is list else list(v)
        v = get("columns_shown")
        columns_shown = [] if v is None else v if type(v) is list else list(v)
        v = get("reasons")
        reasons = [] if v is None else v if type(v) is list else list(v)
        v = get("policies")
        policies = [] if v is None else v if type(v) is list else list(v)
        # -- check
        decision, action, rows, documents, d = get("decision"), get("action"), get("rows"), get("documents"), get("duration_ms")
        if decision not in _DECISIONS:
            raise ValueError(f"audit: decision must be one of {sorted(_DECISIONS)}, got {decision!r}")
        if not isinstance(action, str) or not action:
            raise ValueError("audit: action must be a non-empty string")
        if rows is not None and (not isinstance(rows, int) or rows < 0):
            raise ValueError("audit: rows must be a non-negative int")
        if documents is not None and (not isinstance(documents, int) or documents < 0):
            raise ValueError("audit: documents must be a non-negative int")
        if d is not None:
            d = round(float(d), 3)
            if not (d == d and 0 <= d < 1e15):
                d = None
        return {  # canonical.BODY_KEYS order
            "seq": seq,
            "prev_hash": get("prev_hash"),  # placeholder: `chain` sets it
            "action": action,
            "bundle_hash": get("bundle_hash"),
            "columns": columns,
            "columns_shown": columns_shown,
            "correlation_id": get("correlation_id"),
            "decision": decision,
            "documents": documents,
            "duration_ms": d,
            "error": err,
            "event_id": event_id,
            "extra": extra,
            "governed_sql": governed_sql,
            "host": host,
            "input_sha256": get("input_sha256"),
            "input_text": input_text,
            "pid": pid,
            "pii": pii,
            "policies": policies,
            "principal": principal,
            "reasons": reasons,
            "rows": rows,
            "schema_version": schema_version,
            "tables": tables,
            "time": time_,
        }

    return normalize


normalize = make_normalize()


_BODY_KEYS = canonical.BODY_KEYS
_sha256 = hashlib.sha256
_encode_ordered = canonical.encode_ordered


def chain(logger: Any, method: str, ev: EventDict) -> EventDict:
    """Link to the previous record and compute this record's hash; with a key (the sink's
    `record_signer`, see canonical.record_signer), also its MAC = HMAC-SHA256(key, hash),
    appended after `hash`."""
    ev.pop("mac", None)  # never the caller's
    ev["prev_hash"] = logger.head[1]
    # canonical.encode_record, its first case inlined: keys already in canonical order (normalize)
    body = _encode_ordered(ev) if tuple(ev) == _BODY_KEYS else canonical.encode_record(ev)
    h = _sha256(body).hexdigest()
    ev["hash"] = h
    sign = getattr(logger, "record_signer", None)
    if sign is None:
        ev["mac"] = None
        ev["__line__"] = b'%s,"hash":"%s"}\n' % (body[:-1], h.encode())  # canonical.seal(body, h)
    else:
        ev["mac"] = mac = sign(h)  # set after encoding: not part of the hashed bytes
        ev["__line__"] = canonical.seal(body, h, mac)
    return ev


def render(logger: Any, method: str, ev: EventDict) -> tuple:
    """Hand the sink (line, record): structlog passes it to `sink.write`."""
    line = ev.pop("__line__")
    return (line, ev), {}


DEFAULT_PROCESSORS: tuple[Processor, ...] = (
    add_time, add_sequence, hash_input, normalize, chain, render,
)
"""`normalize` is `redact`, `fill_defaults` and `check` fused; a pipeline may list those three instead."""
