"""AuditTrail: the one object the rest of govern talks to.

    trail = AuditTrail.to_file("audit/trail.jsonl")
    rec = trail.record(action="check_sql", principal={...}, decision="rewrite", ...)

Writing goes through structlog: the sink is structlog's "logger", the
processors in `processors.DEFAULT_PROCESSORS` build the line, and
`record()` holds the sink's lock around the whole chain so sequence, time,
prev_hash and the write are one atomic step for every thread and process.
"""

from __future__ import annotations

import atexit
import os
import weakref
from pathlib import Path
from typing import Any, Iterable, Sequence

import structlog

from .model import AuditRecord, Principal
from .processors import DEFAULT_PROCESSORS, Processor, make_normalize, normalize
from .sinks import FileSink, NullSink

DEFAULT_PATH = Path("audit/trail.jsonl")
KEY_ENV = "GOVERN_AUDIT_KEY"


_new = object.__new__
_set = object.__setattr__


def _build(cls: type, data: dict) -> Any:
    # Like model_construct without its per-field default handling (6 us -> <1 us):
    # the processors already produced every field, checked by `check`.
    m = _new(cls)
    _set(m, "__dict__", data)
    _set(m, "__pydantic_fields_set__", set(data))
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", None)
    return m


def _as_model(rec: dict) -> AuditRecord:
    # `rec` is the event dict the pipeline built for this one record (sinks return it, keep no
    # reference): it becomes the model's __dict__ as is, no copies
    p = rec["principal"]
    if type(p) is dict:  # _build(Principal, p), inlined
        m = _new(Principal)
        _set(m, "__dict__", p)
        _set(m, "__pydantic_fields_set__", set(p))
        _set(m, "__pydantic_extra__", None)
        _set(m, "__pydantic_private__", None)
        rec["principal"] = m
    m = _new(AuditRecord)
    _set(m, "__dict__", rec)
    _set(m, "__pydantic_fields_set__", set(rec))
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", None)
    return m


class _AuditLogger(structlog.BoundLoggerBase):
    def emit(self, fields: dict) -> Any:
        # _process_event is structlog's documented hook for custom wrappers; calling it
        # directly skips one **kwargs round trip of _proxy_to_logger per record
        args, kw = self._process_event("write", None, fields)
        return self._logger.write(*args, **kw)


def key_from_env(env: str = KEY_ENV) -> bytes | None:
    v = os.environ.get(env)
    return v.encode() if v else None


def processors_for(*, redact_sql_literals: bool = False) -> list[Processor]:
    procs = list(DEFAULT_PROCESSORS)
    if redact_sql_literals:
        procs[procs.index(normalize)] = make_normalize(sql_literals=True)
    return procs


class AuditTrail:
    def __init__(self, sink: Any, processors: Sequence[Processor] | None = None) -> None:
        self.sink = sink
        self.processors = list(processors or DEFAULT_PROCESSORS)
        # .bind() resolves structlog's lazy proxy once instead of on every call
        self._log = structlog.wrap_logger(sink, processors=self.processors, wrapper_class=_AuditLogger).bind()
        self._closed = False
        if hasattr(sink, "checkpoint"):  # a trail left open is closed with a checkpoint when the program exits normally
            atexit.register(_close_at_exit, weakref.ref(self))

    # -- constructors ---------------------------------------------------------
    @classmethod
    def to_file(
        cls,
        path: str | os.PathLike = DEFAULT_PATH,
        *,
        max_bytes: int | None = None,
        fsync: bool = False,
        checkpoint_key: bytes | None = None,
        checkpoint_every: int = 1000,
        redact_sql_literals: bool = False,
        processors: Sequence[Processor] | None = None,
    ) -> "AuditTrail":
        kw = {} if max_bytes is None else {"max_bytes": max_bytes}
        sink = FileSink(
            path,
            fsync=fsync,
            checkpoint_key=checkpoint_key if checkpoint_key is not None else key_from_env(),
            checkpoint_every=checkpoint_every,
            **kw,
        )
        return cls(sink, processors or processors_for(redact_sql_literals=redact_sql_literals))

    @classmethod
    def to_postgres(
        cls,
        conninfo: str,
        *,
        table: str = "govern_audit",
        checkpoint_key: bytes | None = None,
        checkpoint_every: int = 1000,
        synchronous_commit: bool = True,
        redact_sql_literals: bool = False,
        processors: Sequence[Processor] | None = None,
    ) -> "AuditTrail":
        from .sinks.postgres import PostgresSink

        sink = PostgresSink(
            conninfo,
            table=table,
            checkpoint_key=checkpoint_key if checkpoint_key is not None else key_from_env(),
            checkpoint_every=checkpoint_every,
            synchronous_commit=synchronous_commit,
        )
        return cls(sink, processors or processors_for(redact_sql_literals=redact_sql_literals))

    @classmethod
    def null(cls) -> "AuditTrail":
        return cls(NullSink())

    # -- writing --------------------------------------------------------------
    def record(
        self,
        *,
        action: str,
        principal: Any,
        decision: str,
        reasons: Iterable[str] = (),
        **fields: Any,
    ) -> AuditRecord:
        """Append one decision; returns the record as written (hash included)."""
        fields["action"] = action
        fields["principal"] = principal
        fields["decision"] = decision
        fields["reasons"] = [str(r) for r in reasons]
        with self.sink.locked():
            rec = self._log.emit(fields)  # sink.write returns the record dict
        return _as_model(rec)

    @property
    def keeps_records(self) -> bool:
        """False when the sink keeps nothing of a record (``NullSink``): a caller may then skip
        building the record's fields and take an event id from ``skip``. A sink says so with a
        ``keeps_records = False`` attribute; any other sink keeps what it is given."""
        return getattr(self.sink, "keeps_records", True)

    def skip(self) -> str:
        """The event id of a decision this trail's sink would discard (``keeps_records`` False):
        nothing is built or chained for it."""
        return os.urandom(16).hex()

    @property
    def head(self) -> tuple[int, str]:
        return self.sink.head

    def checkpoint(self) -> None:
        if hasattr(self.sink, "checkpoint"):
            self.sink.checkpoint()

    def close(self) -> None:
        """Write a checkpoint at the head (file and PostgreSQL sinks) and release the sink."""
        if self._closed:
            return
        self._closed = True
        self.sink.close()

    def __enter__(self) -> "AuditTrail":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _close_at_exit(ref: "weakref.ReferenceType[AuditTrail]") -> None:
    trail = ref()
    if trail is not None and not trail._closed:
        try:
            trail.close()
        except Exception:  # noqa: BLE001 - at exit there is no one left to tell but the log
            import logging

            logging.getLogger("govern.audit").warning("audit trail could not be closed with a checkpoint at exit", exc_info=True)
