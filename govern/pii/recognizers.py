"""The recognizer registry: which recognizer detects each type, and its cheap gate.

The recognizers themselves are in structured.py (emails, cards, SSNs, IBANs,
phones, IPs, URLs: Presidio's, widened) and names.py (known names). A *gate* is
a C-speed test on the detection view that is true whenever the recognizer could
possibly match (a necessary condition, never a heuristic that drops true
positives): an email needs an ``@`` (or an encoded / written-out one), a phone
number at least 7 digits, a card 12, an SSN 9. Recognizers whose gate is false
are skipped for that text.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer import predefined_recognizers as pr

from .addresses import AgeRecognizer, PostalCodeRecognizer, StreetAddressRecognizer, address_gate
from .names import CONTEXT_NAME_RECOGNIZER, context_name_results  # noqa: F401  (re-exported)
from .settings import CustomRecognizer, PiiSettings
from .structured import (
    GovernCardRecognizer,
    GovernEmailRecognizer,
    GovernIbanRecognizer,
    GovernIpRecognizer,
    GovernPhoneRecognizer,
    GovernSsnRecognizer,
    GovernUrlRecognizer,
    email_gate,
)


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


Gate = Callable[[str], bool]

_IBAN_GATE = re.compile(r"[A-Za-z]{2}\s?\d{2}")
_URL_GATE = re.compile(r"\w\.[A-Za-z]{2}")
_IP_GATE = re.compile(r"\d\.\d|:[0-9A-Fa-f]*:")


def _min_digits(n: int) -> Gate:
    return lambda text: digit_count(text) >= n


_ALWAYS: Gate = lambda text: True  # noqa: E731

# entity -> (factory(settings) -> recognizer, gate)
_BUILTINS: dict[str, tuple[Callable[[PiiSettings], EntityRecognizer], Gate]] = {
    "EMAIL_ADDRESS": (lambda s: GovernEmailRecognizer(), email_gate),
    "PHONE_NUMBER": (
        lambda s: GovernPhoneRecognizer(supported_regions=tuple(s.phone_regions)),
        _min_digits(6),
    ),
    "CREDIT_CARD": (lambda s: GovernCardRecognizer(), _min_digits(12)),
    "US_SSN": (lambda s: GovernSsnRecognizer(), _min_digits(9)),
    "IBAN_CODE": (lambda s: GovernIbanRecognizer(), lambda t: _IBAN_GATE.search(t) is not None),
    "IP_ADDRESS": (lambda s: GovernIpRecognizer(), lambda t: _IP_GATE.search(t) is not None),
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
    "STREET_ADDRESS": (lambda s: StreetAddressRecognizer(), address_gate),
    "ZIP_CODE": (lambda s: PostalCodeRecognizer(), _min_digits(2)),
    "AGE": (lambda s: AgeRecognizer(), _min_digits(1)),
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
