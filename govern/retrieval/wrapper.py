"""The governed retriever: grant, filter (pushed down and re-checked), mask, audit, per call."""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections.abc import Sequence
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from govern.connections import dialect_of
from govern.errors import Denied, GovernError, InvalidPrincipal, QueryDenied
from govern.bundle.attributes import validate_principal
from govern.principal import Principal
from govern.retrieval import documents as D
from govern.bundle import document_predicate as P
from govern.retrieval.rules import DocumentFilter, FilterDenied, derive_filter, document_rules

log = logging.getLogger("govern.retrieval")

FILTER_FORMS = ("metadata", "document", "langchain", "mongo", "sql", "filter")
MAX_ROUNDS = 3


class DroppedDocument(BaseModel):
    """A document the wrapper did not return, and why. Audit-side only: never part of a RetrievalDecision."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    reason: str


class RetrievalDecision(BaseModel):
    """What one governed retrieval did, and why: returned ids, counts and reason categories, never text.

    The ids of documents that were dropped (forbidden by the document rules,
    malformed, duplicates) are never in the decision, which goes back to the
    caller (and so to the LLM): naming another tenant's document is itself a
    disclosure. Only their number and reasons are here; the ids are in the
    audit record (``extra.dropped_ids``), for the people who may read the trail.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed: bool
    collection: str
    principal: str
    reasons: list[str] = Field(default_factory=list)
    policies: list[str] = Field(default_factory=list, description="document rule ids applied")
    filter: str | None = Field(None, description="the bound predicate, readable (entity key sets summarised)")
    pushed_down: bool = False
    filter_form: str | None = None
    k: int = Field(0, description="documents asked for, after clamping to the collection's max_k")
    k_requested: int | None = Field(None, description="the k the caller asked for, when it was above max_k and clamped")
    fetched: int = 0
    rounds: int = 0
    returned_ids: list[str] = Field(default_factory=list)
    dropped: int = Field(0, description="documents the store returned that were not permitted or not usable")
    dropped_by_reason: dict[str, int] = Field(default_factory=dict, description="reason category -> count (no ids)")
    surplus: int = Field(0, description="permitted documents beyond k, not returned")
    pii: dict[str, int] = Field(default_factory=dict, description="PII type -> count masked in the returned text")
    needs_review: bool = False
    audit_id: str | None = None
    store_audit_ids: list[str] = Field(default_factory=list, description="audit records the store wrote for this call "
                                       "(the SQL chunk store: its check_sql decisions, which hold the chunk query)")
    bundle_hash: str | None = None

    @property
    def returned(self) -> int:
        return len(self.returned_ids)


class RetrievalDenied(GovernError):
    """The principal may not retrieve from the collection; ``decision.reasons`` say why."""

    def __init__(self, decision: RetrievalDecision):
        self.decision = decision
        super().__init__(f"retrieval from {decision.collection!r} denied: " + "; ".join(decision.reasons))


class RetrievalFailed(GovernError):
    """The store raised. Its message is withheld (a store error can quote passages the principal
    may not see, or the query); the exception object is kept as ``store_error`` for the caller's
    own debugging, and only its type reaches the audit trail. ``audit_id`` is the record's."""

    def __init__(self, collection: str, store_error: BaseException, audit_id: str | None):
        self.collection, self.store_error, self.audit_id = collection, store_error, audit_id
        super().__init__(f"the retriever for {collection!r} failed ({type(store_error).__name__}); "
                         "its message is withheld because a store error can quote documents or the query")


class RetrievalResult(Sequence):
    """The governed documents (masked copies) plus the decision. Iterating a denied result raises."""

    def __init__(self, documents: list, decision: RetrievalDecision):
        self._documents = documents
        self.decision = decision

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def documents(self) -> list:
        if not self.decision.allowed:
            raise RetrievalDenied(self.decision)
        return list(self._documents)

    def __getitem__(self, i):
        return self.documents[i]

    def __len__(self) -> int:
        return len(self.documents)

    def __iter__(self):
        return iter(self.documents)

    def __repr__(self) -> str:
        d = self.decision
        if not d.allowed:
            return f"<RetrievalResult denied {d.collection!r}: {'; '.join(d.reasons)}>"
        return f"<RetrievalResult {d.collection!r}: {d.returned} returned, {d.dropped} dropped>"


class GovernedRetriever:
    """``fn`` wrapped so that every call is authorized, filtered, masked and audited.

        search = gov.wrap_retriever(store.similarity_search, "support_kb", filter_form="langchain")
        result = search("refund for a double charge", principal, k=4, conversation="c-17")
        result.documents, result.decision

    ``fn(query, k=..., filter=..., **kwargs)`` is called with the keyword names
    given by ``k_param`` / ``filter_param``. With ``filter_form`` set the
    principal's filter is passed down (pre-filter) in that form:

    * ``"document"`` / ``"langchain"``: a callable ``doc -> bool`` (LangChain InMemoryVectorStore)
    * ``"metadata"``: a callable ``metadata dict -> bool``
    * ``"mongo"``: a ``{"$and": [...]}`` dict (Chroma, PGVector, Pinecone, ...)
    * ``"sql"``: a WHERE condition in ``sql_dialect`` for a table of chunks (``sql_table`` qualifies columns)
    * ``"filter"``: the :class:`DocumentFilter` itself (``.sql()``, ``.mongo()``, ``.matches()``)
    * a callable ``DocumentFilter -> store filter`` (adapters; raising ValueError means "cannot push down")

    With ``principal_param`` / ``correlation_param`` set, ``fn`` also gets the
    principal and the call's correlation id under those keyword names (a store
    that governs its own query needs them). A store may return a list with an
    ``audit_ids`` attribute (recorded as ``store_audit_ids``) and may raise
    ``QueryDenied``, which denies the call with the guard's reasons. The SQL
    chunk store (:mod:`govern.retrieval.sql_store`, ``gov.sql_retriever``) is
    this class around a table of chunks whose query goes through ``check_sql``.

    Without one the store is asked for ``k * overfetch`` documents (bounded by
    ``max_fetch``, more rounds while it keeps returning full pages). Either way
    every returned document is checked again before it is masked.

    ``k`` is clamped to the collection's ``max_k`` (documents.yaml, default 50;
    the wrapper's ``max_k=`` can only lower it): a larger request is served with
    ``max_k`` documents, and the decision says so (``k_requested``, a reason).

    Masking covers every string the returned copy carries, not only the text:
    all string fields of a dict document, every metadata value (nested values,
    long integers that may be a phone or card number), through the PII engine
    with the principal's reveal grants and the principal's own pseudonyms of the
    conversation. The document id (``id`` and the collection's ``id_field``) and
    field names are kept. Metadata fields the document rules read are masked
    too (they normally hold no PII, so they come back unchanged). Objects other
    than dicts get their text attributes and ``metadata`` masked; for other
    shapes pass ``map_strings(doc, fn, id_field) -> copy`` applying ``fn`` to every
    string it carries (see ``govern.retrieval.documents.map_strings``).
    """

    def __init__(
        self,
        gov: Any,
        fn: Callable[..., Any],
        collection: str,
        *,
        k: int = 4,
        k_param: str | None = "k",
        filter_param: str = "filter",
        filter_form: str | Callable[[DocumentFilter], Any] | None = None,
        sql_dialect: str = "duckdb",
        sql_table: str | None = None,
        overfetch: int | None = None,
        max_fetch: int | None = None,
        mask: bool = True,
        context: Callable[[Any, Any], dict | None] | None = None,
        text: Callable[[Any], str] | None = None,
        metadata: Callable[[Any], Any] | None = None,
        with_text: Callable[[Any, str], Any] | None = None,
        map_strings: Callable[[Any, Callable[[str], str], str], Any] | None = None,
        max_k: int | None = None,
        conn: Any = None,
        entity_scope: Callable[[Principal, str], Any] | None = None,
        on_deny: str = "raise",
        principal_param: str | None = None,
        correlation_param: str | None = None,
    ):
        if isinstance(filter_form, str) and filter_form not in FILTER_FORMS:
            raise ValueError(f"filter_form must be one of {FILTER_FORMS} or a callable, not {filter_form!r}")
        if on_deny not in ("raise", "return"):
            raise ValueError("on_deny must be 'raise' or 'return'")
        self.gov, self.fn, self.collection = gov, fn, collection
        self.k, self.k_param, self.filter_param, self.filter_form = k, k_param, filter_param, filter_form
        self.sql_dialect, self.sql_table = sql_dialect, sql_table
        self.overfetch, self.max_fetch = overfetch, max_fetch
        self.mask, self.context = mask, context
        self._text = text or D.text_of
        self._metadata = metadata or D.metadata_of
        self._with_text = with_text
        self._map_strings = map_strings
        if max_k is not None and int(max_k) < 1:
            raise ValueError("max_k must be at least 1")
        self.max_k = None if max_k is None else int(max_k)
        self.conn, self.entity_scope, self.on_deny = conn, entity_scope, on_deny
        self.principal_param, self.correlation_param = principal_param, correlation_param
        self.__wrapped__ = fn
        self.__doc__ = getattr(fn, "__doc__", None)

    # -- the call --------------------------------------------------------------
    def __call__(self, query: str, principal: Principal | dict, *, k: int | None = None, conversation: str | None = None,
                 correlation_id: str | None = None, **kwargs: Any) -> RetrievalResult:
        started = time.perf_counter()
        gov = self.gov
        bundle = gov.bundle  # one bundle for the whole call
        principal = principal if isinstance(principal, Principal) else Principal.model_validate(principal)
        k = self.k if k is None else int(k)
        if k < 1:
            raise ValueError("k must be at least 1")
        base = dict(collection=self.collection, principal=principal.id, k=k, bundle_hash=bundle.content_hash)
        try:  # the bundle's attribute schema: a wrong type is a clear denial
            principal = validate_principal(bundle.principal_schema, principal)
        except InvalidPrincipal as err:
            return self._deny(base, err.reasons, [], query, principal, started, correlation_id or conversation)
        roles = bundle.grants.expand_roles(tuple(principal.roles))
        if not bundle.grants.allowed(roles, f"collection:{self.collection}", "retrieve"):
            return self._deny(base, [f"principal {principal.id!r} (roles {sorted(roles)}) has no grant to retrieve from "
                                     f"collection {self.collection!r} (collection:{self.collection}, retrieve)"],
                              [], query, principal, started, correlation_id or conversation)
        try:
            flt = derive_filter(document_rules(bundle), self.collection, principal, roles, self._scope_keys(principal))
        except FilterDenied as err:
            return self._deny(base, err.reasons, err.policies, query, principal, started, correlation_id or conversation)

        coll = document_rules(bundle).collection(self.collection).spec
        max_k = min(coll.max_k, self.max_k or coll.max_k)
        clamped = k > max_k
        if clamped:
            base.update(k=max_k, k_requested=k)
            k = max_k
        overfetch = self.overfetch or coll.overfetch
        max_fetch = max(k, self.max_fetch or coll.max_fetch)
        store_filter, form = self._store_filter(flt)
        pushed = form is not None
        fetch_k = k if pushed else min(k * overfetch, max_fetch)
        rounds = 0
        store_ids: list[str] = []
        while True:
            rounds += 1
            call = dict(kwargs)
            if self.k_param:
                call[self.k_param] = fetch_k
            if pushed:
                call[self.filter_param] = store_filter
            if self.principal_param:
                call[self.principal_param] = principal
            if self.correlation_param:
                call[self.correlation_param] = correlation_id or conversation
            try:
                out = self.fn(query, **call)
                store_ids += [str(i) for i in getattr(out, "audit_ids", None) or ()]
                raw = list(out or ())
            except QueryDenied as err:  # the store's own query was denied by the SQL guard
                store_ids += [err.decision.audit_id] if err.decision.audit_id else []
                return self._deny(base, [f"the store's query was denied by the SQL guard: {r}" for r in err.decision.reasons],
                                  list(flt.policies), query, principal, started, correlation_id or conversation, store_ids)
            except Exception as err:
                failed = getattr(getattr(err, "decision", None), "audit_id", None)  # QueryFailed: the store's check_sql record
                record = gov.audit.record(
                    action="retrieve", principal=principal.summary(), decision="deny",
                    reasons=[f"the retriever failed: {type(err).__name__}"],
                    error=f"{type(err).__name__}: {err}" if isinstance(err, GovernError) else type(err).__name__,
                    input_sha256=self._digest(query), policies=list(flt.policies), bundle_hash=bundle.content_hash,
                    duration_ms=_ms(started), correlation_id=correlation_id or conversation, collection=self.collection,
                    k=k, **_requested(base), **_store_ids(store_ids + ([str(failed)] if failed else [])))
                if isinstance(err, GovernError):
                    raise  # govern's own message (a ChunkStoreError, a QueryFailed already masked)
                raise RetrievalFailed(self.collection, err, record.event_id) from None
            permitted, dropped = self._post_filter(raw, flt, coll.id_field)
            exhausted = self.k_param is None or len(raw) < fetch_k
            if len(permitted) >= k or exhausted or fetch_k >= max_fetch or rounds >= MAX_ROUNDS:
                break
            fetch_k = min(max(fetch_k * overfetch, fetch_k + k), max_fetch)

        selected = permitted[:k]
        docs, pii, needs_review = self._masked(selected, principal, conversation, coll.id_field)
        ids = [i for i, _, _ in selected]
        reasons = _summarise(dropped)
        if clamped:
            reasons.insert(0, f"k={base['k_requested']} requested; clamped to the collection's max_k={k}")
        if len(permitted) > k:
            reasons.append(f"{len(permitted) - k} permitted document(s) beyond k={k} not returned")
        if needs_review:
            reasons.append("PII found below the confidence threshold was masked; passages need review")
        decision = RetrievalDecision(
            allowed=True, reasons=reasons, policies=list(flt.policies), filter=flt.describe(), pushed_down=pushed,
            filter_form=form, fetched=len(raw), rounds=rounds, returned_ids=ids,
            dropped=len(dropped), dropped_by_reason=_by_reason(dropped), surplus=max(0, len(permitted) - k), pii=pii,
            needs_review=needs_review, store_audit_ids=store_ids, **base,
        )
        record = gov.audit.record(
            action="retrieve", principal=principal.summary(), decision="drop" if dropped else "mask" if pii else "allow",
            reasons=reasons, input_text=self._audit_query(query, bundle), input_sha256=self._digest(query),
            policies=list(flt.policies), bundle_hash=bundle.content_hash, pii=pii, documents=len(docs),
            duration_ms=_ms(started), correlation_id=correlation_id or conversation,
            collection=self.collection, k=k, **_requested(base), fetched=len(raw), rounds=rounds, pushed_down=pushed, filter_form=form,
            returned_ids=json.dumps(ids), dropped_ids=json.dumps({i: r for i, r in dropped}, sort_keys=True),
            **_store_ids(store_ids),
        )
        return RetrievalResult(docs, decision.model_copy(update={"audit_id": record.event_id}))

    retrieve = __call__

    # -- steps -----------------------------------------------------------------
    def _scope_keys(self, principal: Principal) -> Callable[[str], frozenset]:
        cache: dict[str, frozenset] = {}

        def keys(entity: str) -> frozenset:
            if entity not in cache:
                cache[entity] = resolve_scope_keys(self.gov, principal, entity, self.conn, self.entity_scope)
            return cache[entity]

        return keys

    def _store_filter(self, flt: DocumentFilter) -> tuple[Any, str | None]:
        form = self.filter_form
        if form is None:
            return None, None
        try:
            if callable(form):
                return form(flt), getattr(form, "__name__", "custom")
            if form == "metadata":
                return flt.matches, form
            if form in ("document", "langchain"):
                meta = self._metadata
                return (lambda doc: flt.matches(meta(doc))), form
            if form == "mongo":
                return flt.mongo(), form
            if form == "sql":
                return flt.sql(self.sql_dialect, self.sql_table), form
            return flt, form
        except (ValueError, TypeError) as err:  # no store form for this predicate: over-fetch instead
            log.debug("filter not pushed down: %s", err)
            return None, None

    def _post_filter(self, raw: list, flt: DocumentFilter, id_field: str) -> tuple[list, list[tuple[str, str]]]:
        permitted: list[tuple[str, Any, Any]] = []
        dropped: list[tuple[str, str]] = []
        seen: set[str] = set()
        for position, doc in enumerate(raw):
            try:
                meta = self._metadata(doc)
            except Exception:
                meta = None
            doc_id = D.id_of(doc, meta, id_field, position)
            reason = flt.check(meta)
            if reason is None:
                try:
                    text = self._text(doc)
                    if not isinstance(text, str):
                        raise D.NoText("document text is not a string")
                except Exception as err:
                    reason = str(err) if isinstance(err, D.NoText) else f"document text unreadable ({type(err).__name__})"
            if reason is None and doc_id in seen:
                reason = "duplicate document id"
            if reason is not None:
                dropped.append((doc_id, reason))
                continue
            seen.add(doc_id)
            permitted.append((doc_id, doc, meta))
        return permitted, dropped

    def _known_names(self, bundle: Any):
        """The bundle's ``pii.name_sources`` names, read from ``conn`` when the wrapper has one:
        a passage does not say whose names it holds, and pattern mode finds only known names."""
        if self.conn is None or not bundle.rules.pii.name_sources:
            return None
        from govern.pii.sources import source_names

        store = getattr(self, "store", None)
        return source_names(self.conn, bundle, getattr(store, "dialect", None) or dialect_of(self.conn))

    def _masked(self, selected: list, principal: Principal, conversation: str | None, id_field: str):
        """Masked copies of the selected documents: every string each carries, in one engine pass.

        Pass 1 copies each document with an identity function to learn its
        strings; they are masked in one batch (the document's context for each of
        its strings); pass 2 copies it again, replacing each string by its masked
        form. A string pass 2 meets that pass 1 did not (a mapper that is not
        deterministic) is masked on its own, so nothing is returned unmasked.
        """
        if not selected:
            return [], {}, False
        if not self.mask:
            return [doc for _, doc, _ in selected], {}, False
        gov, bundle = self.gov, self.gov.bundle
        engine = gov.pii_engine(bundle)
        reveal = gov.revealed_types(principal, bundle)
        scope = gov.conversation_scope(principal, conversation)
        copy_of = self._copier(id_field)

        strings: list[list[str]] = []
        for _, doc, _ in selected:
            seen: dict[str, None] = {self._text(doc): None}

            def collect(value: str, seen=seen) -> str:
                if isinstance(value, str):
                    seen.setdefault(value, None)
                return value

            copy_of(doc, collect)
            strings.append(list(seen))
        contexts = [self.context(doc, meta) for _, doc, meta in selected] if self.context else [None] * len(selected)
        flat = [t for group in strings for t in group]
        flat_ctx = [c for group, c in zip(strings, contexts) for _ in group]
        names = self._known_names(bundle)
        results = iter(engine.mask_many(flat, reveal=reveal, contexts=flat_ctx if self.context else None,
                                        conversation=scope, known_names=names))

        pii: dict[str, int] = {}
        review = [False]
        docs = []
        for (_, doc, _), group, ctx in zip(selected, strings, contexts):
            found = {t: next(results) for t in group}
            outputs = {m.text for m in found.values()}

            def mask_one(value: str, found=found, outputs=outputs, ctx=ctx) -> str:
                m = found.get(value)
                if m is None:
                    if value in outputs:  # already masked (a with_text copy seen again)
                        return value
                    m = found[value] = engine.mask(value, reveal=reveal, context=ctx, conversation=scope, known_names=names)
                    outputs.add(m.text)
                for t, n in m.masked_counts.items():  # counted per occurrence in the returned copy
                    pii[t] = pii.get(t, 0) + n
                review[0] = review[0] or m.needs_review
                return m.text

            out = copy_of(doc, mask_one)
            try:
                text = self._text(out)
            except Exception as err:  # the copy lost its text: never return it
                raise GovernError(f"a masked copy of a document has no readable text ({type(err).__name__}); "
                                  "pass map_strings= for this document shape") from None
            if text != found[self._text(doc)].text:
                raise GovernError("a document's text was not masked by its copy; pass map_strings= for this document shape")
            docs.append(out)
        needs_review = review[0]
        return docs, dict(sorted(pii.items())), needs_review

    def _copier(self, id_field: str) -> Callable[[Any, Callable[[str], str]], Any]:
        """``(doc, fn) -> copy`` with fn applied to every string: the caller's map_strings, or the default."""
        if self._map_strings is not None:
            mapper = self._map_strings
            return lambda doc, fn: mapper(doc, fn, id_field)
        if self._with_text is not None:  # a custom shape's text setter: the text through it, the rest by default
            with_text, text_of = self._with_text, self._text
            return lambda doc, fn: D.map_strings(with_text(doc, fn(text_of(doc))), fn, id_field)
        return lambda doc, fn: D.map_strings(doc, fn, id_field)

    def _digest(self, query: Any) -> str | None:
        """A keyed digest of the raw query (None without a key): a plain hash next to the masked query gives the PII back."""
        return self.gov.input_digest(query) if isinstance(query, str) else None

    def _audit_query(self, query: str, bundle: Any) -> None:
        """Never the query itself: masking cannot be trusted to catch every name in free text
        (pattern mode knows only listed names), so the record keeps its keyed digest only."""
        return None

    def _deny(self, base: dict, reasons: list[str], policies: list[str], query: str, principal: Principal,
              started: float, correlation_id: str | None, store_ids: list[str] = ()) -> RetrievalResult:
        record = self.gov.audit.record(
            action="retrieve", principal=principal.summary(), decision="deny", reasons=reasons,
            input_text=self._audit_query(query, self.gov.bundle), input_sha256=self._digest(query), policies=policies,
            bundle_hash=base["bundle_hash"], documents=0, duration_ms=_ms(started), correlation_id=correlation_id,
            collection=self.collection, k=base["k"], **_requested(base), **_store_ids(store_ids),
        )
        decision = RetrievalDecision(allowed=False, reasons=reasons, policies=policies, audit_id=record.event_id,
                                     store_audit_ids=list(store_ids), **base)
        if self.on_deny == "raise":
            raise RetrievalDenied(decision)
        return RetrievalResult([], decision)


def resolve_scope_keys(gov: Any, principal: Principal, entity: str, conn: Any = None,
                       resolver: Callable[[Principal, str], Any] | None = None) -> Any:
    """The keys of ``principal``'s scope on ``entity``: from ``resolver`` or ``gov.entity_scope``.

    Raises predicate.BindError (the call is denied, naming why) when the scope
    cannot be resolved: entity scopes not installed, no connection to look the
    keys up, or the scope itself denied.
    """
    try:
        result = resolver(principal, entity) if resolver is not None else gov.entity_scope(principal, entity, conn)
    except ImportError:
        raise P.BindError("scope", entity, "entity scopes are not available in this install (govern.entities)") from None
    except Denied as err:
        raise P.BindError("scope", entity, "; ".join(err.reasons)) from None
    except Exception as err:
        raise P.BindError("scope", entity, f"{type(err).__name__}: {err}") from None
    if getattr(result, "empty", False) is True and getattr(result, "keys", None) is None:
        return frozenset()  # no applicable scope: no instance, no lookup needed
    keys = P.EVERY if getattr(result, "unrestricted", False) is True else _keys_of(result)
    if keys is None:
        raise P.BindError("scope", entity, "no resolved key set (pass conn= to the retriever wrapper so the keys can be looked up)")
    if resolver is None and conn is not None:
        visible = _visible_in_sql(gov, principal, entity, result, conn)
        return visible if keys is P.EVERY else frozenset(keys) & visible
    return keys if keys is P.EVERY else frozenset(keys)


def _visible_in_sql(gov: Any, principal: Principal, entity: str, scope: Any, conn: Any) -> frozenset:
    """The entity's keys the principal sees through the SQL guard (scope AND the key table's row
    filters): a scope alone would reach customers of another tenant that SQL never shows."""
    from govern.entities.scope import sql_visible_keys

    try:
        return sql_visible_keys(gov, principal, scope, conn)
    except Denied as err:
        raise P.BindError("scope", entity, "the principal cannot read the entity's table in SQL: " + "; ".join(err.reasons)) from None


def _keys_of(result: Any):
    if result is None or result is P.EVERY:
        return result
    if isinstance(result, (set, frozenset, list)):
        return result
    if isinstance(result, dict):
        return result.get("keys")
    if isinstance(result, tuple):
        if len(result) == 2 and not isinstance(result[0], (int, str)):
            return result[1]
        return result
    for name in ("keys", "key_set", "resolved_keys", "resolved"):
        value = getattr(result, name, None)
        if value is not None and not callable(value):
            return value
    return None


def _requested(base: dict) -> dict:
    """``k_requested`` for the audit record, only when k was clamped."""
    return {"k_requested": base["k_requested"]} if base.get("k_requested") is not None else {}


def _store_ids(ids) -> dict:
    """``store_audit_ids`` for the audit record, only when the store wrote records of its own."""
    return {"store_audit_ids": json.dumps(list(ids))} if ids else {}


def _by_reason(dropped: list[tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, reason in dropped:
        counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items()))


def _summarise(dropped: list[tuple[str, str]]) -> list[str]:
    counts: dict[str, int] = {}
    for _, reason in dropped:
        counts[reason] = counts.get(reason, 0) + 1
    return [f"{n} document(s) dropped: {reason}" for reason, n in sorted(counts.items())]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def wrap_retriever(gov: Any, fn: Callable[..., Any], *, collection: str, **options: Any) -> GovernedRetriever:
    """``Governor.wrap_retriever`` / ``@gov.retriever(collection)``: see :class:`GovernedRetriever`."""
    if not callable(fn):
        raise TypeError("wrap_retriever needs a callable returning documents")
    if "k_param" not in options:
        try:
            params = inspect.signature(fn).parameters
            if "k" not in params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                options["k_param"] = None  # the callable takes no k: it returns what it returns, we cut to k
        except (TypeError, ValueError):
            pass
    return GovernedRetriever(gov, fn, collection, **options)
