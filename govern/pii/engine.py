"""PiiEngine: detect PII with Presidio recognizers, mask per entity type, fail closed.

Values never leave this module except inside the masked text (revealed types)
and the pseudonym vault; findings carry type, score, span and operator only,
and nothing here logs text or values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Iterable, Mapping, Sequence

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from pydantic import BaseModel, ConfigDict

from .names import NameSet, context_name_results
from .nlp import BlankSpacyNlpEngine, InstalledSpacyNlpEngine, PiiConfigError
from .normalize import View, fold, fold_str
from .recognizers import (
    BUILTIN_TYPES,
    CONTAINERS,
    INTRINSIC_PARTS,
    build_builtins,
    build_custom,
    split_parts_of_structured,
)
from .settings import (
    NER_TYPES,
    HashOp,
    PartialOp,
    PiiSettings,
    PlaceholderOp,
    PseudonymOp,
    RedactOp,
)
from .vault import PseudonymVault, VaultBackend

LANG = "en"
REVEALED = "reveal"
MIN_HASH_KEY_BYTES = 16
_TOKEN_RE = re.compile(r"<([A-Z][A-Z0-9_]*?)_(\d+)>")
# A token-like string that is not one of this call's own tokens is rewritten with
# these brackets, so reveal() can never expand text an outsider planted.
NEUTRAL_OPEN, NEUTRAL_CLOSE = "\u2039", "\u203a"  # ‹ ›
# Longer texts are detected in overlapping windows: spaCy refuses a text over
# nlp.max_length (1,000,000 characters, error E088), and NER memory grows with
# the text. A value up to CHUNK_OVERLAP characters long lies whole in a window.
NER_CHUNK_CHARS = 100_000
PATTERN_CHUNK_CHARS = 1_000_000
CHUNK_OVERLAP = 2_000


def _windows(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """[start, end) windows of at most `size` characters covering `text`, each
    overlapping the next by at least `overlap` (at most size // 4), cut at white
    space when there is some in the last quarter of a window."""
    overlap = min(overlap, size // 4)

    def last_space(a: int, b: int) -> int:
        a = max(a, 0)
        return max(text.rfind(" ", a, b), text.rfind("\n", a, b))

    out: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(start + size, len(text))
        if end < len(text):
            cut = last_space(end - size // 4, end)
            end = cut if cut > start else end
        out.append((start, end))
        if end >= len(text):
            return out
        nxt = end - overlap  # >= start + size // 2
        ws = last_space(nxt - size // 4, nxt)
        start = ws + 1 if ws > start else nxt


# A DATE / TIME entity of the model is personal data only when it names a point in
# time: a digit, a month or a weekday ("next week", "a few months ago", "years" are not).
_POINT_IN_TIME = re.compile(
    r"\d|\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\b",
    re.IGNORECASE,
)


def _names_a_time(text: str, start: int, end: int) -> bool:
    return _POINT_IN_TIME.search(text, start, end) is not None


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace the spans by spaces (offsets unchanged)."""
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def _blank_span(text: str, r: RecognizerResult) -> tuple[int, int]:
    """What the phone recognizer need not see of a structured value: all of it,
    but only the domain of an email -- a local part may be a phone number
    ("4155550132@sms.example"), which must be found as a part of the email."""
    if r.entity_type == "EMAIL_ADDRESS":
        at = text.find("@", r.start, r.end)
        if at >= 0:
            return at, r.end
    return r.start, r.end


def _neutralise_tokens(text: str, own: set[tuple[int, int]]) -> tuple[str, int]:
    """Rewrite token-like strings that are not this call's own tokens:
    `<EMAIL_ADDRESS_1>` -> `‹EMAIL_ADDRESS_1›` (same length); returns (text, count)."""
    if "<" not in text:
        return text, 0
    chars: list[str] | None = None
    n = 0
    for m in _TOKEN_RE.finditer(text):
        if (m.start(), m.end()) in own:
            continue
        if chars is None:
            chars = list(text)
        chars[m.start()] = NEUTRAL_OPEN
        chars[m.end() - 1] = NEUTRAL_CLOSE
        n += 1
    return ("".join(chars), n) if chars is not None else (text, 0)


def _with_parts_masked(original: str, parts) -> str:
    """`original` with the given (type, start, end, replacement) spans replaced;
    overlapping spans merge, the widest one's replacement stands for the run."""
    if not parts:
        return original
    out: list[str] = []
    pos = 0
    run: list = []
    run_end = -1

    def flush():
        nonlocal pos
        a = min(p[1] for p in run)
        b = max(p[2] for p in run)
        widest = max(run, key=lambda p: p[2] - p[1])
        out.append(original[pos:a])
        out.append(widest[3])
        pos = b

    for p in sorted(parts, key=lambda p: (p[1], -(p[2] - p[1]))):
        if run and p[1] < run_end:
            run.append(p)
            run_end = max(run_end, p[2])
        else:
            if run:
                flush()
            run, run_end = [p], p[2]
    if run:
        flush()
    out.append(original[pos:])
    return "".join(out)


class _InPlaceContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's lemma context enhancer without its deep copy of all results,
    applied to the given results only (same scoring rule)."""

    def enhance_in_place(self, text, results, nlp_artifacts, recognizers_by_id) -> None:
        for result in results:
            md = result.recognition_metadata or {}
            rec = recognizers_by_id.get(md.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if rec is None or not rec.context or md.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            words = self._extract_surrounding_words(
                nlp_artifacts=nlp_artifacts, word=text[result.start : result.end], start=result.start
            )
            if self._find_supportive_word_in_context(words, rec.context, self.context_matching_mode):
                result.score = min(
                    max(result.score + self.context_similarity_factor, self.min_score_with_context_similarity),
                    self.MAX_SCORE,
                )
                md[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True


class Finding(BaseModel):
    """One detected PII span. Never holds the value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    score: float
    start: int  # span in the *input* text
    end: int
    operator: str  # placeholder | redact | partial | hash | pseudonym | reveal
    below_threshold: bool = False


class MaskedText(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    findings: list[Finding]
    needs_review: bool
    counts: dict[str, int]  # findings per entity type (masked or revealed)
    neutralised_tokens: int = 0  # token-like strings of the input rewritten <X_1> -> ‹X_1›

    @property
    def masked_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            if f.operator != REVEALED:
                out[f.type] = out.get(f.type, 0) + 1
        return out

    @property
    def below_threshold(self) -> int:
        return sum(1 for f in self.findings if f.below_threshold)


def canonical(entity: str, value: str) -> str:
    """Form used for hashing and pseudonym identity: formatting (and the Unicode
    variant of a digit, dash or accented letter) does not matter."""
    value = fold_str(value)
    if entity in ("PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "US_ITIN", "US_BANK_NUMBER", "UK_NHS"):
        return re.sub(r"[^0-9A-Za-z+]", "", value).upper()
    return " ".join(value.split()).casefold()


class PiiEngine:
    """Detect and mask PII per the bundle's `pii:` settings.

    :param settings: validated :class:`PiiSettings`.
    :param hash_key: secret for the `hash` operator (HMAC-SHA256; bytes, or str
        taken as UTF-8); required (>= 16 bytes) when any operator is `hash`.
    :param vault: the pseudonym vault backend; default: per ``pii.vault.backend``
        (in memory, or PostgreSQL with its DSN and secret from the environment).
    """

    def __init__(
        self,
        settings: PiiSettings,
        hash_key: bytes | str | None = None,
        *,
        clock=None,
        vault: VaultBackend | None = None,
        _gates: bool = True,
        _blank_structured: bool = True,
        _context_all: bool = False,
    ) -> None:
        self.settings = settings
        if isinstance(hash_key, str):
            hash_key = hash_key.encode("utf-8")
        hashed = [k for k, op in settings.operators.items() if isinstance(op, HashOp)]
        if hashed:
            if not hash_key:
                raise PiiConfigError(
                    f"pii.operators uses `hash` for {', '.join(hashed)} but no hash key was given; "
                    "set the key (settings.hash_key_env) -- govern refuses to hash without a secret"
                )
            if len(hash_key) < MIN_HASH_KEY_BYTES:
                raise PiiConfigError(f"the PII hash key must be at least {MIN_HASH_KEY_BYTES} bytes")
        self._hash_key = bytes(hash_key) if hash_key else None

        entities = settings.all_entities()
        self.entities: frozenset[str] = frozenset(entities)
        custom_types = {r.entity for r in settings.custom_recognizers}
        self.ner = settings.nlp_model is not None
        unsupported = [
            e
            for e in entities
            if e not in BUILTIN_TYPES
            and e not in custom_types
            and e != "PERSON"
            and not (self.ner and e in NER_TYPES)
        ]
        if unsupported:
            need_ner = [e for e in unsupported if e in NER_TYPES]
            raise PiiConfigError(
                f"pii.entities has types no recognizer detects in this mode: {unsupported}"
                + (f" ({need_ner} need NER mode: set pii.nlp_model)" if need_ner else "")
                + "; add a custom recognizer or remove them"
            )

        # NLP engine: tokenizer-only blank pipeline, or an installed model (never downloaded)
        self.nlp_engine = InstalledSpacyNlpEngine(settings.nlp_model) if self.ner else BlankSpacyNlpEngine()
        self.nlp_engine.load()

        pairs = build_builtins(settings, entities)
        pairs += [build_custom(r) for r in settings.custom_recognizers]
        self._spacy: SpacyRecognizer | None = None
        if self.ner:
            ner_entities = sorted(self.entities & NER_TYPES)
            if ner_entities:
                self._spacy = SpacyRecognizer(supported_entities=ner_entities)
                pairs.append((self._spacy, lambda t: True))
            # names and places the words around them give away (cues.py), beside the model
            from .cues import CuedNameRecognizer, CuedPlaceRecognizer, cue_gate

            if "PERSON" in self.entities:
                pairs.append((CuedNameRecognizer(), cue_gate))
            if "LOCATION" in self.entities:
                pairs.append((CuedPlaceRecognizer(), cue_gate))
        for rec, _ in pairs:
            rec.load()
            rec.is_loaded = True
        self._recognizers: list[tuple[EntityRecognizer, object, list[str]]] = [
            (rec, gate, [e for e in rec.supported_entities if e in self.entities]) for rec, gate in pairs
        ]
        self._by_id = {rec.id: rec for rec, _, _ in self._recognizers}
        self._enhancer = _InPlaceContextEnhancer()
        # structured recognizers run before the phone recognizer (see analyze)
        self._recognizers.sort(key=lambda t: t[0].supported_entities[0] == "PHONE_NUMBER")
        self._phone = next((r for r, _, _ in self._recognizers if "PHONE_NUMBER" in r.supported_entities), None)
        self._gates = _gates
        self._blank_structured = _blank_structured
        self._context_all = _context_all
        self._allow = frozenset(settings.allow_list)
        self._chunk = NER_CHUNK_CHARS if self.ner else PATTERN_CHUNK_CHARS
        if vault is not None:
            self.vault: VaultBackend = vault
        elif settings.vault.backend == "postgresql":
            from .vault_pg import vault_from_settings

            self.vault = vault_from_settings(settings.vault, clock)
        else:
            self.vault = PseudonymVault(settings.vault, **({"clock": clock} if clock else {}))

    def __repr__(self) -> str:
        mode = f"ner:{self.settings.nlp_model}" if self.ner else "pattern"
        return f"<PiiEngine mode={mode} entities={sorted(self.entities)}>"

    # ---- detection --------------------------------------------------------------------
    def analyze(
        self,
        text: str,
        context: Mapping | None = None,
        nlp_artifacts: NlpArtifacts | None = None,
        known_names: NameSet | None = None,
    ) -> list[RecognizerResult]:
        """Presidio results for the configured entity types (no threshold applied).

        Detection runs on the text's folded view (normalize.py: dashes, spaces,
        fullwidth digits, accents, zero-width characters) and the spans are
        mapped back: every offset refers to ``text``. ``nlp_artifacts``, when
        given, must be those of ``fold(text).text``.

        Values lying inside a structured value of another type (a card number as
        an email's local part) are parts of it, not findings; see :meth:`mask`.

        Cost savers (each measured in benchmarks/bench_pii.py --ablation):
        * only recognizers for configured types run, phone regions as configured;
        * per-recognizer gates skip recognizers that cannot match the text;
        * validated structured values (emails, IBANs, IPs, cards) found first are
          blanked out before the phone recognizer runs, so libphonenumber does not
          try to verify their digit groups (such parts are dropped anyway);
        * context words are looked up only for findings below their threshold,
          the only ones whose masking decision they can change, and the text is
          tokenized only then (pattern mode).
        """
        return self._detect(text, context, nlp_artifacts, known_names)[0]

    def _detect(
        self,
        text: str,
        context: Mapping | None,
        nlp_artifacts: NlpArtifacts | None,
        known_names: NameSet | None = None,
        view: View | None = None,
    ):
        """(findings, parts, allow-listed values) -- parts: see split_parts_of_structured.
        Spans are in ``text``; detection ran on its folded view."""
        view = view or fold(text)
        if len(view.text) > self._chunk:
            results = []
            for a, b in _windows(view.text, self._chunk, CHUNK_OVERLAP):
                for r in self._recognize(view.text[a:b], context, None, known_names):
                    r.start, r.end = r.start + a, r.end + a
                    results.append(r)
        else:
            results = self._recognize(view.text, context, nlp_artifacts, known_names)
        if view.kept is not None:
            for r in results:
                r.start, r.end = view.span(r.start, r.end)
        results = [r for r in results if r.entity_type in self.entities and r.score > 0]
        results, parts = split_parts_of_structured(EntityRecognizer.remove_duplicates(results))
        allowed: set[int] = set()
        if self._allow:
            # an allow-listed value is shown as is; its parts are still masked (see _apply)
            allowed = [r for r in results if text[r.start : r.end] in self._allow]
            if allowed:
                results = [r for r in results if text[r.start : r.end] not in self._allow]
            parts = [(p, cs) for p, cs in parts if text[p.start : p.end] not in self._allow]
        return results, parts, allowed

    def _recognize(
        self, text: str, context: Mapping | None, nlp_artifacts: NlpArtifacts | None, known_names: NameSet | None
    ) -> list[RecognizerResult]:
        """Every recognizer's results on ``text`` (a folded view), scores context-enhanced."""
        if self.ner and nlp_artifacts is None:
            nlp_artifacts = self.nlp_engine.process_text(text, LANG)
        results: list[RecognizerResult] = []
        scan = text
        for rec, gate, ents in self._recognizers:
            if rec is self._phone and self._blank_structured and results:
                spans = [_blank_span(text, r) for r in results if r.entity_type in CONTAINERS]
                if spans:
                    scan = _blank(text, spans)
            if self._gates and not gate(scan):
                continue
            found = rec.analyze(text=scan, entities=ents, nlp_artifacts=nlp_artifacts)
            if found and rec is self._spacy:
                found = [r for r in found if r.entity_type != "DATE_TIME" or _names_a_time(text, r.start, r.end)]
            if found:
                for r in found:
                    md = r.recognition_metadata
                    if md is None:
                        r.recognition_metadata = md = {}
                    md.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, rec.id)
                    md.setdefault(RecognizerResult.RECOGNIZER_NAME_KEY, rec.name)
                results.extend(found)
        if results:
            th = self.settings.threshold
            todo = [
                r
                for r in results
                if (self._context_all or r.score < th(r.entity_type))
                and self._by_id.get(r.recognition_metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY)) is not None
                and self._by_id[r.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY]].context
            ]
            if todo:
                if nlp_artifacts is None:  # tokenize lazily: only texts that need context pay
                    nlp_artifacts = self.nlp_engine.process_text(text, LANG)
                self._enhancer.enhance_in_place(text, todo, nlp_artifacts, self._by_id)
        if self.settings.context_names and "PERSON" in self.entities:
            names = (context.get("names") or ()) if context else ()
            if names:
                results.extend(context_name_results(text, names))
            if known_names:
                results.extend(context_name_results(text, known_names))
        return results

    # ---- masking ----------------------------------------------------------------------
    def mask(
        self,
        text: str,
        reveal: Iterable[str] = frozenset(),
        context: Mapping | None = None,
        conversation: str | None = None,
        known_names: NameSet | None = None,
        *,
        _artifacts: NlpArtifacts | None = None,
        _view: View | None = None,
        _numbering: tuple[dict, dict] | None = None,
    ) -> MaskedText:
        """Mask what ``reveal`` does not show.

        ``known_names``: names known to belong to people, found like context
        names in every text (see :func:`govern.pii.names.name_set`, strict sets
        for names read from a table: ``pii.name_sources``).

        * fail closed: a finding is shown only if its type is revealed and its
          score reaches the threshold; overlapping masked findings merge;
        * a shown value (revealed or allow-listed) never carries a value of a
          type that is not revealed: parts of another type inside it are masked
          (except an email's own domain read as a URL);
        * a pseudonymised value remembers such parts, and reveal() masks them
          unless their type is granted too;
        * token-like strings of the input (``<EMAIL_ADDRESS_1>``) are rewritten
          ``‹EMAIL_ADDRESS_1›`` and counted in ``neutralised_tokens``, so
          reveal() never expands a token the text brought along.
        """
        if not isinstance(text, str):
            raise TypeError("mask() expects str")
        reveal = frozenset(reveal)
        results, parts, allowed = (
            self._detect(text, context, _artifacts, known_names, _view) if text else ([], [], [])
        )
        return self._apply(text, results, parts, allowed, reveal, conversation, _numbering)

    def mask_many(
        self,
        texts: Sequence[str],
        reveal: Iterable[str] = frozenset(),
        contexts: Sequence[Mapping | None] | None = None,
        conversation: str | None = None,
        known_names: NameSet | None = None,
        *,
        one_result: bool = True,
    ) -> list[MaskedText]:
        """Mask many passages; in NER mode spaCy runs them as one batch (nlp.pipe).

        ``one_result`` (default): the texts are one result (the cells of a query
        result, the passages of one retrieval), so placeholders are numbered
        across all of them: the same value gets the same ``<TYPE_N>`` in every
        text, different values different ones. ``False`` numbers each text on
        its own, as :meth:`mask` does. With a ``conversation`` the vault numbers
        them across the whole conversation either way.
        """
        reveal = frozenset(reveal)
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError("contexts must be as long as texts")
        ctxs = contexts if contexts is not None else [None] * len(texts)
        for t in texts:
            if not isinstance(t, str):
                raise TypeError("mask() expects str")
        views = [fold(t) for t in texts]
        arts: list[NlpArtifacts | None] = [None] * len(texts)
        if self.ner and len(texts) > 1:
            # long texts are processed in windows by mask() itself
            batch = [i for i, v in enumerate(views) if v.text and len(v.text) <= self._chunk]
            done = self.nlp_engine.process_batch([views[i].text for i in batch], LANG, batch_size=64)
            for i, (_, a) in zip(batch, done):
                arts[i] = a
        shared: tuple[dict, dict] | None = ({}, {}) if one_result else None
        return [
            self.mask(t, reveal, c, conversation, known_names, _artifacts=a, _view=v, _numbering=shared)
            for t, c, a, v in zip(texts, ctxs, arts, views)
        ]

    def reveal(self, text: str, conversation: str, reveal: Iterable[str] = frozenset()) -> str:
        """Restore pseudonyms of `conversation` in `text`, only for the granted types."""
        granted = frozenset(reveal)
        if not granted or not conversation:
            return text

        def sub(m: re.Match) -> str:
            if m.group(1) not in granted:
                return m.group(0)
            hit = self.vault.lookup(conversation, m.group(0))
            if hit is None or hit[0] not in granted:
                return m.group(0)
            return _with_parts_masked(hit[1], [p for p in hit[2] if p[0] not in granted])

        return _TOKEN_RE.sub(sub, text)

    def _apply(
        self,
        text: str,
        results: list[RecognizerResult],
        parts: list[tuple[RecognizerResult, list[RecognizerResult]]],
        allowed: list[RecognizerResult],
        reveal: frozenset[str],
        conversation: str | None,
        shared_numbering: tuple[dict, dict] | None = None,
    ) -> MaskedText:
        s = self.settings
        th = s.threshold
        masked: list[RecognizerResult] = []
        needs_review = False
        counts: dict[str, int] = {}
        op_of: dict[int, str] = {}
        shown = {id(r) for r in allowed}  # values that stay in the text as they are
        for r in results:
            below = r.score < th(r.entity_type)
            needs_review |= below
            counts[r.entity_type] = counts.get(r.entity_type, 0) + 1
            if r.entity_type in reveal and not below:
                op_of[id(r)] = REVEALED
                shown.add(id(r))
            else:
                masked.append(r)
        # a shown value must not carry a value of a type that is not shown: its parts
        # of other types become masked findings (a card as an email's local part)
        findings_src = list(results)
        if parts and shown:
            for p, holders in parts:
                if p.entity_type in reveal and p.score >= th(p.entity_type):
                    continue
                if any(id(c) in shown and (c.entity_type, p.entity_type) not in INTRINSIC_PARTS for c in holders):
                    needs_review |= p.score < th(p.entity_type)
                    counts[p.entity_type] = counts.get(p.entity_type, 0) + 1
                    masked.append(p)
                    findings_src.append(p)
        masked.sort(key=lambda r: (r.start, -(r.end - r.start)))
        # merge overlapping masked spans; the widest (then highest-scoring) finding decides
        groups: list[list[RecognizerResult]] = []
        end = -1
        for r in masked:
            if groups and r.start < end:
                groups[-1].append(r)
                end = max(end, r.end)
            else:
                groups.append([r])
                end = r.end
        out: list[str] = []
        pos = 0
        out_len = 0
        own_tokens: set[tuple[int, int]] = set()  # (start, end) in the output of tokens made here
        numbering: dict[tuple[str, str], str]
        per_type: dict[str, int]
        numbering, per_type = shared_numbering if shared_numbering is not None else ({}, {})
        inner = [*results, *(p for p, _ in parts), *allowed] if conversation else []
        for g in groups:
            start, stop = min(r.start for r in g), max(r.end for r in g)
            primary = max(g, key=lambda r: (r.end - r.start, r.score))
            ent = primary.entity_type
            op = s.operator(ent)
            value = text[start:stop]
            vparts: tuple = ()
            if isinstance(op, PseudonymOp) and conversation:
                vparts = self._vault_parts(text, ent, start, stop, inner, conversation)
            rep_ = self._replace(op, ent, value, conversation, numbering, per_type, vparts)
            chunk = text[pos:start]
            out.append(chunk)
            out_len += len(chunk)
            out.append(rep_)
            if isinstance(op, (PseudonymOp, PlaceholderOp)):
                own_tokens.add((out_len, out_len + len(rep_)))
            out_len += len(rep_)
            pos = stop
            for r in g:
                op_of[id(r)] = op.operator
        out.append(text[pos:])
        masked_text, neutralised = _neutralise_tokens("".join(out), own_tokens)
        findings = [
            Finding(
                type=r.entity_type,
                score=round(float(r.score), 4),
                start=r.start,
                end=r.end,
                operator=op_of[id(r)],
                below_threshold=r.score < th(r.entity_type),
            )
            for r in sorted(findings_src, key=lambda r: (r.start, r.end, r.entity_type))
        ]
        return MaskedText(
            text=masked_text,
            findings=findings,
            needs_review=needs_review,
            counts=counts,
            neutralised_tokens=neutralised,
        )

    def _vault_parts(self, text, ent, start, stop, inner, conversation) -> tuple:
        """Values of other types inside text[start:stop] (clipped), with the
        replacement reveal() puts there unless their type is granted too."""
        out = []
        for r in inner:
            t = r.entity_type
            if t == ent or (ent, t) in INTRINSIC_PARTS or r.end <= start or r.start >= stop:
                continue
            a, b = max(r.start, start), min(r.end, stop)
            out.append((t, a - start, b - start, self._part_replacement(t, text[r.start : r.end], conversation)))
        return tuple(out)

    def _part_replacement(self, ent: str, value: str, conversation: str) -> str:
        op = self.settings.operator(ent)
        if isinstance(op, PlaceholderOp):
            return f"<{ent}>"  # no per-text number: it is shown in another text
        return self._replace(op, ent, value, conversation, {}, {})

    def _replace(self, op, ent: str, value: str, conversation: str | None, numbering, per_type, parts=()) -> str:
        if isinstance(op, RedactOp):
            return op.replacement
        if isinstance(op, PartialOp):
            v = value.strip()
            if op.keep_last == 0 or len(v) <= op.keep_last * 2:
                return op.prefix  # too short: keeping N would reveal too much of it
            return op.prefix + v[-op.keep_last :]
        if isinstance(op, HashOp):
            assert self._hash_key is not None
            digest = hmac.new(self._hash_key, f"{ent}\x00{canonical(ent, value)}".encode(), hashlib.sha256)
            return f"<{ent}:{digest.hexdigest()[: op.length]}>"
        key = (ent, canonical(ent, value))
        if conversation:
            # numbered across the conversation; a placeholder is numbered alike but never revealed
            return self.vault.token_for(
                conversation, ent, key[1], value, parts, revealable=isinstance(op, PseudonymOp)
            )
        # without a conversation: numbered within this text (or this result, see mask_many)
        assert isinstance(op, (PlaceholderOp, PseudonymOp))
        tok = numbering.get(key)
        if tok is None:
            per_type[ent] = per_type.get(ent, 0) + 1
            tok = numbering[key] = f"<{ent}_{per_type[ent]}>"
        return tok
