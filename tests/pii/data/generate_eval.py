"""Generate the labelled PII evaluation set (seeded; output committed as JSONL).

    python tests/pii/data/generate_eval.py      # rewrites eval_faker.jsonl and eval_hard.jsonl

Each line: {"id", "kind", "text", "spans": [{"start", "end", "type"}], "context": {"names": [...]}}
Spans are recorded while the text is assembled (never found afterwards by a
recognizer). Gold spans may nest (an email inside a URL).

* eval_faker.jsonl: support tickets, emails, chat turns, CRM notes built from
  templates with Faker values (en_US / en_GB). ``context.names`` holds the
  customer's name (the passage's metadata / the customer row); other people in
  the text (agents, colleagues) are *not* in context, so pattern mode cannot see
  them and NER mode can.
* eval_hard.jsonl: hand-written hard cases in ``{{TYPE|value}}`` markup below.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path

import phonenumbers
from faker import Faker

HERE = Path(__file__).parent
SEED = 20240604
N_FAKER = 320
_DATE_FROM, _DATE_TO = dt.date(1995, 1, 1), dt.date(2024, 6, 4)


# ---- markup: "{{TYPE|value}}" (nestable) -> text + spans ----------------------------
def parse_markup(src: str) -> tuple[str, list[dict]]:
    out: list[str] = []
    spans: list[dict] = []
    stack: list[tuple[str, int]] = []
    i = 0
    n = 0  # length of output so far
    while i < len(src):
        if src.startswith("{{", i):
            j = src.index("|", i)
            stack.append((src[i + 2 : j], n))
            i = j + 1
        elif src.startswith("}}", i) and stack:
            typ, start = stack.pop()
            spans.append({"start": start, "end": n, "type": typ})
            i += 2
        else:
            out.append(src[i])
            n += 1
            i += 1
    assert not stack, src
    spans.sort(key=lambda s: (s["start"], -s["end"]))
    return "".join(out), spans


# ---- value generators -----------------------------------------------------------------
class Values:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.us = Faker("en_US")
        self.gb = Faker("en_GB")
        self.de = Faker("de_DE")
        self.nl = Faker("nl_NL")
        self.fr = Faker("fr_FR")
        Faker.seed(seed)

    def name(self) -> str:
        first, last = self.first_last()
        return f"{first} {last}"

    def first_last(self) -> tuple[str, str]:
        f = self.us if self.rng.random() < 0.7 else self.gb
        return f.first_name(), f.last_name()

    def email(self, name: str | None = None) -> str:
        r = self.rng.random()
        if name and r < 0.4:
            parts = [re.sub(r"[^a-z]", "", p.lower()) for p in name.split()[:2]]
            sep = self.rng.choice([".", "_", ""])
            dom = self.rng.choice([self.us.free_email_domain(), self.us.domain_name(), self.gb.domain_name()])
            return f"{sep.join(p for p in parts if p)}@{dom}"
        return self.rng.choice([self.us.email, self.us.company_email, self.gb.free_email])()

    def phone(self) -> str:
        while True:
            if self.rng.random() < 0.7:
                area = self.rng.randint(201, 989)
                exch = self.rng.randint(200, 999)
                line = self.rng.randint(0, 9999)
                raw = f"{area}{exch}{line:04d}"
                num = phonenumbers.parse(raw, "US")
                if not phonenumbers.is_valid_number(num):
                    continue
                fmt = self.rng.choice(
                    ["({a}) {e}-{l}", "{a}-{e}-{l}", "{a}.{e}.{l}", "+1 {a} {e} {l}", "+1-{a}-{e}-{l}", "1-{a}-{e}-{l}"]
                )
                return fmt.format(a=raw[:3], e=raw[3:6], l=raw[6:])
            else:
                raw = self.rng.choice(["20", "161", "117", "131", "7700", "7911", "1632"])
                rest_len = 10 - len(raw)
                raw = raw + "".join(str(self.rng.randint(0, 9)) for _ in range(rest_len))
                num = phonenumbers.parse("0" + raw, "GB")
                if not phonenumbers.is_valid_number(num):
                    continue
                style = self.rng.choice(
                    [phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL]
                )
                return phonenumbers.format_number(num, style)

    def card(self) -> str:
        typ = self.rng.choice(["visa16", "visa16", "mastercard", "mastercard", "amex", "discover"])
        num = self.us.credit_card_number(card_type=typ)
        r = self.rng.random()
        if len(num) == 16 and r < 0.35:
            return " ".join(num[i : i + 4] for i in range(0, 16, 4))
        if len(num) == 16 and r < 0.55:
            return "-".join(num[i : i + 4] for i in range(0, 16, 4))
        return num

    def ssn(self) -> str:
        s = self.us.ssn()
        return s if self.rng.random() < 0.85 else s.replace("-", " ")

    def iban(self) -> str:
        iban = self.rng.choice([self.gb, self.de, self.nl, self.fr]).iban()
        if self.rng.random() < 0.4:
            return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        return iban

    def ip(self) -> str:
        return self.us.ipv4_public() if self.rng.random() < 0.8 else self.us.ipv6()

    def url(self) -> str:
        base = self.us.url().rstrip("/")
        if self.rng.random() < 0.6:
            base += "/" + self.us.uri_path()
        if self.rng.random() < 0.2:
            base = base.split("://", 1)[1]
        return base


# ---- templates: slot names in braces; {cust} = the customer (in context) ---------------
TEMPLATES: list[tuple[str, str]] = [
    ("ticket", "Ticket #{n}: Customer {cust} cannot log in. Registered email is {email}, callback number {phone}. Last login from {ip}."),
    ("ticket", "Subject: Refund request\n\nHi, this is {cust}. I was charged twice on my card {card}. Please refund to IBAN {iban}. Thanks."),
    ("ticket", "Customer {cust} ({email}) reports the page {url} returns a 500 error. Agent {agent} escalated it."),
    ("ticket", "Identity check for {cust}: SSN {ssn} matches our records; phone on file {phone}."),
    ("ticket", "Escalation: {cust} disputes a charge on card ending in {card}. Contact: {phone} / {email}."),
    ("ticket", "Bug report from {cust}: upload fails from IP {ip} when visiting {url}. Assigned to {agent}."),
    ("ticket", "Order {n} for {cust} was returned. Refund account: {iban}. Notify at {email}."),
    ("email", "From: {email}\nTo: {support}\n\nHello,\nMy name is {cust} and my phone number is {phone}. Can someone call me back?\nBest, {cust_first}"),
    ("email", "Dear {cust},\n\nWe received your payment from account {iban}. If this was not you, call us at {phone}.\n\nRegards,\n{agent}"),
    ("email", "Hi {agent},\nplease update the billing details of {cust}: new card {card}, billing email {email}.\nThanks"),
    ("email", "Hi team, {cust} asked us to remove their SSN ({ssn}) from the application form at {url}. Please confirm."),
    ("email", "Good morning {cust_first}, your new login link is {url}. Your account email is {email}."),
    ("chat", "user: hi my email is {email} and I can't reset my password\nbot: Thanks! Is {phone} still your number?\nuser: yes"),
    ("chat", "user: I'm {cust}, card {card} got declined\nagent({agent}): sorry to hear that, checking now"),
    ("chat", "user: can you send the invoice to {email}? also my ssn is {ssn} for the tax form"),
    ("chat", "agent: Could you confirm the IBAN for the transfer?\nuser: sure, it's {iban}\nagent: thanks {cust_first}!"),
    ("chat", "user: the dashboard at {url} is blocked from {ip}\nagent: I'll whitelist {ip} for you"),
    ("chat", "user: text me at {phone} please, email {email} bounces"),
    ("note", "CRM note: spoke with {cust} on {date}. Prefers phone {phone}. Colleague {agent} cc'd."),
    ("note", "Account {n} owner {cust}; SSN {ssn}; card {card}; email {email}."),
    ("note", "Meeting with {cust} and {other} about the renewal. Follow-up via {email}."),
    ("note", "Login anomaly: {cust} signed in from {ip} and {ip2} within 5 minutes."),
    ("note", "Payment details for {cust}: IBAN {iban}, card {card}."),
    ("note", "{cust} called from {phone} asking about invoice {n}; transferred to {agent}."),
    ("note", "Website {url} lists {cust}'s contact email {email} publicly; request takedown."),
    ("ticket", "Order {n} shipped on {date} for a total of ${amount}. No action needed."),
    ("chat", "user: is the service down? version {version} fails to start\nagent: known issue, fix in {version2}"),
]


def render(template: str, v: Values, cust: str) -> tuple[str, list[dict]]:
    agent = v.name()
    other = v.name()
    fills = {
        "cust": ("PERSON", cust),
        "cust_first": ("PERSON", cust.split()[0]),
        "agent": ("PERSON", agent),
        "other": ("PERSON", other),
        "email": ("EMAIL_ADDRESS", v.email(cust)),
        "phone": ("PHONE_NUMBER", v.phone()),
        "card": ("CREDIT_CARD", v.card()),
        "ssn": ("US_SSN", v.ssn()),
        "iban": ("IBAN_CODE", v.iban()),
        "ip": ("IP_ADDRESS", v.ip()),
        "ip2": ("IP_ADDRESS", v.ip()),
        "url": ("URL", v.url()),
        "n": (None, str(v.rng.randint(10000, 999999))),
        # Fixed bounds: Faker's plain date() is relative to today, which made the set drift daily.
        "date": (None, v.us.date_between_dates(_DATE_FROM, _DATE_TO).strftime("%B %d, %Y")),
        "amount": (None, f"{v.rng.randint(5, 900)}.{v.rng.randint(0, 99):02d}"),
        "support": ("EMAIL_ADDRESS", "support@" + v.us.domain_name()),
        "version": (None, f"{v.rng.randint(1, 12)}.{v.rng.randint(0, 20)}.{v.rng.randint(0, 9)}"),
        "version2": (None, f"{v.rng.randint(1, 12)}.{v.rng.randint(0, 20)}.{v.rng.randint(0, 9)}"),
    }
    parts = re.split(r"(\{[a-z_0-9]+\})", template)
    src = []
    for p in parts:
        m = re.fullmatch(r"\{([a-z_0-9]+)\}", p)
        if not m:
            src.append(p.replace("{", "").replace("}", ""))
            continue
        typ, val = fills[m.group(1)]
        src.append(f"{{{{{typ}|{val}}}}}" if typ else val)
    return parse_markup("".join(src))


# ---- hand-written hard cases --------------------------------------------------------------
# (kind, markup, context names)
HARD: list[tuple[str, str, list[str]]] = [
    # sarcasm / social engineering
    ("sarcasm", "Oh sure, because posting my card {{CREDIT_CARD|4532015112830366}} in a chat is *totally* safe. Great security, guys.", []),
    ("sarcasm", "Yeah right, like I'd give you my number. Fine, it's {{PHONE_NUMBER|(415) 867-5309}}, happy now?", []),
    ("sarcasm", "My SSN? Sure, it's definitely {{US_SSN|219-09-9999}}, said nobody sane ever.", []),
    ("sarcasm", "Wow, {{PERSON|Karen Whitfield}} really loves getting emails at {{EMAIL_ADDRESS|karen.w@example.org}} at 3am. Not.", ["Karen Whitfield"]),
    ("sarcasm", "Thanks a lot {{PERSON|Dave}}, the 'secure' portal {{URL|https://secure-portal.example.com/login}} leaked my IBAN {{IBAN_CODE|GB82 WEST 1234 5698 7654 32}}.", ["Dave Morton"]),
    # numbers that look like cards (not cards: fail Luhn, or identifiers)
    ("card_lookalike", "Order number 4111 2222 3333 4444 has shipped.", []),
    ("card_lookalike", "Tracking: 1Z999AA10123456784, reference 6011 0000 0000 0001.", []),
    ("card_lookalike", "Invoice total 1,234,567,890,123.45 reconciled on batch 9876543210987654.", []),
    ("card_lookalike", "Serial numbers 1234-5678-9012-3456 and 0000 1111 2222 3333 were recalled.", []),
    ("card_lookalike", "The real card is {{CREDIT_CARD|5555 5555 5555 4444}}; the order id 5555 5555 5555 4445 is not.", []),
    ("card_lookalike", "Charge {{CREDIT_CARD|378282246310005}} (amex) for 3 seats.", []),
    ("card_lookalike", "Build 20240115093000123 finished; artifact 4000-1234-5678-9010 uploaded.", []),
    # emails inside URLs, mailto, angle brackets
    ("email_in_url", "Unsubscribe: {{URL|https://news.example.com/unsubscribe?email={{EMAIL_ADDRESS|jane.roe@example.org}}}}", []),
    ("email_in_url", "Reset link {{URL|https://app.example.com/reset?user={{EMAIL_ADDRESS|m.ortiz@example.net}}&token=abc123}} expires soon.", []),
    ("email_in_url", "<a href=\"mailto:{{EMAIL_ADDRESS|sales@acme-widgets.com}}\">Contact sales</a>", []),
    ("email_in_url", "From: \"{{PERSON|Priya Natarajan}}\" <{{EMAIL_ADDRESS|priya.n@example.co.uk}}>", ["Priya Natarajan"]),
    ("email_in_url", "Write to {{EMAIL_ADDRESS|ada+billing@example.co.uk}} (plus-addressing works).", []),
    ("email_in_url", "Profile: {{URL|https://example.com/users/{{EMAIL_ADDRESS|tom_h@example.com}}/settings}}", []),
    ("email_in_url", "Obfuscated: {{EMAIL_ADDRESS|jane dot doe at example dot com}} -- please don't scrape.", []),
    # names that are also words
    ("name_word", "I will call {{PERSON|Will Summer}} in the summer; {{PERSON|Will}} said he will be around.", ["Will Summer"]),
    ("name_word", "Prices rose on the hill near {{PERSON|Rose Hill}}'s shop, and {{PERSON|Rose}} was not amused.", ["Rose Hill"]),
    ("name_word", "Please mark the bell icon as read, then forward to {{PERSON|Mark Bell}}.", ["Mark Bell"]),
    ("name_word", "In April we may ship; {{PERSON|April May}} approved it.", ["April May"]),
    ("name_word", "talked to {{PERSON|john smith}} yesterday, he wants a callback", ["John Smith"]),
    ("name_word", "{{PERSON|Grace}}'s account shows a grace period until Friday.", ["Grace Hopper"]),
    ("name_word", "The brown fox belongs to {{PERSON|Gordon Brown}}, not to Mr Fox.", ["Gordon Brown"]),
    ("name_word", "{{PERSON|Hunter}} is the hunter of bugs this sprint; ping {{PERSON|Alex Hunter}}.", ["Alex Hunter"]),
    # look-alikes for IPs, phones, SSNs
    ("lookalike", "Upgraded the agent from version 10.2.3 to 10.2.4 last night.", []),
    ("lookalike", "Meeting at 10:30:45 on 2024-03-05, room 12-345.", []),
    ("lookalike", "Server {{IP_ADDRESS|203.0.113.77}} and IPv6 {{IP_ADDRESS|2001:db8:85a3::8a2e:370:7334}} both respond.", []),
    ("lookalike", "Part no. 123-45-678 and lot 98-7654321 are in stock.", []),
    ("lookalike", "Reach the London office on {{PHONE_NUMBER|+44 20 7946 0958}} or the US desk on {{PHONE_NUMBER|+1 212-736-5000}}.", []),
    ("lookalike", "My social is {{US_SSN|536-90-4399}}, the form number is 2024-0007.", []),
    ("lookalike", "Wire to {{IBAN_CODE|DE89370400440532013000}}; BIC COBADEFFXXX.", []),
    ("lookalike", "Visit {{URL|www.example-shop.com/account/orders}} or call {{PHONE_NUMBER|020 7946 0321}}.", []),
    ("lookalike", "The ratio was 3.14159 and the score 98.6 over 1000000 runs.", []),
    ("lookalike", "No personal data here: the sky is blue and the build is green.", []),
]


def main(out_dir: Path = HERE) -> None:
    v = Values(SEED)
    rows = []
    for i in range(N_FAKER):
        kind, tpl = TEMPLATES[i % len(TEMPLATES)]
        cust = v.name()
        text, spans = render(tpl, v, cust)
        rows.append({"id": f"faker-{i:04d}", "kind": kind, "text": text, "spans": spans, "context": {"names": [cust]}})
    with open(out_dir / "eval_faker.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(out_dir / "eval_hard.jsonl", "w", encoding="utf-8") as fh:
        for i, (kind, markup, names) in enumerate(HARD):
            text, spans = parse_markup(markup)
            fh.write(
                json.dumps({"id": f"hard-{i:03d}", "kind": kind, "text": text, "spans": spans, "context": {"names": names}}, ensure_ascii=False)
                + "\n"
            )
    import faker as _faker

    meta = {"seed": SEED, "faker_version": _faker.VERSION, "faker_passages": len(rows), "hard_cases": len(HARD)}
    (out_dir / "eval_meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} faker passages and {len(HARD)} hard cases")


if __name__ == "__main__":
    main()
