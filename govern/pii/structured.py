"""Recognizers for structured values: Presidio's, widened to the formats people really write.

They all run on the detection view of the text (normalize.py): en dashes,
no-break spaces, fullwidth digits and zero-width characters are already
ASCII there, so these only deal with ASCII separators and boundaries.
"""

from __future__ import annotations

import ipaddress
import re

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
_CARD_RUN = re.compile(r"(?<![\d+])[2-6]\d*(?:[ \t\r\n._-]{1,3}\d+)*(?!\d)")


def luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = ord(d) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _plausible_pan(digits: str) -> bool:
    """Length by issuer (ISO/IEC 7812 ranges of the major networks)."""
    n, head = len(digits), digits[:2]
    if digits[0] == "4":
        return 13 <= n <= 19  # Visa
    if digits[0] in "56":
        return 16 <= n <= 19  # Mastercard, Maestro, Discover, UnionPay
    if digits[0] == "3":
        return head in ("34", "37") and n == 15 or head in ("30", "35", "36", "38", "39") and 14 <= n <= 19
    return n == 16 and 2221 <= int(digits[:4]) <= 2720  # Mastercard 2-series


def card_run(run: str) -> bool:
    """A separated digit run that is a card number: 13-19 digits, Luhn-valid, an
    issuer's length, and card-like groups -- one run, or a first group of 2 or 4
    digits ("4111 1111 ...", "4111-111111-111111", "41 11 11 ..."), no single-digit
    group but the last ("5018 1234 5678 9012 5"), and no group of 1-3 digits
    next to a dot (IP addresses and versions are dotted short groups)."""
    groups = re.findall(r"\d+", run)
    digits = "".join(groups)
    if not 13 <= len(digits) <= 19 or not _plausible_pan(digits) or not luhn(digits):
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
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for m in _CARD_RUN.finditer(text):
            if "." in m.group() and _after_version_word(text, m.start()):
                continue  # "version 4111.1111.1111-1111"
            if _free(results, m.start(), m.end()) and card_run(m.group()):
                results.append(_result(self, m.start(), m.end(), EntityRecognizer.MAX_SCORE))
        return results


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


def _unglue(m: re.Match) -> str:
    # hex-only runs stay glued: a hash or hex id ("deadbeef4155550132") is not a phone
    return m.group() if _HEX.issuperset(m.group()) else " " * (m.end() - m.start())


def phone_view(text: str) -> str:
    """What libphonenumber reads (same offsets): tabs, line breaks and ``_`` as
    spaces, letters glued to a number's start or end as spaces (libphonenumber
    rejects a number touching a letter)."""
    return _GLUED.sub(_unglue, text.translate(_PHONE_SEPS))


class GovernPhoneRecognizer(pr.PhoneRecognizer):
    """Presidio's PhoneRecognizer (libphonenumber, the configured regions) on
    :func:`phone_view`: finds ``415\\n555\\n0132``, ``415_555_0132``,
    ``ph4155550132``, ``415-555-0132x``; an amount with cents
    (``total 123456789.00``) is not a phone."""

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        results = super().analyze(phone_view(text), entities, nlp_artifacts)
        if results and "." in text:
            amounts = [m.span() for m in _AMOUNT.finditer(text)]
            results = [r for r in results if not any(a < r.end and r.start < b for a, b in amounts)]
        return results


# ---- IP addresses -----------------------------------------------------------------------------

class GovernIpRecognizer(pr.IpRecognizer):
    """Presidio's IpRecognizer, plus IPv4 with zero-padded octets
    (``192.168.001.010``); minus versions (``version 10.2.3.4``, ``v1.2.3.4``)
    and digit-free IPv6 look-alikes (``a::b``)."""

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
            if ":" in text[r.start : r.end] or not _after_version_word(text, r.start)
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
