"""Names and places that the words around them give away (NER mode).

The small spaCy model misses many names and places it has not seen, most of all
foreign ones; the words people put around them say what they are whatever the
name. These recognizers run in NER mode beside the model (engine.py), on the
detection view (accents folded), and only on capitalised words:

* PERSON -- a courtesy title and the name after it (``Mr. Koivu``, ``Dr. Janka
  Takacs``, ``Mrs. Perez``: the title is masked with the name, it says who is
  meant); a name after the words that introduce one (``my name is``, ``call
  me``, ``I'm``, a greeting ``Hi Rhys,`` / ``Dear Ms Lee``, a form label ``Name:``);
* LOCATION -- a place after a verb of living or travelling and its preposition
  (``lives in``, ``grew up in``, ``based in``, ``flew to``, ``arrived at``,
  ``moved here from``; not ``moved to``, which business text says of tickets and
  systems) or after ``home city`` / ``hometown``; and the English name of every
  country and territory libphonenumber knows (``Uruguay``, ``CZECH REPUBLIC``),
  capitalised, except names that are everyday words too (Jersey, Turkey, Chad, ...).

Weekday and month names, and words that start sentences (``The``, ``This``,
...), are never read as a name or a place.
"""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import EntityRecognizer, RecognizerResult

# A capitalised word (letters, apostrophes, hyphens) or an initial ("H."), on the folded view.
_WORD = r"(?:[A-Z][a-z]+(?:['-][A-Za-z]+)*|[A-Z]\.|[A-Z]{2,}(?:['-][A-Z]+)*)"
_NOT_NAMES = frozenset(
    """The This That These Those There Here It Its I We You He She They My Your Our His Her Their A An And But Or
    So Not No Yes Ok Okay Sorry Please Thanks Thank Hi Hello Hey Dear Good Fine Happy Glad Sure Just Also Still
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
    September October November December Today Tomorrow Yesterday Tonight Mr Mrs Ms Dr Miss Sir Madam Name
    Street Road Avenue City Town Country North South East West Home Work Office School University Hospital
    Team All Everyone Customer Customers Client Clients Colleagues Support World Folks Guys Friends Sales Marketing
    Engineering Admin Manager Building Room Floor Section Chapter Appendix Table Figure Production Staging
    Suite Apt Apartment Unit Box""".split()
)
_NAME = rf"(?P<name>{_WORD}(?:[ ]{_WORD}){{0,3}})"
_TITLES = r"(?:Mr|Mrs|Ms|Mx|Miss|Mister|Dr|Doctor|Prof|Professor|Sir|Dame|Madam|Madame|Mme|Mlle|Herr|Frau|Senor|Senora|Sra|Sr)"
_TITLED = re.compile(rf"(?<![\w.])(?P<title>{_TITLES})\.?[ ]+{_NAME}")
_INTRO = re.compile(
    rf"(?:(?i:\bmy name is|\bmy name's|\bname is|\bcall me|\bcalls me|\bi'm called|\bi am called|\bi'm|\bi am)"
    rf"|(?<![\w.])(?:Hi|Hello|Hey|Dear|Thanks|Thank you|Goodbye|Bye|Welcome|Congratulations),?"
    rf"|(?m:^[ \t]*(?:Name|Full name|Full Name|Patient|Customer|Client|Contact|Employee)[ \t]*:))[ \t]+{_NAME}"
)
_PLACE = rf"(?P<name>{_WORD}(?:[ -](?:{_WORD}|de|del|da|do|du|la|le|sur|am|an|upon)){{0,3}})"
_PLACE_CUE = re.compile(
    r"(?i:\b(?:(?:lives?|living|lived|born|grew up|raised|based|located|resides?|resided|residing|stays?|stayed"
    r"|staying)[ ]+(?:in|at|near)"
    r"|(?:flew|flies|fly|flying|travell?ed|travell?ing|travels?|arrived|arrives|arriving|relocated|relocating)"
    r"[ ]+(?:to|in|at|from|into)"
    r"|(?:moved|moving|came|comes|originally)(?:[ ]+(?:here|there|back))?[ ]+from"
    r"|home[ ]?(?:city|town|country)(?:[ ]+(?:of|is))?:?))[ ]+" + _PLACE
)


# Country names that are also everyday words or given names.
_AMBIGUOUS_COUNTRIES = frozenset({"Jersey", "Turkey", "Chad", "Jordan", "Reunion", "Guernsey", "Georgia", "Guinea"})


@lru_cache(maxsize=1)
def country_names() -> tuple[frozenset[str], int, frozenset[str]]:
    """English names of the countries and territories libphonenumber knows (its public
    geocoder, offline), accents folded, case-folded; the most words one has; their first words."""
    import phonenumbers
    from phonenumbers.geocoder import country_name_for_number

    from .normalize import fold_str

    names = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        name = country_name_for_number(example, "en") if example is not None else ""
        if name and name not in _AMBIGUOUS_COUNTRIES and "(" not in name:
            names.add(fold_str(name).casefold())
    return frozenset(names), max(len(n.split()) for n in names), frozenset(n.split()[0] for n in names)


_TOKEN = re.compile(r"[^\W\d_][\w'.-]*")


def country_spans(text: str) -> list[tuple[int, int]]:
    """Country names in ``text``, in title case or capitals, as whole words (longest first)."""
    names, most, firsts = country_names()
    words = [m for m in _TOKEN.finditer(text)]
    out = []
    i = 0
    while i < len(words):
        first = words[i].group()
        found = 0
        if first[0].isupper() and first.rstrip(".").casefold() in firsts:
            for n in range(min(most, len(words) - i), 0, -1):
                run = words[i : i + n]
                if any(text[a.end() : b.start()] != " " for a, b in zip(run, run[1:])):
                    continue
                value = text[run[0].start() : run[-1].end()].rstrip(".")
                last = run[-1].group().rstrip(".")
                if value.casefold() in names and (last[0].isupper() or value.isupper() or n > 1):
                    if value.istitle() or value.isupper() or any(w.group()[0].isupper() for w in run):
                        out.append((run[0].start(), run[0].start() + len(value)))
                        found = n
                        break
        i += found or 1
    return out


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


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name's words up to the first that cannot be one; None when none can."""
    words = list(re.finditer(r"\S+", text[start:end]))
    keep = 0
    for w in words:
        if w.group().rstrip(".") in _NOT_NAMES:
            break
        keep += 1
    if keep == 0:
        return None
    return start, start + words[keep - 1].end()


class CuedNameRecognizer(EntityRecognizer):
    """PERSON: a title and the name after it, or a name after the words that introduce one."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="GovernCuedNameRecognizer")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        out = []
        for m in _TITLED.finditer(text):
            span = _trim(text, m.start("name"), m.end("name"))
            if span is not None:
                out.append(_result(self, m.start("title"), span[1], 0.6))
        for m in _INTRO.finditer(text):
            span = _trim(text, m.start("name"), m.end("name"))
            if span is not None:
                out.append(_result(self, span[0], span[1], 0.6))
        return out


class CuedPlaceRecognizer(EntityRecognizer):
    """LOCATION: a place after a verb of living or moving and its preposition, or after ``home city``."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["LOCATION"], name="GovernCuedPlaceRecognizer")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        out = []
        for m in _PLACE_CUE.finditer(text):
            span = _trim(text, m.start("name"), m.end("name"))
            if span is not None:
                out.append(_result(self, span[0], span[1], 0.6))
        for a, b in country_spans(text):
            out.append(_result(self, a, b, 0.6))
        return out


def cue_gate(text: str) -> bool:
    return any(c.isupper() for c in text)
