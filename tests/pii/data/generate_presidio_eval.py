"""Generate the external labelled set: presidio-evaluator's sentence generator and templates.

    pip install presidio-evaluator==0.3.2 pandas==3.1.1   # not project dependencies
    python tests/pii/data/generate_presidio_eval.py   # rewrites eval_presidio.jsonl, presidio_meta.json

The generated set is committed (eval_presidio.jsonl, with LICENSE-presidio-evaluator.txt),
so nothing else needs presidio-evaluator; tests/pii/test_eval_recall.py regenerates it
and compares byte for byte where the pinned versions are installed, and skips elsewhere.

Nothing in this set was written for govern: the 200-odd sentence templates, the
fake-person records (FakeNameGenerator.com, 3,000 people of many nationalities:
names, street addresses, phone numbers in their countries' national formats),
the organisation and nationality lists and the value providers (phone formats,
ages, addresses incl. military ones) all ship in the `presidio-evaluator` wheel
on PyPI (MIT licence; Microsoft's Presidio research repository). Its Faker-based
providers fill the rest. We only choose the seed and the number of sentences and
record the spans it reports.

Reproducible: pinned versions (presidio-evaluator, Faker; checked against
presidio_meta.json by tests/pii/test_eval_recall.py), a fixed seed, and two
changes that make the generator deterministic and offline, not different:

* its HospitalProvider is left out: it queries WikiData over the network when
  constructed (no template uses it);
* Faker's ``date_time``, ``date``, ``time``, ``year``, ``month``, ``month_name``,
  ``day_of_week``, ``day_of_month`` and ``date_of_birth`` are relative to today;
  they are drawn between fixed dates instead, so the set does not drift daily.

Each line: {"id", "kind": "presidio:<template id>", "text", "spans": [{"start",
"end", "type"}], "context": {}}; types are presidio-evaluator's (PERSON, GPE,
STREET_ADDRESS, ZIP_CODE, ORGANIZATION, NRP, DATE_TIME, AGE, TITLE, PHONE_NUMBER,
CREDIT_CARD, EMAIL_ADDRESS, DOMAIN_NAME, IBAN_CODE, US_SSN, IP_ADDRESS,
US_DRIVER_LICENSE). govern's evaluation maps them to broad types
(govern/pii/evaluation.py: BROAD).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import random
from pathlib import Path

HERE = Path(__file__).parent
SEED = 20240611
N_SENTENCES = 1500
_FROM, _TO = dt.datetime(1950, 1, 1), dt.datetime(2024, 6, 1)


def _generate(seed: int, n: int):
    import numpy as np
    from faker.providers import BaseProvider
    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.faker_extensions import (
        AddressProviderNew,
        AgeProvider,
        IpAddressProvider,
        NationalityProvider,
        OrganizationProvider,
        PhoneNumberProviderNew,
        ReligionProvider,
        UsDriverLicenseProvider,
    )

    class FixedDates(BaseProvider):
        """Faker's date providers, between fixed dates (theirs end today)."""

        def date_time(self, *args, **kwargs):
            return self.generator.date_time_between_dates(_FROM, _TO)

        def date_of_birth(self, *args, **kwargs):
            return self.generator.date_time_between_dates(_FROM, _TO).date()

        def year(self):
            return str(self.generator.date_time_between_dates(_FROM, _TO).year)

        def day_of_week(self):
            return self.generator.date_time_between_dates(_FROM, _TO).strftime("%A")

        def day_of_month(self):
            return self.generator.date_time_between_dates(_FROM, _TO).strftime("%d")

        def month_name(self):
            return self.generator.date_time_between_dates(_FROM, _TO).strftime("%B")

        def month(self):
            return self.generator.date_time_between_dates(_FROM, _TO).strftime("%m")

        def date(self, pattern="%Y-%m-%d", *args, **kwargs):
            return self.generator.date_time_between_dates(_FROM, _TO).strftime(pattern)

        def time(self, pattern="%H:%M:%S", *args, **kwargs):
            return self.generator.date_time_between_dates(_FROM, _TO).strftime(pattern)

    providers = [
        IpAddressProvider,
        NationalityProvider,
        OrganizationProvider,
        UsDriverLicenseProvider,
        AgeProvider,
        AddressProviderNew,
        PhoneNumberProviderNew,
        ReligionProvider,
    ]
    # the person records draw random numbers while they load, before the generator seeds
    random.seed(seed)
    np.random.seed(seed)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        faker = PresidioSentenceFaker("en_US", lower_case_ratio=0.05, entity_providers=providers, random_seed=seed)
        faker.add_provider(FixedDates)
        return faker.generate_new_fake_sentences(num_samples=n)


def main(out_dir: Path = HERE, seed: int = SEED, n: int = N_SENTENCES) -> None:
    import faker as _faker
    from importlib.metadata import version

    rows = []
    for i, sample in enumerate(_generate(seed, n)):
        text = sample.full_text
        spans = []
        for s in sample.spans:
            a, b = s.start_position, s.end_position
            # trim white space the records carry at a value's ends
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a < b:
                spans.append({"start": a, "end": b, "type": s.entity_type})
        spans.sort(key=lambda s: (s["start"], -s["end"], s["type"]))
        rows.append({"id": f"presidio-{i:04d}", "kind": f"presidio:{sample.template_id}", "text": text, "spans": spans, "context": {}})
    with open(out_dir / "eval_presidio.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    meta = {
        "generator": "presidio-evaluator PresidioSentenceFaker (en_US, lower_case_ratio=0.05)",
        "presidio_evaluator_version": version("presidio-evaluator"),
        "faker_version": _faker.VERSION,
        "seed": seed,
        "sentences": len(rows),
        "licence": "MIT (presidio-evaluator: templates, records, providers)",
    }
    (out_dir / "presidio_meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} sentences")


if __name__ == "__main__":
    main()
