"""Recognizers: Presidio's pattern recognizers (offline), govern's own, and cheap gates.

A *gate* is a C-speed test on the raw text that is true whenever the recognizer
could possibly match (a necessary condition, never a heuristic that drops true
positives): an email needs an ``@``, a phone number at least 7 digits, a card
12, an SSN 9. Recognizers whose gate is false are skipped for that text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterable

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer import predefined_recognizers as pr

from .nlp import offline_tldextract
from .settings import CustomRecognizer, PiiSettings



class _DigitCounter:
    """len(text with non-digits deleted), via str.translate (C loop)."""

    _table = str.maketrans("", "", "".join(chr(i) for i in range(128) if not chr(i).isdigit()))

    def __call__(self, text: str) -> int:
        # Non-ASCII characters survive the ASCII-only table; digits are all we count,
        # so strip what remains with a cheap filter only when needed.
        kept = text.translate(self._table)
        if kept.isascii():
            return len(kept)
        return sum(1 for c in kept if c.isdigit())


digit_count = _DigitCounter()


class OfflineEmailRecognizer(pr.EmailRecognizer):
    """Presidio's EmailRecognizer, validating the domain with the bundled suffix
    snapshot (Presidio's module-level ``tldextract.extract`` would fetch the
    public suffix list over HTTP on first use)."""

    def validate_result(self, pattern_text: str):  # noqa: D102
        return offline_tldextract()(pattern_text).fqdn != ""

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # noqa: D102
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for r in results:
            # Presidio's local-part class admits / ? = & so inside a URL the match
            # starts at the host ("example.com/u?email=ada@x.org"); an address's
            # local part practically never holds these, so start after the last one.
            at = text.find("@", r.start, r.end)
            if at > r.start:
                cut = max(text.rfind(c, r.start, at) for c in "/?=&:")
                if cut >= r.start and cut + 1 < at:
                    r.start = cut + 1
        return results


# Separators seen between card digit groups besides Presidio's "-" / " ": dots,
# slashes and the no-break spaces that copy-paste from web pages produces.
_CARD_SEPS = "./\u00a0\u202f\u2009"


class GovernCardRecognizer(pr.CreditCardRecognizer):
    """Presidio's CreditCardRecognizer (regex + Luhn) plus:

    * Mastercard's 2-series BIN range 2221-2720 (issued since 2017), which
      Presidio's regex misses;
    * groups separated by ``.``, ``/`` or a no-break / thin space, the same
      separator throughout (``4111.1111.1111.1111``; mixing them, or these
      separators in dotted numbers like versions, does not match).
    """

    _SEP = rf"(?P<sep>[{_CARD_SEPS}])"
    PATTERNS = list(pr.CreditCardRecognizer.PATTERNS) + [
        Pattern(
            "Mastercard 2-series (weak)",
            r"\b(2(?:2[2-9]\d|[3-6]\d{2}|7[01]\d|720))[- ]?(\d{4})[- ]?(\d{4})[- ]?(\d{4})\b",
            0.3,
        ),
        Pattern(
            "Cards, other separators (weak)",
            r"\b(?:4\d{3}|5[0-5]\d{2}|6\d{3}|3\d{3}|2(?:2[2-9]\d|[3-6]\d{2}|7[01]\d|720))"
            + _SEP
            + r"\d{3,4}(?P=sep)\d{3,4}(?P=sep)\d{3,5}\b",
            0.3,
        ),
    ]

    def __init__(self) -> None:
        super().__init__(
            patterns=self.PATTERNS,
            replacement_pairs=[("-", ""), (" ", "")] + [(c, "") for c in _CARD_SEPS],
        )


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class GovernIbanRecognizer(pr.IbanRecognizer):
    """Presidio's IbanRecognizer (regex + mod-97 checksum + per-country format)
    also on lower- and mixed-case input (``de89 3704 ...``, ``nl91abna...``):
    it scans the text with ASCII letters upper-cased (same offsets). The
    checksum and the country format still decide, so prose does not match."""

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # noqa: D102
        return super().analyze(text.translate(_ASCII_UPPER), entities, nlp_artifacts, regex_flags)


def _fixed_url_base() -> str:
    base = pr.UrlRecognizer.BASE_URL_REGEX
    fixed = base.replace("[.](?:(?:com)|", "[.](?:(?:biz)|(?:com)|", 1).replace(
        "(?:zw))(?:/", "(?:zw))(?![a-z0-9\\-])(?:/", 1
    )
    assert fixed != base and "(?:biz)" in fixed and "(?![a-z0-9" in fixed, "Presidio's URL regex changed"
    return fixed


class GovernUrlRecognizer(pr.UrlRecognizer):
    """Presidio's UrlRecognizer with the TLD anchored at a label boundary (Presidio
    matches `shop.bi` inside `shop.biz`) and `.biz` added to its TLD list."""

    BASE_URL_REGEX = _fixed_url_base()
    PATTERNS = [
        Pattern("Standard Url", "(?i)(?:https?://)" + BASE_URL_REGEX, 0.6),
        Pattern("Non schema URL", "(?i)" + BASE_URL_REGEX, 0.5),
        Pattern("Quoted URL", r'(?i)["\'](https?://' + BASE_URL_REGEX + r')["\']', 0.6),
        Pattern("Quoted Non-schema URL", r'(?i)["\'](' + BASE_URL_REGEX + r')["\']', 0.5),
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)


Gate = Callable[[str], bool]

_IBAN_GATE = re.compile(r"[A-Za-z]{2}\s?\d{2}")
_URL_GATE = re.compile(r"\w\.[A-Za-z]{2}")
_IP_GATE = re.compile(r"\d\.\d|:[0-9A-Fa-f]*:")


def _min_digits(n: int) -> Gate:
    return lambda text: digit_count(text) >= n


_ALWAYS: Gate = lambda text: True  # noqa: E731

# entity -> (factory(settings) -> recognizer, gate)
_BUILTINS: dict[str, tuple[Callable[[PiiSettings], EntityRecognizer], Gate]] = {
    "EMAIL_ADDRESS": (lambda s: OfflineEmailRecognizer(), lambda t: "@" in t),
    "PHONE_NUMBER": (
        lambda s: pr.PhoneRecognizer(supported_regions=tuple(s.phone_regions)),
        _min_digits(7),
    ),
    "CREDIT_CARD": (lambda s: GovernCardRecognizer(), _min_digits(12)),
    "US_SSN": (lambda s: pr.UsSsnRecognizer(), _min_digits(9)),
    "IBAN_CODE": (lambda s: GovernIbanRecognizer(), lambda t: _IBAN_GATE.search(t) is not None),
    "IP_ADDRESS": (lambda s: pr.IpRecognizer(), lambda t: _IP_GATE.search(t) is not None),
    "URL": (lambda s: GovernUrlRecognizer(), lambda t: _URL_GATE.search(t) is not None),
    "DATE_TIME": (lambda s: pr.DateRecognizer(), _min_digits(1)),
    "US_ITIN": (lambda s: pr.UsItinRecognizer(), _min_digits(9)),
    "US_PASSPORT": (lambda s: pr.UsPassportRecognizer(), _min_digits(8)),
    "US_DRIVER_LICENSE": (lambda s: pr.UsLicenseRecognizer(), _min_digits(1)),
    "US_BANK_NUMBER": (lambda s: pr.UsBankRecognizer(), _min_digits(8)),
    "UK_NHS": (lambda s: pr.NhsRecognizer(), _min_digits(10)),
    "UK_NINO": (lambda s: pr.UkNinoRecognizer(), _min_digits(6)),
    "CRYPTO": (lambda s: pr.CryptoRecognizer(), _ALWAYS),
    "MAC_ADDRESS": (lambda s: pr.MacAddressRecognizer(), _min_digits(1)),
}

BUILTIN_TYPES = frozenset(_BUILTINS)


def build_custom(rec: CustomRecognizer) -> tuple[EntityRecognizer, Gate]:
    flags = 0 if rec.case_sensitive else re.IGNORECASE
    flags |= re.MULTILINE | re.DOTALL
    if rec.regex is not None:
        r = PatternRecognizer(
            supported_entity=rec.entity,
            name=f"custom:{rec.name}",
            patterns=[Pattern(rec.name, rec.regex, rec.score)],
            context=rec.context or None,
            global_regex_flags=flags,
        )
    else:
        r = PatternRecognizer(
            supported_entity=rec.entity,
            name=f"custom:{rec.name}",
            deny_list=[w for w in rec.deny_list or [] if w.strip()],
            deny_list_score=rec.score,
            context=rec.context or None,
            global_regex_flags=flags,
        )
    return r, _ALWAYS


def build_builtins(settings: PiiSettings, entities: Iterable[str]) -> list[tuple[EntityRecognizer, Gate]]:
    out = []
    for e in entities:
        if e in _BUILTINS:
            factory, gate = _BUILTINS[e]
            out.append((factory(settings), gate))
    return out


# ---- names from structured context --------------------------------------------------
CONTEXT_NAME_RECOGNIZER = "govern:context_names"
FULL_NAME_SCORE = 1.0
NAME_PART_SCORE = 0.85


# Given names that are also everyday English words: a lower-case "will" or
# "mark" in a passage is the word, not the customer, so these match only
# capitalised (as every single name part does). English stop words are added.
_WORD_NAMES = frozenset(
    """
    al amber april art august autumn bill bob brook brooke buck bud carol chance chase chip
    christian chuck clay cliff colt coral crystal daisy dale dash dawn dean destiny dick don
    dot drew duke dusty earl ed eve faith fern florence forest frank gale gay gene ginger
    glen grace grant guy hank hazel heather herb holly homer honey hope hunter iris ivy jack
    jade jay jean jewel jimmy joy june kay king kit lance lane laurel lily lou mark mason
    max may mercy miles millie misty molly nick norm olive opal pat patience pearl penny
    pepper piper poppy prince rich river rob robin rock rod rose rosemary roy ruby rusty
    sage sandy scout skip sky sonny spencer sterling stone sue summer sunny tad tanner
    taylor ted terry tom tony trinity troy violet wade ward warren will willow win winter
    wood wren
    """.split()
)


@lru_cache(maxsize=1)
def _ambiguous_given_names() -> frozenset[str]:
    try:
        from spacy.lang.en.stop_words import STOP_WORDS
    except Exception:  # pragma: no cover - spaCy is a dependency of presidio
        STOP_WORDS = frozenset()
    return _WORD_NAMES | frozenset(w.casefold() for w in STOP_WORDS)


def _given_name(name: str) -> str | None:
    """The given name of "First [Middle] Last" or "Last, First" (None if unclear)."""
    if "," in name:
        tail = name.split(",", 1)[1].split()
        return tail[0].strip(".") if tail else None
    head = name.split()
    return head[0].strip(".") if len(head) >= 2 else None


@lru_cache(maxsize=4096)
def _name_regexes(names: tuple[str, ...]) -> tuple[re.Pattern | None, re.Pattern | None, re.Pattern | None]:
    """(full names, case-insensitive; name parts, case-sensitive & capitalised;
    given names that are not everyday words, case-insensitive)."""
    fulls, parts, givens = set(), set(), set()
    ambiguous = _ambiguous_given_names()
    for n in names:
        n = " ".join(n.split())
        if len(n) < 2:
            continue
        fulls.add(n)
        for p in re.split(r"[\s,]+", n):
            p = p.strip(".")
            # single letters / initials are too ambiguous to mask on their own
            if len(p) >= 2 and p[0].isupper():
                parts.add(p)
        g = _given_name(n)
        if g and len(g) >= 3 and g.isalpha() and g.casefold() not in ambiguous:
            givens.add(g)
    def alt(items):
        if not items:
            return None
        return "|".join(re.escape(i).replace(r"\ ", r"\s+") for i in sorted(items, key=len, reverse=True))
    full_re = re.compile(rf"(?<!\w)(?:{alt(fulls)})(?!\w)", re.IGNORECASE) if fulls else None
    part_re = re.compile(rf"(?<!\w)(?:{alt(parts)})(?!\w)") if parts else None
    # a lower-case given name only as a word of prose, not inside an address or a
    # handle ("ada.byron@...", "ann_lee", "/ann/"): those are the email's / URL's own
    given_re = (
        re.compile(rf"(?<![\w.@/\-])(?:{alt(givens)})(?![\w@/\-]|\.\w)", re.IGNORECASE) if givens else None
    )
    return full_re, part_re, given_re


def context_name_results(text: str, names: Iterable[str]) -> list[RecognizerResult]:
    """Known names of the passage (its metadata, the customer row) found in its text.

    Full names match case-insensitively (score 1.0); a single first or last name
    matches capitalised, as a whole word (score 0.85), so "will" in "I will
    call" is not the name "Will". A given name of 3+ letters that is not an
    everyday English word (a stop word or one of ``_WORD_NAMES``) also matches in
    any case ("ann's phone" for Ann Lee); surnames never do ("brown", "green").
    """
    key = tuple(sorted({n for n in names if isinstance(n, str) and n.strip()}))
    if not key:
        return []
    full_re, part_re, given_re = _name_regexes(key)
    out: list[RecognizerResult] = []
    covered: list[tuple[int, int]] = []
    meta = {
        RecognizerResult.RECOGNIZER_NAME_KEY: CONTEXT_NAME_RECOGNIZER,
        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: CONTEXT_NAME_RECOGNIZER,
    }
    if full_re is not None:
        for m in full_re.finditer(text):
            out.append(RecognizerResult("PERSON", m.start(), m.end(), FULL_NAME_SCORE, recognition_metadata=dict(meta)))
            covered.append((m.start(), m.end()))
    for rx in (part_re, given_re):
        if rx is None:
            continue
        for m in rx.finditer(text):
            if any(s <= m.start() and m.end() <= e for s, e in covered):
                continue
            out.append(RecognizerResult("PERSON", m.start(), m.end(), NAME_PART_SCORE, recognition_metadata=dict(meta)))
            covered.append((m.start(), m.end()))
    return out


# ---- overlaps between types -------------------------------------------------------------
# A finding lying inside a validated structured value of another type is a part of
# that value, not a second entity: the domain of an email is not a URL, digit
# groups of an IBAN are not a phone or a card, an IPv4 address is not a phone.
# (The container is still masked, so dropping the part never unmasks anything.)
CONTAINERS = frozenset({"EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "CREDIT_CARD"})
CONTAINED = frozenset({"URL", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "US_BANK_NUMBER", "DATE_TIME", "IP_ADDRESS"})


# Parts that *are* the container and reveal nothing beyond it: the domain of an
# email (or a dotted local part such as "mary.jo") read as a URL.
INTRINSIC_PARTS = frozenset({("EMAIL_ADDRESS", "URL")})


def split_parts_of_structured(
    results: list[RecognizerResult],
) -> tuple[list[RecognizerResult], list[tuple[RecognizerResult, list[RecognizerResult]]]]:
    """(findings, parts): parts lie inside a validated structured value of another
    type and are not findings of their own; each comes with its containers.

    The engine still needs the parts: when a container is *shown* (its type is
    revealed, or it is allow-listed) a part of a type that is not revealed is
    masked inside it (a card number as an email's local part), and a
    pseudonymised container records its parts so that reveal() masks them too.
    """
    containers = [r for r in results if r.entity_type in CONTAINERS]
    if not containers:
        return results, []
    out: list[RecognizerResult] = []
    parts: list[tuple[RecognizerResult, list[RecognizerResult]]] = []
    for r in results:
        if r.entity_type in CONTAINED:
            holders = [
                c
                for c in containers
                if c.entity_type != r.entity_type
                and c.start <= r.start
                and r.end <= c.end
                and (c.end - c.start) >= (r.end - r.start)
            ]
            if holders:
                parts.append((r, holders))
                continue
        out.append(r)
    return out, parts


def drop_parts_of_structured(results: list[RecognizerResult]) -> list[RecognizerResult]:
    return split_parts_of_structured(results)[0]
