"""Known names found in a text: the passage's context names, or names read from the catalog.

Matching is on word tokens of the detection view (see normalize.py), so the
usual spelling variants of a name match: accents (``José Álvarez`` / ``Jose
Alvarez``, NFD input, ``Zoë`` / ``Zoe``), curly or straight apostrophes
(``O’Connor``), a hyphen written as a space (``Mary-Jane`` / ``Mary Jane``), a
possessive (``Ann's``), any letter case for the full name.

Per name:

* the full name, any case, score 1.0 (also without a title: ``Dr. Ann Lee`` -> ``Ann Lee``;
  ``Lee, Ann`` also as ``Ann Lee``);
* a single part of it (first, last, either half of ``Mary-Jane``) when written
  capitalised, score 0.85 -- so ``will`` in "I will call" is not the name ``Will``
  (all capitals only as a word of prose, not in ``ADA.BYRON@...``); titles and
  particles (``Dr``, ``van``) are not parts;
* the given name in any case when it has 3+ letters, is not an everyday word
  (an English stop word or one of ``WORD_NAMES``) and stands as a word of prose,
  not inside an address or handle (``ann.lee@...``, ``/ann/``).

``strict`` sets (names read from a whole table, not the passage's own person)
keep full names but drop the last two rules' risky cases: a single part matches
only when it is not an everyday word (``WORD_NAMES``, ``WORD_SURNAMES``, stop
words), and never in lower case -- "Hope you are well" is not about Ms Hope.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from presidio_analyzer import RecognizerResult

from .normalize import fold_str, unconfuse

CONTEXT_NAME_RECOGNIZER = "govern:context_names"
FULL_NAME_SCORE = 1.0
NAME_PART_SCORE = 0.85

# Given names that are also everyday English words: a lower-case "will" or
# "mark" in a passage is the word, not the customer, so these match only
# capitalised (as every single name part does). English stop words are added.
WORD_NAMES = frozenset(
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
# Surnames that are everyday words: in a strict (whole-table) name set a lone
# capitalised "Brown" or "Price" is more often the word than one of the customers.
WORD_SURNAMES = frozenset(
    """
    baker banks bell bird black bond brown bush butler carpenter carter cash chambers church
    clay cook cooper cross day east english field fields fish fisher ford fox frost gardner
    gold golden good green grey gray hall hardy hart hill holmes hood house hunt king knight
    lamb land law little long love lucky major march marsh miller moon morning new north oak
    page palmer park parker parks payne person pike pope porter power powers price reed rice
    rivers salt sharp shaw short silver small smart snow south sparks spring stark steel
    storm strong summers swift temple thorn turner wall walker water waters watts weaver
    webb wells west white wise wolf woods young
    """.split()
)
# Not name parts on their own: titles and suffixes, and surname particles.
TITLES = frozenset("mr mrs ms miss mx dr prof sir dame rev fr jr sr ii iii iv".split())
PARTICLES = frozenset("da de del della der di du la le van von bin ibn al el".split())

# A word: letters, with inner apostrophes (O'Connor); digits and "_" end it.
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
# Between the words of a full name: white space, or a hyphen where the name has one.
_GAP = re.compile(r"\s+|-")


@lru_cache(maxsize=1)
def ambiguous_words() -> frozenset[str]:
    try:
        from spacy.lang.en.stop_words import STOP_WORDS
    except Exception:  # pragma: no cover - spaCy is a dependency of presidio
        STOP_WORDS = frozenset()
    return WORD_NAMES | frozenset(w.casefold() for w in STOP_WORDS)


def _tokens(name: str) -> list[tuple[str, str]]:
    """(token, gap before it) of a folded name; the gap is "-" for a hyphen, else " "."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _TOKEN.finditer(name):
        gap = name[pos : m.start()]
        out.append((m.group(), "-" if gap.strip() == "-" else " "))
        pos = m.end()
    return out


def _given(tokens: list[tuple[str, str]], comma_at: int | None) -> list[str]:
    """The given-name tokens: after the comma of "Lee, Ann", else the first word
    (the first not all-caps one in "LEE Ann"); both halves of "Jean-Luc" count."""
    words = [t for t, _ in tokens]
    if comma_at is not None:
        start = comma_at
    else:
        start = next((i for i, w in enumerate(words) if not (w.isupper() and len(w) > 1)), 0)
    while start < len(words) and words[start].casefold().strip(".") in TITLES:
        start += 1
    if start >= len(words) or len(words) < 2:
        return []
    given = [words[start]]
    j = start + 1
    while j < len(tokens) and tokens[j][1] == "-":
        given.append(words[j])
        j += 1
    return given


class NameSet:
    """Compiled known names; :meth:`find` returns (start, end, score) spans of a folded text."""

    def __init__(self, names: Iterable[str], strict: bool = False) -> None:
        self.strict = strict
        self._fulls: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        self._parts: set[str] = set()
        self._givens: set[str] = set()
        ambiguous = ambiguous_words() | (WORD_SURNAMES if strict else frozenset())
        for raw in names:
            if not isinstance(raw, str):
                continue
            name = unconfuse(" ".join(fold_str(raw).split()))  # compared with unconfused text words
            if len(name) < 2:
                continue
            tokens = _tokens(name)
            if not tokens:
                continue
            comma = name.find(",")
            comma_at = sum(1 for m in _TOKEN.finditer(name[:comma])) if comma >= 0 else None
            plain = [(t, g) for t, g in tokens if t.casefold() not in TITLES]
            if not (strict and len(plain) == 1):  # a lone word of a table is a part (below), not a full name
                self._add_full(plain)
            if comma_at is not None and 0 < comma_at < len(tokens):  # "Lee, Ann" -> "Ann Lee"
                self._add_full([(t, " ") for t, _ in tokens[comma_at:] + tokens[:comma_at]])
            for t, _ in tokens:
                cf = t.casefold()
                if len(t) < 2 or not t[0].isupper() or cf in TITLES or cf in PARTICLES:
                    continue
                if strict and (len(t) < 3 or cf in ambiguous):
                    continue
                self._parts.add(cf)
            if not strict:
                for g in _given(tokens, comma_at):
                    if len(g) >= 3 and g.isalpha() and g.casefold() not in ambiguous:
                        self._givens.add(g.casefold())
        self._firsts = frozenset(self._fulls) | self._parts | self._givens

    def _add_full(self, tokens: list[tuple[str, str]]) -> None:
        if not tokens or (len(tokens) == 1 and len(tokens[0][0]) < 2):
            return
        words = tuple(t.casefold() for t, _ in tokens)
        gaps = tuple(g for _, g in tokens[1:])
        entry = (words, gaps)
        bucket = self._fulls.setdefault(words[0], [])
        if entry not in bucket:
            bucket.append(entry)
            bucket.sort(key=lambda e: -len(e[0]))  # longest first

    def __bool__(self) -> bool:
        return bool(self._firsts)

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """Spans of known names in ``text`` (a folded view), full names first."""
        if not self._firsts:
            return []
        out: list[tuple[int, int, float]] = []
        covered_to = -1
        for m in _TOKEN.finditer(text):
            s, e = m.span()
            if s < covered_to:
                continue
            tok = m.group()
            cf = unconfuse(tok).casefold()  # "Аnn" with a Cyrillic А is Ann
            base = cf[:-2] if cf.endswith("'s") else None  # possessive: "Ann's"
            if (cf not in self._firsts and base not in self._firsts) or not _bounded(text, s, e):
                continue
            hit = self._full_at(text, e, cf)
            if hit is not None:
                out.append((s, hit, FULL_NAME_SCORE))
                covered_to = hit
                continue
            word, end = (cf, e) if cf in self._parts or cf in self._givens else (base, e - 2)
            if word in self._parts and tok[0].isupper() and (not tok.isupper() or _in_prose(text, s, end)):
                out.append((s, end, NAME_PART_SCORE))
            elif word in self._givens and _in_prose(text, s, end):
                out.append((s, end, NAME_PART_SCORE))
        return out

    def _full_at(self, text: str, pos: int, first: str) -> int | None:
        """End offset of the longest full name whose first word (``first``) ends at ``pos``."""
        for words, gaps in self._fulls.get(first, ()):
            end: int | None = pos
            for k in range(1, len(words)):
                gap = _GAP.match(text, end)
                tok = _TOKEN.match(text, gap.end()) if gap and (gap.group() != "-" or gaps[k - 1] == "-") else None
                if tok is None:
                    end = None
                    break
                cf = unconfuse(tok.group()).casefold()
                if cf == words[k]:
                    end = tok.end()
                elif k == len(words) - 1 and cf == words[k] + "'s":
                    end = tok.end() - 2
                else:
                    end = None
                    break
            if end is not None and (end >= len(text) or not (text[end].isalnum() or text[end] == "_")):
                return end
        return None


def _bounded(text: str, s: int, e: int) -> bool:
    """A whole word: no digit or "_" glued to it ("Ann2", "ann_lee" are handles)."""
    return not (s and (text[s - 1].isalnum() or text[s - 1] == "_")) and not (
        e < len(text) and (text[e].isalnum() or text[e] == "_")
    )


def _in_prose(text: str, s: int, e: int) -> bool:
    """Not part of an address or handle: "ann.lee@", "/ann/", "ann_lee", "ann-lee"."""
    before = text[s - 1] if s else " "
    after = text[e] if e < len(text) else " "
    if before.isalnum() or before in "_.@/-" or after.isalnum() or after in "_@/-":
        return False
    return not (after == "." and e + 1 < len(text) and (text[e + 1].isalnum() or text[e + 1] == "_"))


@lru_cache(maxsize=4096)
def name_set(names: tuple[str, ...], strict: bool = False) -> NameSet:
    return NameSet(names, strict)


def context_name_results(text: str, names: Iterable[str] | NameSet) -> list[RecognizerResult]:
    """PERSON results for known names found in ``text`` (a folded view)."""
    if not isinstance(names, NameSet):
        if isinstance(names, str):
            names = (names,)
        key = tuple(sorted({n for n in names if isinstance(n, str) and n.strip()}))
        if not key:
            return []
        names = name_set(key)
    meta = {
        RecognizerResult.RECOGNIZER_NAME_KEY: CONTEXT_NAME_RECOGNIZER,
        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: CONTEXT_NAME_RECOGNIZER,
    }
    return [RecognizerResult("PERSON", s, e, score, recognition_metadata=dict(meta)) for s, e, score in names.find(text)]
