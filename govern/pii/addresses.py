"""Street addresses, postal codes and ages: patterns that an NER model does not cover.

All three run on the detection view (normalize.py: accents folded, escaped
line breaks as spaces) and are on by default in NER mode (settings.py); a bundle
may list them in pattern mode too.

* STREET_ADDRESS -- a street line, then what follows it on the envelope:
  - house number + street name + a street word (USPS Publication 28 suffixes
    and their abbreviations, UK ones: ``221B Baker Street``, ``1719 Kamp St``,
    ``5 N. Crestview Ter.``);
  - a street word of another language before or inside the name, and a house
    number (``Rue du Niger 87``, ``Via Luzzas 144``, ``ul. Zamkowa 33``,
    ``Linzer Strasse 69``, ``Olmstraat 69``, ``Kaarikatu 32``, ``Erzsebet krt. 60.``);
  - PO boxes (``P.O. Box 259``, ``Postbox 21``) and military addresses
    (``PSC 8810, Box 3088``, ``Unit 2788 Box 9880``, ``USNS Ship``, ``APO AE 32696``);
  - a unit on its own (``Apt. 415``, ``Suite 122``, ``Unit 5``);
  then the block is extended over what follows on the same or the next lines:
  units, capitalised place names, state codes, postal codes (``Springfield, IL
  62704``, ``Kinuso\\n Canada 15097``), never over a sentence end or a lower-case word.
* ZIP_CODE -- a US ZIP (``94107``, ``94107-1234``), UK, Canadian, Dutch or other
  postal code after a word that names it (``zip``, ``postal code``, ``PLZ``, ...).
* AGE -- a number of years that is someone's age: ``42 years old``, ``42-year-old``,
  ``42 y/o``, ``aged 42``, ``at the age of 42``, ``turned 42``, ``when he was 42``.

Nothing here matches a lower-case street name with no number (``down the road``)
or a bare number.
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult

# ---- street words ---------------------------------------------------------------------------
# USPS Publication 28, appendix C1 (primary names and standard abbreviations), and UK usage.
_US_SUFFIXES = """
Alley Aly Annex Anx Arcade Arc Avenue Ave Av Bayou Byu Beach Bch Bend Bnd Bluff Blf Bluffs Bottom Btm
Boulevard Blvd Branch Br Bridge Brg Brook Brk Brooks Burg Bg Burgs Bypass Byp Camp Cp Canyon Cyn Cape Cpe
Causeway Cswy Center Ctr Centre Centers Circle Cir Circles Cliff Clf Cliffs Clfs Club Clb Common Cmn Commons
Corner Cor Corners Cors Course Crse Court Ct Courts Cts Cove Cv Coves Creek Crk Crescent Cres Crest Crst
Crossing Xing Crossroad Xrd Curve Curv Dale Dl Dam Dm Divide Dv Drive Dr Drives Drs Estate Est Estates Ests
Expressway Expy Extension Ext Extensions Falls Fls Fall Ferry Fry Field Fld Fields Flds Flat Flt Flats Flts
Ford Frd Fords Forest Frst Forge Frg Forges Fork Frk Forks Frks Fort Ft Freeway Fwy Garden Gdn Gardens Gdns
Gateway Gtwy Glen Gln Glens Green Grn Greens Grove Grv Groves Harbor Hbr Harbors Haven Hvn Heights Hts
Highway Hwy Hill Hl Hills Hls Hollow Holw Inlet Island Islands Isle Junction Jct Junctions Key Ky Keys Knoll
Knl Knolls Lake Lk Lakes Lks Land Landing Lndg Lane Ln Light Lgt Lights Loaf Lock Lck Locks Lodge Ldg Loop
Mall Manor Mnr Manors Meadow Mdw Meadows Mdws Mews Mill Ml Mills Mission Msn Motorway Mtwy Mount Mt Mountain
Mtn Mountains Neck Nck Orchard Orch Oval Overpass Opas Park Parks Parkway Pkwy Parkways Pass Passage Psge
Path Pike Pine Pne Pines Pnes Place Pl Plain Pln Plains Plns Plaza Plz Point Pt Points Pts Port Prt Ports
Prairie Pr Radial Radl Ramp Ranch Rnch Rapid Rpd Rapids Rpds Rest Rst Ridge Rdg Ridges Rdgs River Riv Road
Rd Roads Rds Route Rte Row Rue Run Shoal Shl Shoals Shore Shr Shores Shrs Skyway Skwy Spring Spg Springs
Spgs Spur Spurs Square Sq Squares Station Sta Stravenue Stra Stream Strm Street St Streets Summit Smt
Terrace Ter Throughway Trwy Trace Trce Track Trak Trafficway Trfy Trail Trl Trailer Trlr Tunnel Tunl
Turnpike Tpke Underpass Upas Union Un Unions Valley Vly Valleys Via Viaduct Vdct View Vw Views Village Vlg
Villages Ville Vl Vista Vis Walk Walks Wall Way Wy Ways Well Wl Wells
Close Cl Yard Wharf Quay Parade Pde Rise Embankment Broadway Promenade Esplanade Circus Drove Chase Hey
""".split()
_SUFFIX_RE = "|".join(sorted({re.escape(s) for s in _US_SUFFIXES} | {re.escape(s.upper()) for s in _US_SUFFIXES}, key=len, reverse=True))
# Street words that come before the name (Romance, Slavic, ... languages; abbreviations).
_PREFIX_WORDS = """
Rue Avenue Av Avda Avd Boulevard Bd Bvd Chemin Ch Impasse Imp Allee Place Pl Quai Cours Route Rte Via Viale
Vle Piazza Pza Corso Largo Vicolo Calle Cl Avenida Plaza Pza Paseo Pso Carrer Cami Ronda Rua Travessa Tv
Praca Largo Estrada Ul Ulica Aleja Al Strada Str Bulevardul Bdul Calea Ulitsa Odos Sokak Caddesi Cad Rr
""".split()
_PREFIX_RE = "|".join(sorted({re.escape(w) for w in _PREFIX_WORDS} | {re.escape(w.lower()) for w in _PREFIX_WORDS}, key=len, reverse=True))
# Street words that end a name or stand after it (Germanic, Nordic, Finnic, Hungarian, Baltic, ...).
_COMPOUND_ENDINGS = (
    "strasse strase strabe str weg gasse platz allee ring damm ufer steig pfad chaussee "
    "straat laan plein gracht kade singel dijk dreef "
    "vej gade vaenget vænget stræde straede alle "
    "gatan gata vagen vägen gränd grand torg "
    "veien vegen veg "
    "katu tie kuja polku tori "
    "utca ut út krt korut körút rakpart ter tér sor "
    "iela gatve tanav tänav mnt maantee pst"
).split()
_ENDING_RE = "|".join(sorted({re.escape(e) for e in _COMPOUND_ENDINGS}, key=len, reverse=True))

_NUM = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
_CAP = r"(?:\d{1,3}(?:st|nd|rd|th)|[A-Z][\w'-]*\.?|[^\W\d_a-z][\w'-]*)"  # a capitalised word or an ordinal
_DIR = r"(?:(?:[NSEW]|N[EW]|S[EW]|North|South|East|West)\.?\s+)"
_UNIT = r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Bldg|Building|Floor|Fl|Room|Rm|#)\.?\s*#?\s*[A-Za-z]?\d{1,6}[A-Za-z]?"
_STREET_US = rf"(?:{_NUM}\s+){{1,2}}{_DIR}?(?:{_CAP}\s+){{1,4}}(?:{_SUFFIX_RE})\b\.?"
_STREET_PREFIXED = rf"(?:{_NUM},?\s+)?(?:{_PREFIX_RE})\b\.?\s+(?:(?:{_CAP}|d[eiaou]s?|de la|del|do|da|di|du|des|van|von|der|den)\s+){{0,4}}{_CAP}(?:,?\s+{_NUM}\b\.?)?"
_STREET_COMPOUND = (
    rf"(?:{_NUM}\s+)?(?:{_CAP}\s+){{0,3}}(?:[^\W\d_][\w'-]*(?i:{_ENDING_RE})|(?i:{_ENDING_RE}))\b\.?,?\s+{_NUM}\b\.?"
)
_PO_BOX = r"(?:P\.?\s?O\.?\s?Box|Post\s+Office\s+Box|Postbox|PO\s?Box|Postfach|Apartado|Caixa\s+Postal)\s*#?\s*\d{1,6}"
_MILITARY = (
    r"(?:(?:PSC|CMR|Unit)\s+\d{3,5},?\s+Box\s+\d{1,5}"
    r"|(?:USNS|USNV|USS|USCGC)\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?"
    r"|(?:APO|FPO|DPO)\s+(?:AA|AE|AP)\s+\d{5}(?:-\d{4})?)"
)
_CORE = re.compile(
    rf"(?<![\w.-])(?:{_MILITARY}|{_PO_BOX}|{_STREET_US}|{_STREET_PREFIXED}|{_STREET_COMPOUND}|(?:Apt|Apartment|Suite|Ste|Unit)\.?\s*#?\s*[A-Za-z]?\d{{1,6}}[A-Za-z]?)(?:,?\s+{_UNIT})?(?![\w-])"
)
# What may follow a street line in the same block (each after ", ", white space or a
# line break): a unit, a military line, a state code, a postal code, capitalised place names.
_US_STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH "
    "OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP AA AE AP"
).split()
_POSTAL = (
    r"(?:\d{5}(?:-\d{4})?|\d{3}\s?\d{2}|\d{2}-\d{3}|\d{4}\s?[A-Z]{2}|\d{3,6}(?:-\d{3})?"
    r"|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d)"
)
_PLACE = r"(?:[^\W\d_a-z](?:[^\W\d]|['.-])*(?!\d)(?:\s+(?:and|the|of|de|du|la|le|am|an|im|sur|upon|on|del|da|do)\s+|\s+|-)?){1,5}"
_NEXT = re.compile(
    rf"(?:[ \t]*,?[ \t]*(?:\n[ \t]*(?:[^\w\s]{{1,4}}[ \t]*)?)?|[ \t]{{2,}})(?:{_UNIT}|{_MILITARY}|{_POSTAL}(?![\w-])|\((?:[^\W\d_][\w ]*)\)|{_PLACE})"
)
MAX_BLOCK_PARTS = 6
MAX_BLOCK_CHARS = 160


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


def _extend_block(text: str, end: int, limit: int) -> int:
    """End of the address block that starts with a street line ending at ``end``."""
    parts = 0
    while parts < MAX_BLOCK_PARTS and end < limit:
        m = _NEXT.match(text, end)
        if m is None or m.end() <= end:
            break
        part = m.group().strip(" \t,\n>")
        if not part:
            break
        # trailing connector words and a sentence's last period are not part of the place
        stop = m.end()
        tail = re.search(r"(?:\s+(?:and|the|of|de|du|la|le|am|an|im|sur|upon|on|del|da|do))+\s*$|[\s.]+$", text[m.start() : stop])
        if tail:
            stop = m.start() + tail.start()
        if stop <= end:
            break
        end = stop
        parts += 1
    return end


class StreetAddressRecognizer(EntityRecognizer):
    """STREET_ADDRESS: street lines, PO boxes, military addresses, and their blocks."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["STREET_ADDRESS"], name="GovernStreetAddressRecognizer",
                         context=["address", "street", "lives", "live", "ship", "deliver", "mail", "send"])

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        out: list[RecognizerResult] = []
        pos = 0
        for m in _CORE.finditer(text):
            if m.start() < pos:
                continue
            end = _extend_block(text, m.end(), min(len(text), m.end() + MAX_BLOCK_CHARS))
            out.append(_result(self, m.start(), end, 0.6))
            pos = end
        return out


def address_gate(text: str) -> bool:
    return any(c.isdigit() for c in text)


# ---- postal codes -----------------------------------------------------------------------------
_ZIP_WORDS = r"(?:zip\s*code|zipcode|zip|postal\s*code|postcode|post\s*code|plz|cap|cp|code\s+postal|pin\s*code)"
_ZIP = re.compile(rf"(?i)\b{_ZIP_WORDS}\b\s*(?:is|:|#|no\.?)?\s*(?P<zip>{_POSTAL})(?![\w-])")
_STATE_ZIP = re.compile(rf"\b(?:{'|'.join(_US_STATES)})\b,?\s+(?P<zip>\d{{5}}(?:-\d{{4}})?)(?![\w-])")


class PostalCodeRecognizer(EntityRecognizer):
    """ZIP_CODE: a postal code after a word that names it, or a ZIP after a US state code."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["ZIP_CODE"], name="GovernPostalCodeRecognizer")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        out = []
        for rx in (_ZIP, _STATE_ZIP):
            for m in rx.finditer(text):
                out.append(_result(self, m.start("zip"), m.end("zip"), 0.6))
        return out


# ---- ages ---------------------------------------------------------------------------------------
_AGE_NUM = r"(?P<age>1[01]\d|\d{1,2}(?:\.\d)?)"
_AGE_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"(?<![\w.]){_AGE_NUM}(?:\s*-\s*|\s+)(?:years?|yrs?)(?:\s*-\s*|\s+)old\b",
        rf"(?<![\w.]){_AGE_NUM}\s*(?:y/o|yo|y\.o\.)(?!\w)",
        rf"(?<![\w.]){_AGE_NUM}(?:\s*-\s*|\s+)(?:years?|yrs?)(?:\s*-\s*|\s+)of\s+age\b",
        rf"\b(?:aged|age(?:\s+of)?|age\s*:)\s*{_AGE_NUM}(?!\w|\.\d)",
        rf"\b(?:turned|turn|turns|turning)\s+{_AGE_NUM}(?!\w|\.\d)",
        rf"\bwhen\s+(?:he|she|i|they|we|you)\s+(?:was|were|is|are)\s+{_AGE_NUM}(?!\w|\.\d)",
    )
]


class AgeRecognizer(EntityRecognizer):
    """AGE: a number of years with the words that make it an age."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["AGE"], name="GovernAgeRecognizer")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        return [_result(self, m.start("age"), m.end("age"), 0.6) for rx in _AGE_PATTERNS for m in rx.finditer(text)]
