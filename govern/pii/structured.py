"""Recognizers for structured values: Presidio's, widened to the formats people really write.

They all run on the detection view of the text (normalize.py): en dashes,
no-break spaces, fullwidth digits and zero-width characters are already
ASCII there, so these only deal with ASCII separators and boundaries.
"""

from __future__ import annotations

import ipaddress
import re

import phonenumbers
from phonenumbers import Leniency

from presidio_analyzer import EntityRecognizer, Pattern, RecognizerResult
from presidio_analyzer import predefined_recognizers as pr

from .nlp import offline_tldextract
from .normalize import unconfuse


def _result(rec: EntityRecognizer, start: int, end: int, score: float) -> RecognizerResult:
    return RecognizerResult(
        rec.supported_entities[0],
        start,
        end,
        score,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: rec.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id,
        },
    )


# A word that makes the dotted number after it a version, not an address or a card.
_VERSION_BEFORE = re.compile(r"(?i)(?:\bv|\bver|version|release|build|firmware|\bfw)[\s.:]*$")


def _after_version_word(text: str, start: int) -> bool:
    return _VERSION_BEFORE.search(text, max(0, start - 12), start) is not None


def _free(results: list[RecognizerResult], start: int, end: int) -> bool:
    return not any(r.start < end and start < r.end for r in results)


# ---- email --------------------------------------------------------------------------------
# Intranet / reserved names with no public suffix: Active Directory domains
# (corp.local), cloud-internal names, RFC 2606/6761 names, home routers.
INTERNAL_SUFFIXES = frozenset(
    "local localdomain localhost internal intranet lan home corp private test example invalid".split()
)
# A written-out or encoded "@": ann.lee%40example.com (URL-encoded), &#64; / &#x40;
# (HTML), \u0040 / \x40 (JSON, code), =40 (quoted-printable), " @ ", (at), [at],
# and " at " (only with a local part that cannot be a plain word, see below).
_AT = r"(?:[ \t]*@[ \t]*|%40|&\#0*64;|&\#x0*40;|\\u0040|\\x40|=40|\s*[(\[{]\s*at\s*[)\]}]\s*|\s+at\s+)"
_DOT = r"(?:[ \t]*\.|\s*[(\[{]\s*dot\s*[)\]}]\s*|\s+dot\s+)"
_LOCAL = r"(?:[\w+-]+(?:\s+dot\s+[\w+-]+)+|[\w+-]+(?:\.[\w+-]+)*)"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?<![\w.+-])(?P<local>{_LOCAL})(?P<at>{_AT})(?P<domain>\[[0-9a-f:.]+\]|[\w-]+(?:{_DOT}[\w-]+)*)(?![\w-])",
    re.IGNORECASE,
)
_DOT_SPLIT = re.compile(_DOT, re.IGNORECASE)
# An "@" other than a plain one: encoded, bracketed, or " at " before a dotted domain.
_OTHER_AT = re.compile(
    r"%40|&#|\\u0040|\\x40|=40|[(\[{]\s*at\s*[)\]}]|\sat\s+[\w-]+(?:[ \t]*\.|\s*[(\[{]\s*dot|\s+dot\s)",
    re.IGNORECASE,
)


def email_gate(text: str) -> bool:
    return "@" in text or _OTHER_AT.search(text) is not None


def _positions(text: str, char: str):
    i = text.find(char)
    while i >= 0:
        yield i
        i = text.find(char, i + 1)


def valid_domain(labels: list[str]) -> bool:
    """A domain an address can live on: a public suffix (tldextract's bundled
    snapshot), an intranet name (corp.local, localhost), or an IP literal."""
    if not labels or not all(labels):
        return False
    if len(labels) == 1 and labels[0].startswith("["):
        try:
            ipaddress.ip_address(labels[0][1:-1].removeprefix("IPv6:").removeprefix("ipv6:"))
            return True
        except ValueError:
            return False
    if len(labels) == 4 and all(label.isdigit() for label in labels):
        return all(int(label) < 256 for label in labels)
    domain = ".".join(labels)
    # a Cyrillic "о" in "example.cоm" is still the .com address
    candidates = [domain] if domain.isascii() else [domain, unconfuse(domain)]
    for candidate in candidates:
        tld = candidate.rsplit(".", 1)[-1].casefold()
        if tld in INTERNAL_SUFFIXES or (len(labels) > 1 and offline_tldextract()(candidate).fqdn != ""):
            return True
    return False


class GovernEmailRecognizer(pr.EmailRecognizer):
    """Presidio's EmailRecognizer, offline (the domain is checked against
    tldextract's bundled snapshot; Presidio's module-level ``tldextract.extract``
    would fetch the public suffix list over HTTP on first use), plus:

    * addresses on intranet domains (``ann@corp.local``, ``user@localhost``) and
      IP literals (``ann@10.0.0.5``), which have no public suffix;
    * an encoded or written-out ``@`` or ``.`` (``ann.lee%40example.com``,
      ``ann.lee&#64;example.com``, ``ann.lee(at)example.com``, ``ann.lee @ example .com``,
      ``jane dot doe at example dot com``): the whole address is the finding, so the
      local part (usually the person's name) is not left beside a masked domain.
    """

    def validate_result(self, pattern_text: str):  # noqa: D102
        domain = pattern_text.rsplit("@", 1)[-1]
        return valid_domain(domain.split("."))

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
        # the wider scan only where it can add something: an "@" no address found
        # covers, or another form of "@"
        loose_at = any(_free(results, i, i + 1) for i in _positions(text, "@"))
        if loose_at or _OTHER_AT.search(text):
            for m in _OBFUSCATED_EMAIL.finditer(text):
                if _free(results, m.start(), m.end()) and self._plausible(m):
                    results.append(_result(self, m.start(), m.end(), 0.5))
        return results

    @staticmethod
    def _plausible(m: re.Match) -> bool:
        at, local = m.group("at"), m.group("local")
        labels = [label.strip() for label in _DOT_SPLIT.split(m.group("domain"))]
        if len(labels) == 1 and not labels[0].startswith("[") and at != "@":
            return False  # "meet @ home": a bare intranet host only right after a plain "@"
        if at.strip().casefold() == "at":
            # "work at acme.com" is prose: a spelled-out " at " needs a local part
            # no word has (ann.lee, ann_lee, ann+x, ann2) and a dotted domain
            if not re.search(r"[._+\d]|\sdot\s", local, re.IGNORECASE) or len(labels) < 2:
                return False
        return valid_domain(labels)


OfflineEmailRecognizer = GovernEmailRecognizer  # the name it had before


# ---- payment cards --------------------------------------------------------------------------
# Separators seen between card digit groups besides Presidio's "-" / " ": dots,
# slashes and the no-break spaces that copy-paste from web pages produces.
_CARD_SEPS = "./\u00a0\u202f\u2009"
# A digit run with any separators (space, tab, line break, "-", ".", "_", up to
# three of them: "4111 - 1111"), not glued to other digits or a "+" (a phone's
# country code); letters and "_" may touch it ("card4111...", "id_4111...").
_CARD_RUN = re.compile(r"(?<![\d+])\d+(?:[ \t\r\n._-]{1,3}\d+)*(?!\d)")


def luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = ord(d) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


# Issuer identification ranges and PAN lengths of the card networks (ISO/IEC 7812
# IINs as the networks publish them): (first, last prefix of equal length, lengths).
_L16_19 = frozenset(range(16, 20))
_L12_19 = frozenset(range(12, 20))
CARD_NETWORKS: tuple[tuple[str, str, str, frozenset[int]], ...] = (
    ("Visa", "4", "4", frozenset({13, 16, 17, 18, 19})),
    ("Mastercard", "51", "55", frozenset({16})),
    ("Mastercard 2-series", "2221", "2720", frozenset({16})),
    ("American Express", "34", "34", frozenset({15})),
    ("American Express", "37", "37", frozenset({15})),
    ("Discover", "6011", "6011", _L16_19),
    ("Discover", "644", "649", _L16_19),
    ("Discover", "65", "65", _L16_19),
    ("UnionPay", "62", "62", _L16_19),
    ("UnionPay", "81", "81", _L16_19),
    ("JCB", "35", "35", frozenset({15, 16, 17, 18, 19})),  # 3528-3589 issued; test generators use all of 35
    ("JCB (15)", "1800", "1800", frozenset({15})),
    ("JCB (15)", "2131", "2131", frozenset({15})),
    ("Diners Club", "300", "305", frozenset({14, 16, 17, 18, 19})),
    ("Diners Club", "3095", "3095", frozenset({14, 16, 17, 18, 19})),
    ("Diners Club", "36", "36", frozenset({14, 15, 16, 17, 18, 19})),
    ("Diners Club", "38", "39", frozenset({14, 16, 17, 18, 19})),
    ("Maestro", "50", "50", _L12_19),
    ("Maestro", "56", "69", _L12_19),
    ("Maestro", "0604", "0604", _L12_19),  # listed for Maestro UK; Faker generates it
    ("Mir", "2200", "2204", _L16_19),
    ("RuPay", "60", "60", frozenset({16})),
    ("RuPay", "508", "508", frozenset({16})),
    ("RuPay", "82", "82", frozenset({16})),
    ("Verve", "506099", "506198", frozenset({16, 18, 19})),
    ("Verve", "507865", "507964", frozenset({16, 18, 19})),
    ("Troy", "9792", "9792", frozenset({16})),
    ("UATP", "1", "1", frozenset({15})),
    ("UzCard", "8600", "8600", frozenset({16})),
    ("Humo", "9860", "9860", frozenset({16})),
    ("BORICA", "2205", "2205", frozenset({16})),
)
# Lengths and networks that random digit runs reach too often (a 12- or 13-digit id
# is Luhn-valid one time in ten; a 15-digit number starting with 1 is UATP-shaped):
# a card only with a card word near it.
_NEEDS_CONTEXT_LENGTHS = frozenset({12, 13})
_NEEDS_CONTEXT_NETWORKS = frozenset({"UATP"})
CARD_CONTEXT = frozenset(
    """card cards credit debit prepaid visa mastercard master amex maestro jcb discover diners unionpay
    mir rupay verve troy uatp cc pan payment pay paid charge charged billing cvv cvc expiry exp expires""".split()
)


def card_network(digits: str) -> str | None:
    """The network whose IIN range and PAN length ``digits`` fits, else None."""
    n = len(digits)
    for name, lo, hi, lengths in CARD_NETWORKS:
        if n in lengths and lo <= digits[: len(lo)] <= hi:
            return name
    return None


def _plausible_pan(digits: str) -> bool:
    return card_network(digits) is not None


def card_needs_context(digits: str) -> bool:
    net = card_network(digits)
    return len(digits) in _NEEDS_CONTEXT_LENGTHS and not (net == "Visa" and len(digits) == 13) or net in _NEEDS_CONTEXT_NETWORKS


def card_context(text: str, start: int) -> bool:
    """A card word among the eight words before ``start``."""
    return any(w.lower() in CARD_CONTEXT for w in _WORDS.findall(text[max(0, start - 80) : start])[-8:])


_WORDS = re.compile(r"[A-Za-z]+")


def card_run(run: str) -> bool:
    """A separated digit run that is a card number: 12-19 digits, Luhn-valid, a
    network's prefix and length, and card-like groups -- one run, or a first group of 2 or 4
    digits ("4111 1111 ...", "4111-111111-111111", "41 11 11 ..."), no single-digit
    group but the last ("5018 1234 5678 9012 5"), and no group of 1-3 digits
    next to a dot (IP addresses and versions are dotted short groups)."""
    groups = re.findall(r"\d+", run)
    digits = "".join(groups)
    if not 12 <= len(digits) <= 19 or not _plausible_pan(digits) or not luhn(digits):
        return False
    if len(groups) == 1:
        return True
    if len(groups[0]) not in (2, 4) or any(len(g) < 2 for g in groups[:-1]):
        return False
    if "." in run:
        for m in re.finditer(r"\d+", run):
            near_dot = run[m.start() - 1 : m.start()] == "." or run[m.end() : m.end() + 1] == "."
            if near_dot and len(m.group()) < 4:
                return False
    return True


class GovernCardRecognizer(pr.CreditCardRecognizer):
    """Presidio's CreditCardRecognizer (regex + Luhn) plus:

    * Mastercard's 2-series BIN range 2221-2720 (issued since 2017), which
      Presidio's regex misses;
    * groups separated by ``.``, ``/`` or a no-break / thin space, the same
      separator throughout (``4111.1111.1111.1111``);
    * any other card-like run (:func:`card_run`): mixed or repeated separators,
      tabs and line breaks (``4111 - 1111 - ...``, wrapped text, TSV), 4-6-6 and
      2-digit groups, 17-19 digit PANs, digits run into letters or ``_``
      (``cardnumber4111...exp1227``).
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

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # noqa: D102
        results = [
            r
            for r in super().analyze(text, entities, nlp_artifacts, regex_flags)
            if self._network_fits(text, r.start, re.sub(r"\D", "", text[r.start : r.end]))
        ]
        for m in _CARD_RUN.finditer(text):
            if "." in m.group() and _after_version_word(text, m.start()):
                continue  # "version 4111.1111.1111-1111"
            if _free(results, m.start(), m.end()) and card_run(m.group()):
                if self._network_fits(text, m.start(), re.sub(r"\D", "", m.group())):
                    results.append(_result(self, m.start(), m.end(), EntityRecognizer.MAX_SCORE))
        return results

    @staticmethod
    def _network_fits(text: str, start: int, digits: str) -> bool:
        """A network's prefix and length; the short, ambiguous ones with a card word."""
        if card_network(digits) is None:
            return False
        return not card_needs_context(digits) or card_context(text, start)


# ---- US SSN -----------------------------------------------------------------------------
class GovernSsnRecognizer(pr.UsSsnRecognizer):
    """Presidio's UsSsnRecognizer (same invalid areas / groups / samples), plus
    3-2-4 groups separated by ``/``, ``_``, a line break or a spaced dash
    (``536 - 22 - 1234``), the same separator twice, and digits run into letters
    (``ssn536-22-1234``, ``536-22-1234x``). Presidio's 5-4 pattern is left out:
    that is the ZIP+4 shape (``94107-1234``), not an SSN's."""

    PATTERNS = [p for p in pr.UsSsnRecognizer.PATTERNS if p.name != "SSN1 (very weak)"] + [
        Pattern(
            "SSN, any separator (medium)",
            r"(?<!\d)\d{3}(?P<sep>[ \t]*[-./_][ \t]*|[ \t\r\n]+)\d{2}(?P=sep)\d{4}(?!\d)",
            0.5,
        )
    ]
    _SAMPLES = frozenset({"123456789", "987654320", "078051120"})

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def invalidate_result(self, pattern_text: str) -> bool:  # noqa: D102
        if len(set(re.findall(r"\D+", pattern_text))) > 1:
            return True  # mixed separators
        d = re.sub(r"\D", "", pattern_text)
        return (
            len(set(d)) == 1
            or d[3:5] == "00"
            or d[5:] == "0000"
            or d[:3] in ("000", "666")
            or d in self._SAMPLES
        )


# ---- IBAN ---------------------------------------------------------------------------------
# Scanned with ASCII letters upper-cased and line breaks / tabs as spaces (same offsets).
_IBAN_VIEW = str.maketrans("abcdefghijklmnopqrstuvwxyz\t\r\n", "ABCDEFGHIJKLMNOPQRSTUVWXYZ   ")


class GovernIbanRecognizer(pr.IbanRecognizer):
    """Presidio's IbanRecognizer (regex + mod-97 checksum + per-country format)
    also on lower- and mixed-case input (``de89 3704 ...``, ``nl91abna...``) and
    across a line break (``DE89 3704 0044\\n0532 0130 00``). The checksum and the
    country format still decide, so prose does not match."""

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # noqa: D102
        return super().analyze(text.translate(_IBAN_VIEW), entities, nlp_artifacts, regex_flags)


# ---- phone numbers ----------------------------------------------------------------------------
_PHONE_SEPS = str.maketrans("\t\r\n_", "    ")
# letters glued to the start or the end of a digit run ("ph4155550132", "0132x");
# letters between digits are left alone ("0132x204" is an extension), and so is
# an extension marker before digits ("x302", "ext204")
_GLUED = re.compile(r"(?<!\w)(?!(?:x|ext|extn)\d)[^\W\d_]+(?=\d{3})|(?<=\d\d)[^\W\d_]+(?!\w)", re.IGNORECASE)
_HEX = frozenset("abcdefABCDEF")
# an amount with cents ("123456789.00", "1,234,567.89") is not a phone number
_AMOUNT = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+\.\d{2}(?![\d.])|(?<![\d.,])\d+\.\d{2}(?![\d.,]?\d)")
# escaped control characters of JSON, logs and CSV exports ("Phone:\\n0398 0829931")
_ESCAPED_WS = re.compile(r"\\[nrt]")


def _unglue(m: re.Match) -> str:
    # hex-only runs stay glued: a hash or hex id ("deadbeef4155550132") is not a phone
    return m.group() if _HEX.issuperset(m.group()) else " " * (m.end() - m.start())


def phone_view(text: str) -> str:
    """What the phone recognizer reads (same offsets): tabs, line breaks, ``_``
    and escaped ``\\n`` / ``\\t`` as spaces, letters glued to a number's start or
    end as spaces (libphonenumber rejects a number touching a letter)."""
    text = text.translate(_PHONE_SEPS)
    if "\\" in text:
        text = _ESCAPED_WS.sub("  ", text)
    return _GLUED.sub(_unglue, text)


# A phone-shaped digit run: an optional international prefix (+, 00, 011), digit
# groups joined by one separator each (space, -, ., /, parentheses, "(0)"), an
# optional extension (x204, ext. 204, extension 204, #204). Not glued to a word,
# another number or a dotted / dashed run (IP addresses, versions, dates).
_SEP = r"(?:[ ]?[-./][ ]?|[ ]|\)[ ]?|[ ]?\()"
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+./:-])(?<!\d,)(?P<intl>\+[ ]?|(?<!\d)(?:00|011)(?=[1-9])[ -]?)?"
    rf"(?P<body>\(?\d+(?:{_SEP}\d+)*)"
    r"(?P<ext>[ ]?(?:x|ext\.?|extn\.?|extension|\#)[ ]?\d{1,6})?"
    r"(?![\w]|[.,:/-]\d)",
    re.IGNORECASE,
)
# A word right before or after a number that says it is a phone number: calls,
# messages and the labels of contact lines ("Mobile:", "Fax:", "… office").
PHONE_CONTEXT = frozenset(
    """phone phones telephone tel tele ph phn fon mobile mob cell cellphone cellular fax facsimile
    call calls calling called callback recall dial dialing dialling ring reach reached contact
    text texting texted sms mms whatsapp viber signal voicemail landline hotline helpline
    desk office direct home work message messages answer answering""".split()
)
PHONE_LABEL_AFTER = frozenset("phone tel mobile mob cell fax office desk direct home work landline".split())
# A word right before a number that makes it something else: an order, an invoice,
# a card, a version, an amount ("call about order 12345678" is not a phone number).
NOT_PHONE_BEFORE = frozenset(
    """order orders invoice invoices inv ticket tickets case ref reference account acct acc id no nr num
    tracking po sku serial batch build version ver item part lot amount total balance price cost
    card cards iban ssn social zip postcode postal code pin otp room flight booking confirmation
    transaction txn claim policy member customer employee license licence passport routing swift
    bic vat tax year page isbn issue pr commit release""".split()
)
_WORD = re.compile(r"[A-Za-z]+")
# whole-candidate dates: 2024-03-05, 05.03.2024, 3/5/24 (a phone has more groups or digits)
_DATE_SHAPE = re.compile(
    r"(?:(?:19|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[-./](?:0?[1-9]|[12]\d|3[01])[-./](?:19|20)?\d\d)"
)
MIN_PHONE_DIGITS_CONTEXT = 6  # "84 23 30" after "Phone:" (the shortest national numbers)
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15  # E.164


def _phone_context(view: str, start: int, end: int) -> bool:
    """A phone word among the six words before the number, the nearest deciding
    (a business word first -- "call about order 1234567" -- says no), or a
    contact-line label right after it ("0499 13 05 85 office", "...-Fax")."""
    before = _WORD.findall(view[max(0, start - 60) : start])[-6:]
    for w in reversed(before):
        w = w.lower()
        if w in NOT_PHONE_BEFORE:
            return False
        if w in PHONE_CONTEXT:
            return True
    after = _WORD.match(view[end : end + 12].lstrip(" -:(,"))
    return after is not None and after.group().lower() in PHONE_LABEL_AFTER


def _parse_phone(number: str, region: str | None):
    try:
        return phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None


class GovernPhoneRecognizer(pr.PhoneRecognizer):
    """Phone numbers of every region libphonenumber knows, on :func:`phone_view`.

    A phone-shaped run of 6-15 digits (any grouping, parentheses, ``(0)``, an
    extension) is a phone number when

    * it is in international form (``+41 44 668 18 00``, ``0041…``, ``011…``) and
      libphonenumber validates it for its country -- any country, no context needed;
    * it is in national form and valid in one of the configured ``phone_regions``
      (libphonenumber's rules for that region, as Presidio's recognizer);
    * otherwise (national numbers of the other regions, US-shaped numbers
      libphonenumber rejects as unallocated, 6-digit numbers) only with a phone
      word among the six words before it (``call``, ``Phone:``, ``Mobile:``,
      ``reach me at``, ``messages to``, ...) or a contact label right after it
      (``… office``, ``…-Fax``) -- and not when the nearest word before it names
      something else (``order``, ``invoice``, ``card``, ``version``, ...).

    The extension is part of the finding. Whole-candidate dates, times and amounts
    with cents are not phone numbers.
    """

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        view = phone_view(text)
        results: list[RecognizerResult] = []
        amounts = None
        for m in _PHONE_CANDIDATE.finditer(view):
            body = m.group("body")
            digits = re.sub(r"\D", "", body)
            n = len(digits)
            if n < MIN_PHONE_DIGITS_CONTEXT or n > MAX_PHONE_DIGITS + 2:
                continue
            if body.count("(") < body.count(")"):
                continue
            start, end = m.start(), m.end()
            if view.startswith(":", end) and view[end + 1 : end + 2].isdigit():
                continue  # "2024-03-05 10:30"
            if _DATE_SHAPE.fullmatch(body):
                continue
            if "." in body:
                if amounts is None:
                    amounts = [a.span() for a in _AMOUNT.finditer(text)]
                if any(a < end and start < b for a, b in amounts):
                    continue
            if self._is_phone(m, view, digits, start, end):
                results.append(_result(self, start, end, self.SCORE))
        return results

    def _is_phone(self, m: re.Match, view: str, digits: str, start: int, end: int) -> bool:
        intl = m.group("intl")
        number = m.group("body") + (m.group("ext") or "")
        if intl:
            parsed = _parse_phone("+" + number, None)
            if parsed is None and "(0)" in number:
                parsed = _parse_phone("+" + number.replace("(0)", ""), None)
            if parsed is not None and phonenumbers.is_valid_number(parsed):
                return True
            if parsed is not None and "(0)" in number:
                alt = _parse_phone("+" + number.replace("(0)", ""), None)
                if alt is not None and phonenumbers.is_valid_number(alt):
                    return True
        elif len(digits) >= MIN_PHONE_DIGITS:
            # libphonenumber's matcher on the candidate alone, leniency VALID, as
            # Presidio's recognizer: valid for the region, and with the national
            # prefix where the region's formats require it ("123456789" is no FR number)
            for region in self.supported_regions:
                for match in phonenumbers.PhoneNumberMatcher(number, region, leniency=Leniency.VALID):
                    if match.start == 0 and match.end >= len(m.group("body")):
                        return True
        return MIN_PHONE_DIGITS_CONTEXT <= len(digits) <= MAX_PHONE_DIGITS and _phone_context(view, start, end)


# ---- IP addresses -----------------------------------------------------------------------------
def _in_longer_dotted_run(text: str, start: int, end: int) -> bool:
    """Four octets inside a longer run of dotted numbers ("05.06.52.16.25", a phone
    number written with dots; "1.2.3.4.5") are not an address."""
    return (start >= 2 and text[start - 1] == "." and text[start - 2].isdigit()) or (
        text[end : end + 1] == "." and text[end + 1 : end + 2].isdigit()
    )


class GovernIpRecognizer(pr.IpRecognizer):
    """Presidio's IpRecognizer, plus IPv4 with zero-padded octets
    (``192.168.001.010``); minus versions (``version 10.2.3.4``, ``v1.2.3.4``),
    four numbers of a longer dotted run (``01.84.17.61.18``) and digit-free IPv6
    look-alikes (``a::b``)."""

    def invalidate_result(self, pattern_text: str) -> bool:  # noqa: D102
        if "." in pattern_text and ":" not in pattern_text:
            addr, _, net = pattern_text.partition("/")
            pattern_text = ".".join(str(int(o)) if o.isdigit() else o for o in addr.split(".")) + (
                f"/{net}" if net else ""
            )
        elif not any(c.isdigit() for c in pattern_text):
            return True
        return super().invalidate_result(pattern_text)

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # noqa: D102
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [
            r
            for r in results
            if ":" in text[r.start : r.end]
            or not (_after_version_word(text, r.start) or _in_longer_dotted_run(text, r.start, r.end))
        ]


# ---- URLs ---------------------------------------------------------------------------------
def _fixed_url_base() -> str:
    base = pr.UrlRecognizer.BASE_URL_REGEX
    fixed = base.replace("[.](?:(?:com)|", "[.](?:(?:biz)|(?:com)|", 1).replace(
        "(?:zw))(?:/", "(?:zw))(?![a-z0-9\\-])(?:/", 1
    )
    assert fixed != base and "(?:biz)" in fixed and "(?![a-z0-9" in fixed, "Presidio's URL regex changed"
    return fixed


class GovernUrlRecognizer(pr.UrlRecognizer):
    """Presidio's UrlRecognizer with the TLD anchored at a label boundary (Presidio
    matches `shop.bi` inside `shop.biz`) and `.biz` added to its TLD list; a bare
    dotted name on a word TLD is not an address (:func:`_identifier_like`:
    `c.name`, `customers.city`, `t.id` in SQL and its error messages)."""

    BASE_URL_REGEX = _fixed_url_base()
    PATTERNS = [
        Pattern("Standard Url", "(?i)(?:https?://)" + BASE_URL_REGEX, 0.6),
        Pattern("Non schema URL", "(?i)" + BASE_URL_REGEX, 0.5),
        Pattern("Quoted URL", r'(?i)["\'](https?://' + BASE_URL_REGEX + r')["\']', 0.6),
        Pattern("Quoted Non-schema URL", r'(?i)["\'](' + BASE_URL_REGEX + r')["\']', 0.5),
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # noqa: D102
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not _identifier_like(text[r.start : r.end])]


# A bare host -- no scheme, no www., no path or port -- is an address only on a TLD
# people write bare: the old generic ones or a country code. Dotted names on other
# TLDs are SQL identifiers far more often (`c.name`, `customers.city`, `x.date`,
# `u.email` in a database error message), and so are two-letter words that are
# also country codes (`t.id`, `o.no`, `x.is`).
_BARE_TLDS = frozenset("com net org edu gov mil int biz".split())
_IDENTIFIER_CC = frozenset("id no is in to at by do as so me my py am pm".split())
_SCHEME_OR_WWW = re.compile(r"(?i)^[\"']?(?:https?://|www\d{0,3}\.)")


def _identifier_like(value: str) -> bool:
    value = value.strip("\"'")
    if _SCHEME_OR_WWW.match(value) or "/" in value or ":" in value:
        return False
    tld = value.rsplit(".", 1)[-1].lower()
    return not (tld in _BARE_TLDS or (len(tld) == 2 and tld not in _IDENTIFIER_CC))
