"""The detection view of a text: Unicode look-alikes folded to ASCII, with an offset map back.

Recognizers are ASCII-minded (``[- ]`` separators, ``[0-9]``, ``@``), so a card
written with en dashes, an SSN in fullwidth digits or an email with a zero-width
space in it would slip past them. Detection therefore runs on a folded copy:

* dashes (U+2010-2015, U+2212, small/fullwidth hyphen-minus) -> ``-``
* no-break, thin, figure, hair, ideographic ... spaces -> `` ``; line/paragraph separators -> ``\\n``
* any decimal digit (fullwidth, Arabic-Indic, ...) -> ``0-9``; the fullwidth ASCII block -> ASCII
* curly apostrophes / primes -> ``'``, curly double quotes -> ``"``
* Latin letters with diacritics -> the base letter (``é`` -> ``e``), so context
  names match whatever the accents (``José`` / ``Jose``)
* zero-width characters, soft hyphens, bidi controls and combining marks -> removed
* escaped ``\\n``, ``\\r``, ``\\t`` (JSON, logs, CSV exports) -> two spaces

Every mapping is one character to one character, or a deletion, so a span of
the view maps back to the original through the positions of the kept
characters; the findings are then masked on the *original* text. Pure ASCII
text (the common case) is its own view and costs one ``str.isascii`` call.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
import re
from functools import lru_cache

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2043"
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_NEWLINES = "\u0085\u2028\u2029"
_APOSTROPHES = "\u2018\u2019\u201a\u201b\u02bc\u2032\uff07"
_QUOTES = "\u201c\u201d\u201e\u201f\u2033\uff02"
# invisible: zero-width space/joiners, word joiner, invisible operators, BOM,
# soft hyphen, Mongolian vowel separator, bidi marks, embeddings and isolates
_DELETED = (
    "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Latin letters without a canonical decomposition that read as an ASCII letter
_ESCAPED_WS = re.compile(r"\\[nrt]")
_LATIN_EXTRA = {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ħ": "h", "Ħ": "H"}


@lru_cache(maxsize=1)
def fold_table() -> dict[int, int | None]:
    """The str.translate table (code point -> ASCII code point, or None = delete).

    Built once, lazily (the first non-ASCII text pays ~50 ms); sparse, so any
    character it does not list is kept as it is at C speed."""
    table: dict[int, int | None] = {}
    for cp in range(0x80, 0x10000):
        c = chr(cp)
        cat = unicodedata.category(c)
        if cat == "Nd":
            table[cp] = ord("0") + unicodedata.digit(c)
        elif cat == "Mn":
            table[cp] = None
        elif cat.startswith("L"):
            base = unicodedata.normalize("NFD", c)[0]
            if base != c and base.isascii() and base.isalpha():
                table[cp] = ord(base)
    for cp in range(0xFF01, 0xFF5F):  # fullwidth ASCII: ＠ ＡＢＣ ．
        table[cp] = cp - 0xFEE0
    for chars, to in ((_DASHES, "-"), (_SPACES, " "), (_NEWLINES, "\n"), (_APOSTROPHES, "'"), (_QUOTES, '"')):
        table.update((ord(c), ord(to)) for c in chars)
    table.update((ord(c), None) for c in _DELETED)
    table.update((ord(k), ord(v)) for k, v in _LATIN_EXTRA.items())
    return table


@dataclass(frozen=True)
class View:
    """The folded text and, when characters were deleted, where each one came from."""

    text: str
    original: str
    kept: list[int] | None = None  # kept[i] = index in `original` of text[i]; None: same offsets

    def span(self, start: int, end: int) -> tuple[int, int]:
        """[start, end) of the view as a span of the original. The end runs up to
        the next kept character, so deleted marks right after a value (a combining
        accent, a zero-width space) are masked with it."""
        if self.kept is None:
            return start, end
        a = self.kept[start] if start < len(self.kept) else len(self.original)
        b = self.kept[end] if end < len(self.kept) else len(self.original)
        return a, b


def _unescape_ws(text: str) -> str:
    """Escaped line breaks and tabs of JSON, logs and CSV exports ("Phone:\\n0398…")
    read as white space (two characters for two: offsets unchanged)."""
    return _ESCAPED_WS.sub("  ", text) if "\\" in text else text


def fold(text: str) -> View:
    """The detection view of ``text`` (itself when it is ASCII without escapes)."""
    if text.isascii():
        return View(_unescape_ws(text), text)
    table = fold_table()
    folded = text.translate(table)
    if len(folded) == len(text):
        return View(_unescape_ws(folded), text)
    kept = [i for i, c in enumerate(text) if table.get(ord(c), 0) is not None]
    return View(_unescape_ws(folded), text, kept)


def fold_str(text: str) -> str:
    """Just the folded text (names, allow-list entries, canonical values)."""
    return text if text.isascii() else text.translate(fold_table())


# Cyrillic and Greek letters drawn like Latin ones ("Аnn" with a Cyrillic А,
# "example.cоm" with a Cyrillic о). Not part of the view -- real Cyrillic or Greek
# text must stay what it is -- but tried where a known name or a domain did not match.
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁɡһӏԛԝАВЕКМНОРСТХІЈЅԌԛαοριντυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdghlqwABEKMHOPCTXIJSGqaopivtuxABEZHIKMNOPTYX",
)


def unconfuse(text: str) -> str:
    """``text`` with look-alike Cyrillic / Greek letters read as Latin."""
    return text if text.isascii() else text.translate(_CONFUSABLES)

