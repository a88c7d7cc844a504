"""The public entry point: one loaded bundle, one audit trail, many requests."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from threading import Lock
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govern.audit import AuditTrail
from govern.bundle import Bundle, Catalog, load_bundle
from govern.bundle.attributes import validate_principal
from govern.connections import cursor_for, database_message, dialect_of
from govern.errors import Denied, InvalidPrincipal, PolicyLoadError, QueryDenied, QueryFailed
from govern.principal import Principal
from govern.sql.cost import CostExceeded, check_cost
from govern.sql.decision import SqlContext, SqlDecision
from govern.sql.masks import POSITIONAL_PARAMETER_DIALECTS
from govern.sql.pipeline import govern_sql

if TYPE_CHECKING:  # the engine loads Presidio and spaCy: imported in pii_engine, on first use
    from govern.pii import MaskedText, PiiEngine

log = logging.getLogger("govern")

AUDIT_PATH_ENV = "GOVERN_AUDIT_PATH"
GOVERN_PRINCIPAL = {"id": "govern", "roles": [], "tenant": None}
UNCLASSIFIED_NOTE = ("the catalog is not classified (introspected, no column has a PII type): every string value in "
                     "the results is scanned for PII until it is (govern catalog classify)")


@dataclass(frozen=True)
class QueryResult:
    """Rows of a governed query, with the decision that produced them.

    ``pii`` counts the PII found (and masked, unless revealed) in free-text
    values of the result; ``needs_review`` is set when a finding scored below
    its threshold (masked anyway) so an application can hand the rows to a person.
    """

    columns: list[str]
    rows: list[tuple]
    decision: SqlDecision
    pii: dict[str, int] = field(default_factory=dict)
    needs_review: bool = False


class Governor:
    """Governs SQL (and, with the PII engine, passages) for principals under one bundle."""

    def __init__(self, bundle: Bundle, *, audit: AuditTrail | None = None, hash_key: str | None = None):
        self._explicit_hash_key = hash_key
        # The bundle and its hash key are one immutable state, swapped by one assignment:
        # a request reads it once, so it never pairs one bundle with another's key.
        self._state = _InForce(bundle, self._key_for(bundle))
        self._pii_engines: dict[int, tuple[Bundle, str | None, PiiEngine]] = {}
        self._pii_lock = Lock()
        # No trail given: the one $GOVERN_AUDIT_PATH or the bundle names (audit_location), never one relative to the cwd.
        audit = audit if audit is not None else AuditTrail.to_file(audit_location(bundle))
        # The secret of opaque free-text handles when no hash key is configured: handles are
        # resolved by this governor, right after the query that produced them.
        self._handle_secret = secrets.token_hex(32)
        self._verifier = None  # (bundle, TokenVerifier of its identity.yaml), built on first use
        self.audit = audit
        # The first load is audited like a reload: a reviewer sees which bundle was in force from the start.
        self.audit.record(action="policy_load", principal=GOVERN_PRINCIPAL, decision="allow", reasons=["loaded"],
                          bundle_hash=bundle.content_hash, input_text=str(bundle.path))

    def _key_for(self, bundle: Bundle) -> str | None:
        """The bundle's hash key; refuse a bundle whose hash masks have no key (never unmasked or unkeyed hashes)."""
        key_env = bundle.rules.settings.hash_key_env
        key = self._explicit_hash_key if self._explicit_hash_key is not None else os.environ.get(key_env)
        hash_masks = [m.id for p in bundle.policies.values() for rules in p.masks.values() for m in rules if m.kind == "hash"]
        hash_masks += [f"pii.operators.{t}" for t, op in bundle.rules.pii.operators.items() if op.operator == "hash"]
        if hash_masks and not key:
            raise PolicyLoadError([f"rules.yaml: hash masks {hash_masks} need a secret key: set ${key_env} or pass hash_key="])
        return key

    @property
    def _bundle(self) -> Bundle:
        return self._state.bundle

    @property
    def hash_key(self) -> str | None:
        """The secret key of hash masks in force (the one ``SqlDecision.params`` carries); None without one."""
        return self._state.hash_key

    @classmethod
    def from_path(
        cls,
        directory: str | Path,
        *,
        audit: AuditTrail | str | Path | None = None,
        hash_key: str | None = None,
        catalog: Catalog | None = None,
    ) -> Governor:
        """Load the bundle in ``directory``; ``audit`` is a trail or a JSON-lines path."""
        bundle = load_bundle(directory, catalog=catalog)
        if isinstance(audit, (str, Path)):
            audit = AuditTrail.to_file(audit)
        return cls(bundle, audit=audit, hash_key=hash_key)

    @property
    def bundle(self) -> Bundle:
        return self._bundle

    def reload(self, directory: str | Path | None = None, *, expected_hash: str | None = None) -> Bundle:
        """Load the bundle again (or another directory) and swap it in atomically.

        A request in flight keeps the bundle (and key) it started with. If the new
        bundle fails to load, for any reason, the old one stays in force and
        PolicyLoadError is raised. Either way the attempt is written to the audit
        trail. A catalog passed to from_path (introspected) is used again.
        ``expected_hash``: refuse to swap in any other version (the watcher's settled one).
        """
        old = self._state.bundle
        path = Path(directory) if directory is not None else old.path
        try:
            new = load_bundle(path, catalog=old.catalog if old.external_catalog else None)
            if expected_hash is not None and new.content_hash != expected_hash:
                raise PolicyLoadError([f"{path}: the files changed after they settled ({new.content_hash}); not swapped in"])
            state = _InForce(new, self._key_for(new))
        except Exception as err:
            problems = err.problems if isinstance(err, PolicyLoadError) else [f"{path}: {type(err).__name__}: {err}"]
            self.audit.record(action="policy_load", principal=GOVERN_PRINCIPAL,
                              decision="deny", reasons=problems, bundle_hash=old.content_hash, input_text=str(path))
            if isinstance(err, PolicyLoadError):
                raise
            raise PolicyLoadError(problems) from None
        self._state = state
        self.audit.record(action="policy_load", principal=GOVERN_PRINCIPAL,
                          decision="allow", reasons=[f"replaced {old.content_hash}"], bundle_hash=new.content_hash, input_text=str(path))
        return new

    def principal(self, principal_id: str) -> Principal:
        """A principal named in the bundle's principals.yaml."""
        try:
            return self._bundle.principals[principal_id]
        except KeyError:
            raise KeyError(f"no principal {principal_id!r} in {self._bundle.path / 'principals.yaml'}") from None

    def principal_from_token(self, token: str, *, correlation_id: str | None = None, action: str = "authenticate") -> Principal:
        """The principal of a verified bearer token (JWT), by the bundle's identity.yaml.

        A refused token raises TokenError (``kind``, ``reason``) after one audit record
        (``action``, decision deny, the reason; a digest of the token, never the token);
        IdentityUnavailable when tokens cannot be verified at all (no identity.yaml,
        its key unset). Needs PyJWT (``pip install 'govern[serve]'``).
        """
        from govern.errors import TokenError
        from govern.identity import TokenVerifier

        bundle = self._bundle
        cached = self._verifier
        if cached is None or cached[0] is not bundle:
            cached = self._verifier = (bundle, TokenVerifier(bundle.identity, schema=bundle.principal_schema))
        try:
            return cached[1].principal(token)
        except TokenError as err:
            digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest() if isinstance(token, str) else None
            record = self.audit.record(action=action, principal={"id": "(unauthenticated)", "roles": [], "tenant": None},
                                       decision="deny", reasons=[f"token refused ({err.kind}): {err.reason}"], input_sha256=digest,
                                       bundle_hash=bundle.content_hash, correlation_id=correlation_id)
            err.audit_id = record.event_id
            raise

    # -- SQL ------------------------------------------------------------------
    def check_sql(self, sql: str, principal: Principal | dict, dialect: str = "duckdb", *, correlation_id: str | None = None) -> SqlDecision:
        """Govern one SQL statement for ``principal``; never raises for a bad query, denies.

        Writes one audit record (action check_sql) and returns its id as ``audit_id``.
        """
        started = time.perf_counter()
        principal = _as_principal(principal)
        ctx, reasons = self._govern(sql, principal, dialect)
        decision = self._decision(ctx, reasons)
        return decision.model_copy(update={"audit_id": self._audit_sql("check_sql", ctx, decision, started, correlation_id)})

    def execute(self, conn: Any, sql: str, principal: Principal | dict, dialect: str | None = None, *, correlation_id: str | None = None) -> QueryResult:
        """Govern ``sql``, run it over a DB-API connection (DuckDB, psycopg 3, sqlite3, PyMySQL) or a SparkSession and mask free text in the rows.

        Writes one audit record (action execute: rows returned, PII types and
        counts masked). Raises QueryDenied, carrying the decision and its
        reasons, when denied; a database error raises QueryFailed with the
        message PII-masked (never the raw driver exception, which can quote data).
        """
        started = time.perf_counter()
        principal = _as_principal(principal)
        ctx, reasons = self._govern(sql, principal, dialect or dialect_of(conn))
        decision = self._decision(ctx, reasons)
        if not decision.allowed:
            raise QueryDenied(decision.model_copy(update={"audit_id": self._audit_sql("execute", ctx, decision, started, correlation_id)}))
        cursor = None
        try:
            cursor = cursor_for(conn, decision.dialect, bool(decision.params))
            check_cost(cursor, decision.dialect, decision.sql, decision.params, ctx.bundle.rules.limits.max_cost)
            cursor.execute(decision.sql, decision.params) if decision.params else cursor.execute(decision.sql)
            columns = [d[0] for d in cursor.description or ()]
            rows = [tuple(r) for r in cursor.fetchall()]
            _close_quietly(cursor)  # every row is fetched: a DuckDB cursor is a connection of its own
        except CostExceeded as over:
            _close_quietly(cursor)  # PostgreSQL's estimate is above limits.max_cost: denied before it runs
            decision = decision.model_copy(update={"allowed": False, "sql": None, "params": [], "reasons": [over.reason]})
            raise QueryDenied(decision.model_copy(update={"audit_id": self._audit_sql("execute", ctx, decision, started, correlation_id)})) from None
        except Exception as err:
            _close_quietly(cursor)
            # A database message can quote the data it failed on (a cast error quotes the whole
            # value) and the governed SQL: keep its kind only (connections.database_message),
            # masked like result text, before anyone sees it or it is recorded.
            message = self.pii_engine(ctx.bundle).mask(database_message(err),
                                                       reveal=self.revealed_types(principal, ctx.bundle)).text
            audit_id = self._audit_sql("execute", ctx, decision, started, correlation_id, error=message)
            raise QueryFailed(decision.model_copy(update={"audit_id": audit_id}), message) from None
        try:
            rows, pii, needs_review = self._resolve_handles(ctx, rows, conn)
            if ctx.bundle.unclassified:
                rows, more, review = self._scan_all_strings(ctx, rows, conn)
                pii, needs_review = _sum_counts([pii, more]), needs_review or review
        except Exception as err:  # the text could not be fetched or masked: withhold the rows, never show them raw
            audit_id = self._audit_sql("execute", ctx, decision, started, correlation_id,
                                       error=f"free text could not be resolved ({type(err).__name__})")
            raise QueryFailed(decision.model_copy(update={"audit_id": audit_id}),
                              f"free text could not be shown masked ({type(err).__name__}); no rows returned") from None
        more: dict[str, Any] = dict(decision="mask" if pii else "rewrite", rows=len(rows), pii=pii, columns_shown=columns)
        if needs_review:
            more["reasons"] = ["PII found below the confidence threshold was masked; rows need review"]
        audit_id = self._audit_sql("execute", ctx, decision, started, correlation_id, **more)
        return QueryResult(columns, rows, decision.model_copy(update={"audit_id": audit_id}), pii, needs_review)

    def cursor(self, conn: Any, dialect: str | None = None):
        """A cursor of your own DB-API connection that runs governed SQL with its parameters, as is.

            d = gov.check_sql(sql, principal, dialect="postgres")
            cur = gov.cursor(conn)            # DuckDB, sqlite3 or psycopg 3
            cur.execute(d.sql, d.params)

        The SQL binds the hash key as ``$1`` (DuckDB, PostgreSQL) or ``?`` (SQLite); this is what
        makes that work on each driver: a psycopg ``RawCursor`` (binds ``$1`` natively), the
        SHA-256 function hash masks call registered on a sqlite3 connection, a plain DuckDB cursor.
        Free text comes back as opaque handles: ``gov.show_free_text(conn, rows, principal)``
        puts the principal's masked text in their place.
        """
        return cursor_for(conn, dialect or dialect_of(conn), True)

    def decide(self, sql: str, principal: Principal | dict, dialect: str = "duckdb") -> SqlDecision:
        """Govern one SQL statement like check_sql, without writing an audit record; never raises for a bad query.

        For govern's own reads on behalf of a feature that audits its outcome itself
        (the entity keys a retriever may return). Applications call check_sql or
        execute, which record every decision.
        """
        ctx, reasons = self._govern(sql, _as_principal(principal), dialect)
        return self._decision(ctx, reasons)

    def _govern(self, sql: str, principal: Principal, dialect: str) -> tuple[SqlContext, list[str]]:
        """Run the pipeline; the reasons are empty when allowed. Never raises for a bad query."""
        state = self._state  # one bundle and its key for the whole request, even if another is swapped in
        bundle = state.bundle
        invalid: list[str] = []
        try:  # the bundle's attribute schema: a wrong type is a clear denial, not a database error later
            principal = validate_principal(bundle.principal_schema, principal)
        except InvalidPrincipal as err:
            invalid = err.reasons
        ctx = SqlContext(sql=sql, principal=principal, dialect=dialect, bundle=bundle, hash_key=state.hash_key,
                         handle_key=state.hash_key or self._handle_secret,
                         roles=bundle.grants.expand_roles(tuple(principal.roles)))
        if invalid:
            return ctx, invalid
        try:
            govern_sql(ctx)
            return ctx, []
        except Denied as denied:
            return ctx, denied.reasons
        except RecursionError:
            return ctx, ["query too complex: it nests too deeply to analyse; simplify it or split it"]
        except Exception as err:  # fail closed on anything unexpected, and say so
            log.exception("internal error while governing a query")
            return ctx, [f"internal error while governing the query ({type(err).__name__}: {err}); denied"]

    def _decision(self, ctx: SqlContext, reasons: list[str]) -> SqlDecision:
        allowed = not reasons
        # model_construct: every field is built here with its declared type (validation would only copy it)
        return SqlDecision.model_construct(
            allowed=allowed,
            sql=ctx.governed_sql if allowed else None,
            reasons=[str(reason) for reason in reasons],
            policies=list(ctx.policies),
            tables=list(ctx.tables),
            columns=sorted(ctx.columns),
            audit_id=None,
            dialect=ctx.dialect,
            params=[ctx.handle_key] * _parameter_count(ctx) if allowed and ctx.uses_key else [],
            bundle_hash=ctx.bundle.content_hash,
            notes=[UNCLASSIFIED_NOTE] if ctx.bundle.unclassified else [],
        )

    def _audit_sql(self, action: str, ctx: SqlContext, outcome: SqlDecision, started: float,
                   correlation_id: str | None, /, **more: Any) -> str:
        """Record a SQL decision (``_sql_record``'s fields, then ``more``); returns its event id.
        On a trail whose sink keeps nothing (``AuditTrail.keeps_records``) no record is built."""
        if not self.audit.keeps_records:
            return self.audit.skip()
        fields = self._sql_record(ctx, outcome, started, correlation_id)
        fields.update(more)
        return self.audit.record(action=action, **fields).event_id

    def _sql_record(self, ctx: SqlContext, decision: SqlDecision, started: float, correlation_id: str | None) -> dict:
        """Audit fields of a SQL decision (the hash key in params is never among them).

        With ``settings.audit.redact_sql_literals`` (the default) the SQL texts are recorded with their
        literals replaced by ``?``; ``input_sha256`` is then the digest of the recorded text and
        ``extra.input_digest`` a keyed digest (audit key, else hash key) of the original.
        """
        text = _recordable(ctx.sql)
        governed = decision.sql
        reasons, tables, columns = decision.reasons + decision.notes, decision.tables, decision.columns
        extra: dict[str, Any] = {}
        if ctx.bundle.rules.settings.audit.redact_sql_literals:
            from govern.audit.sql_text import redact_generated, redaction, scrub

            key = getattr(self.audit.sink, "record_key", None) or (self.hash_key.encode() if self.hash_key else None)
            if key:
                extra["input_digest"] = hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
            extra["sql_literals"] = "redacted"
            # the parse pass's tokens are the query's as it was sent (its text is recorded unchanged)
            tokens = ctx.tokens if text is ctx.sql else None
            text, withheld = redaction(text, ctx.dialect, tokens, _catalog_names(ctx.bundle))
            governed = redact_generated(governed, ctx.dialect) if governed else governed
            if withheld:  # a reason or an asked-for name may quote a literal the text withholds
                reasons, tables, columns = scrub(reasons, withheld), scrub(tables, withheld), scrub(columns, withheld)
        return dict(
            principal=ctx.principal.summary(),
            decision="rewrite" if decision.allowed else "deny",
            reasons=reasons,
            input_text=text,
            input_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            tables=tables,
            columns=columns,
            policies=decision.policies,
            bundle_hash=decision.bundle_hash,
            governed_sql=governed,
            **extra,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            correlation_id=correlation_id,
            dialect=ctx.dialect,
        )

    def checked_principal(self, principal: Principal | dict, bundle: Bundle | None = None, *, action: str | None = None,
                          correlation_id: str | None = None) -> Principal:
        """``principal`` checked against the bundle's attribute schema, defaults filled in.

        Raises InvalidPrincipal naming each bad attribute; with ``action``, the
        denial is written to the audit trail first.
        """
        bundle = bundle or self._bundle
        principal = _as_principal(principal)
        try:
            return validate_principal(bundle.principal_schema, principal)
        except InvalidPrincipal as err:
            if action is not None:
                self.audit.record(action=action, principal=principal.summary(), decision="deny", reasons=err.reasons,
                                  bundle_hash=bundle.content_hash, correlation_id=correlation_id)
            raise

    # -- the schema a principal may see: govern.schema ----------------------------
    def schema_for(self, principal: Principal | dict, dialect: str = "duckdb"):
        """The tables and columns ``principal`` may see, as a ``govern.schema.VisibleSchema``:
        ``.text`` is CREATE TABLE-like text for a prompt (masked columns say what the mask
        shows, row-governed tables say that rows are filtered, never how), ``.to_dict()`` the data."""
        from govern.schema import schema_for

        return schema_for(self, principal, dialect)

    # -- entities and retrieval: implemented in their own packages -------------
    def entity_scope(self, principal: Principal | dict, entity: str, conn: Any = None):
        """The principal's scope on ``entity`` as a SQL predicate and, with ``conn``, the resolved keys."""
        from govern.entities import entity_scope

        return entity_scope(self, principal, entity, conn)

    def wrap_retriever(self, fn: Any, collection: str, **options: Any):
        """Wrap a retriever callable so every call is authorized, filtered, masked and audited."""
        from govern.retrieval import wrap_retriever

        return wrap_retriever(self, fn, collection=collection, **options)

    def retriever(self, collection: str, **options: Any):
        """Decorator form of :meth:`wrap_retriever`."""
        return lambda fn: self.wrap_retriever(fn, collection, **options)

    def sql_retriever(self, conn: Any, table: str, collection: str, **options: Any):
        """A governed retriever over a catalogued table of chunks whose query goes through :meth:`check_sql`.

        Store options (``id_column``, ``text_column``, ``metadata_columns``, ``score``,
        ``search_columns``, ``descending``, ``dialect``, ``schema``) go to
        :class:`govern.retrieval.sql_store.SqlChunkStore`, the rest to the GovernedRetriever.
        """
        from govern.retrieval.sql_store import sql_retriever

        return sql_retriever(self, conn, table, collection, **options)

    # -- PII ------------------------------------------------------------------
    def pii_engine(self, bundle: Bundle | None = None) -> PiiEngine:
        """The PII engine of a bundle, built on first use (loading it costs ~a second)."""
        state = self._state
        if bundle is not None and bundle is not state.bundle:
            state = _InForce(bundle, self._key_for(bundle))  # a request still on the bundle before a reload
        with self._pii_lock:
            cached = self._pii_engines.get(id(state.bundle))
            if cached is not None and cached[0] is state.bundle and cached[1] == state.hash_key:
                return cached[2]
            from govern.pii.engine import PiiEngine

            engine = PiiEngine(state.bundle.rules.pii, hash_key=state.hash_key)
            self._pii_engines = {id(state.bundle): (state.bundle, state.hash_key, engine)}  # one bundle in force: drop the old engine
            return engine

    def revealed_types(self, principal: Principal, bundle: Bundle | None = None) -> frozenset[str]:
        """PII types the principal's grants show unmasked (`pii:TYPE, reveal`); default none."""
        bundle = bundle or self._bundle
        roles = bundle.grants.expand_roles(tuple(principal.roles))
        return frozenset(t for t in bundle.rules.pii.entities if bundle.grants.allowed(roles, f"pii:{t}", "reveal"))

    def mask_text(self, text: str, principal: Principal | dict, context: dict | None = None,
                  conversation: str | None = None, *, correlation_id: str | None = None) -> MaskedText:
        """Mask the PII in ``text`` that ``principal`` may not see; one audit record (types and counts, never values)."""
        return self.mask_texts([text], principal, [context] if context is not None else None, conversation,
                               correlation_id=correlation_id, action="mask_text")[0]

    def mask_texts(self, texts: list[str], principal: Principal | dict, contexts: list[dict | None] | None = None,
                   conversation: str | None = None, *, correlation_id: str | None = None, action: str = "mask_texts") -> list[MaskedText]:
        """Batch form of mask_text: one engine pass and one audit record for all passages."""
        started = time.perf_counter()
        bundle = self._bundle
        principal = self.checked_principal(principal, bundle, action=action, correlation_id=correlation_id or conversation)
        reveal = self.revealed_types(principal, bundle)
        masked = self.pii_engine(bundle).mask_many(list(texts), reveal=reveal, contexts=contexts,
                                                   conversation=self.conversation_scope(principal, conversation))
        counts = _sum_counts(m.masked_counts for m in masked)
        self.audit.record(
            action=action, principal=principal.summary(), decision="mask" if counts else "allow",
            reasons=[f"{m.below_threshold} finding(s) below threshold masked for review" for m in masked if m.needs_review][:1],
            input_sha256=self.input_digest("\x1f".join(texts)), pii=counts, rows=len(texts),
            bundle_hash=bundle.content_hash, duration_ms=round((time.perf_counter() - started) * 1000, 3),
            correlation_id=correlation_id or conversation,
        )
        return masked

    def reveal(self, text: str, principal: Principal | dict, conversation: str, *, correlation_id: str | None = None) -> str:
        """Restore the principal's own pseudonyms of ``conversation`` in ``text``, only for types they may see.

        Pseudonyms are kept per (principal, conversation): another principal who
        learns or guesses the conversation id restores nothing. Audited (types, never values).
        """
        principal = self.checked_principal(principal, action="reveal", correlation_id=correlation_id or conversation)
        revealed = self.revealed_types(principal)
        out = self.pii_engine().reveal(text, self.conversation_scope(principal, conversation), reveal=revealed)
        self.audit.record(action="reveal", principal=principal.summary(), decision="allow" if out != text else "mask",
                          reasons=[f"revealable types: {sorted(revealed)}"], input_sha256=self.input_digest(text),
                          bundle_hash=self._bundle.content_hash, correlation_id=correlation_id or conversation)
        return out

    @staticmethod
    def conversation_scope(principal: Principal, conversation: str | None) -> str | None:
        """The pseudonym-vault key of a conversation: conversations are per principal."""
        return None if conversation is None else f"{len(principal.id)}:{principal.id}\x1f{conversation}"  # length-prefixed: unforgeable

    def input_digest(self, text: str) -> str | None:
        """A digest of a passage or retrieval query for the audit trail.

        Keyed (HMAC-SHA256 with the configured secret): a plain SHA-256 of a short
        text next to its masked form lets anyone with the trail brute-force the
        masked values. Without a key, no digest is written.
        """
        if not self.hash_key:
            return None
        return hmac.new(self.hash_key.encode(), text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def show_free_text(self, conn: Any, rows: list[tuple], principal: Principal | dict, dialect: str | None = None,
                       *, masked: bool = True):
        """Rows of a governed query you ran yourself (``check_sql``'s SQL), with each opaque
        free-text handle replaced by the masked text of its row, read from ``conn`` through
        the principal's row filter. Returns (rows, PII counts masked, needs_review).

        ``execute`` does this itself. Handles made by another governor (another secret)
        do not verify and are left as they are. ``masked=False`` puts the text in
        unmasked: only for code that masks the rows itself before anyone sees them
        (the SQL chunk store under a retriever, whose masking knows the conversation).
        """
        principal = self.checked_principal(principal)
        state = self._state
        ctx = SqlContext(sql="", principal=principal, dialect=dialect or dialect_of(conn), bundle=state.bundle,
                         hash_key=state.hash_key, handle_key=state.hash_key or self._handle_secret,
                         roles=state.bundle.grants.expand_roles(tuple(principal.roles)), uses_handles=True)
        return self._resolve_handles(ctx, rows, conn, masked=masked)

    def _scan_all_strings(self, ctx: SqlContext, rows: list[tuple], conn: Any):
        """An unclassified catalog: no mask can follow a classification, so every string of the
        result is scanned and masked with the principal's reveals (fail closed until classified)."""
        from govern.sql import unmask

        # Names read from the data (pii.name_sources) are matched only in columns whose value *is*
        # a stored column, unchanged: a string the query computes or supplies (a literal, a
        # concatenation) is scanned by what looks at the string alone (patterns, NER), so whether
        # it comes back masked never tells whether some row, hidden or not, holds it.
        stored = unmask.stored_positions(ctx.analysis, len(rows[0]) if rows else 0)
        plain: list[str] = []
        named: list[str] = []
        for row in rows:
            for position, value in enumerate(row):
                unmask.strings_in(value, named if position in stored else plain)
        if not plain and not named:
            return rows, {}, False
        from govern.pii.sources import source_names

        engine, reveal = self.pii_engine(ctx.bundle), self.revealed_types(ctx.principal, ctx.bundle)
        names = source_names(conn, ctx.bundle, ctx.dialect) if named else None
        plain, named = list(dict.fromkeys(plain)), list(dict.fromkeys(named))
        masked_plain = engine.mask_many(plain, reveal=reveal) if plain else []
        masked_named = engine.mask_many(named, reveal=reveal, known_names=names) if named else []
        shown_plain = dict(zip(plain, (m.text for m in masked_plain)))
        shown_named = dict(zip(named, (m.text for m in masked_named)))

        def cell(position: int, value):
            shown = shown_named if position in stored else shown_plain
            return unmask.replace_strings(value, lambda text: shown.get(text, text))

        out = [tuple(cell(p, v) for p, v in enumerate(row)) for row in rows]
        masked = [*masked_plain, *masked_named]
        return out, _sum_counts(m.masked_counts for m in masked), any(m.needs_review for m in masked)

    def _resolve_handles(self, ctx: SqlContext, rows: list[tuple], conn: Any, masked: bool = True):
        """Replace the opaque free-text handles in ``rows`` by the masked text of their rows.

        Handles are found in every string of the result, including strings nested in
        lists, structs and maps (bytes are decoded); the text is fetched through the
        principal's governed relation (govern.sql.unmask) and masked with the principal's
        reveal grants and the bundle's ``pii.name_sources``. Strings the query supplied
        itself are never scanned or masked: masking applies to values from the data only.
        Returns (rows, PII counts masked, needs_review).
        """
        if not ctx.uses_handles:
            return rows, {}, False
        from govern.sql import unmask

        strings: list[str] = []
        for row in rows:
            for value in row:
                unmask.strings_in(value, strings)
        scope = unmask.handle_scope(ctx.roles)
        found = unmask.collect(strings, ctx.handle_key, scope)
        if not found:
            return rows, {}, False
        raw = unmask.fetch(conn, ctx, found, cursor_for)
        if not masked:
            out = [tuple(unmask.replace_strings(v, lambda text: unmask.substitute(text, ctx.handle_key, scope, raw)) for v in row)
                   for row in rows]
            return out, {}, False
        texts = list(raw.values())
        from govern.pii.sources import source_names

        names = source_names(conn, ctx.bundle, ctx.dialect)
        masked = self.pii_engine(ctx.bundle).mask_many(texts, reveal=self.revealed_types(ctx.principal, ctx.bundle),
                                                       known_names=names)
        shown = dict(zip(raw.keys(), (m.text for m in masked)))
        out = [tuple(unmask.replace_strings(v, lambda text: unmask.substitute(text, ctx.handle_key, scope, shown)) for v in row)
               for row in rows]
        return out, _sum_counts(m.masked_counts for m in masked), any(m.needs_review for m in masked)


def audit_location(bundle: Bundle) -> Path:
    """Where a governor without an explicit trail writes: $GOVERN_AUDIT_PATH, else the bundle's
    ``settings.audit.trail`` (relative to the bundle directory). Never a path relative to the working directory."""
    env = os.environ.get(AUDIT_PATH_ENV)
    if env:
        return Path(env).expanduser()
    trail = bundle.rules.settings.audit.trail
    if not trail:
        raise PolicyLoadError([f"{bundle.path / 'rules.yaml'}: no audit trail location: set settings.audit.trail "
                               f"(relative to the bundle), ${AUDIT_PATH_ENV}, or pass audit= to the Governor"])
    path = Path(trail).expanduser()
    return path if path.is_absolute() else (Path(bundle.path).resolve() / path).resolve()


@dataclass(frozen=True)
class _InForce:
    """The bundle in force and its hash key: replaced together, never one at a time."""

    bundle: Bundle
    hash_key: str | None = field(repr=False)


def _as_principal(principal: Principal | dict) -> Principal:
    return principal if isinstance(principal, Principal) else Principal.model_validate(principal)


def _sum_counts(counts) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return total


def _close_quietly(cursor: Any) -> None:
    """Close a cursor govern opened for one statement. Left open, a DuckDB cursor (a connection of its
    own) outlives a closed parent connection and can abort the interpreter at exit (DuckDB 2.0)."""
    close = getattr(cursor, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # noqa: BLE001 - the statement's outcome stands; a cursor that will not close is the driver's
            log.warning("a cursor could not be closed after its statement", exc_info=True)


def _catalog_names(bundle) -> frozenset[str]:
    """The catalog's table and column names, lower case (computed once per bundle): on SQLite a
    double-quoted name that is none of them may be a string literal, and is withheld from the trail."""
    names = bundle.templates.get(("audit", "catalog names"))
    if names is None:
        names = frozenset(n.lower() for t in bundle.catalog for n in (t.name, *(c.name for c in t.columns)))
        bundle.templates.put(("audit", "catalog names"), names)
    return names


def _parameter_count(ctx: SqlContext) -> int:
    # $1 is reused on PostgreSQL and DuckDB; sqlite's and MySQL's `?` need the key once per use.
    return ctx.parameter_count if ctx.dialect in POSITIONAL_PARAMETER_DIALECTS else 1


def _recordable(text: str) -> str:
    """The text as valid UTF-8: a lone surrogate (denied by the parse pass) is recorded as its
    backslash escape, so the audit record can still be written and hashed."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
