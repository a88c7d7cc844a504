"""Deterministic demo database: a small CRM with orders and support tickets.

``build_demo_db(path, seed=7)`` writes a DuckDB file whose *data* depends only on
``seed`` (a seeded ``random.Random``, hand-written word lists, no Faker, no clock,
no hash-ordered iteration). The file is built under a temporary name next to the
target and renamed into place, so a crash never leaves a half-built database.

The employee table has a fixed layout that does not depend on the seed, so the
demo principals in ``policies/principals.yaml`` can name their ``employee_id``:

====  ===============  ======  ==========================
id    role             region  note
====  ===============  ======  ==========================
1-16  account_manager  cycles  EU, NA, APAC, LATAM, EU, ...; 1 = Eve Laurent (EU)
17-20 sales_lead       cycles  18 = Lena Park (NA)
21-32 support_agent    cycles  22 = Sam Ortiz (NA)
33-36 support_lead     cycles  33 = Tara Novak (EU)
37-39 analyst          cycles
40    auditor          EU      Ada Byrne
====  ===============  ======  ==========================

Every other table is generated from the seed. ``region`` columns hold the region
code; a customer's accounts, orders and tickets carry the customer's region.
Ticket bodies are realistic free text full of PII (names, e-mails, phone numbers,
Luhn-valid *test* card numbers, IBANs with valid check digits, SSN-like ids).

CLI: ``python -m govern.demo.dataset PATH [--seed N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import duckdb

__all__ = [
    "ACCOUNT_MANAGER_IDS",
    "REGIONS",
    "SUPPORT_AGENT_IDS",
    "TABLES",
    "TABLE_NAMES",
    "Table",
    "build_demo_db",
    "create_table_sql",
    "generate",
    "luhn_valid",
    "main",
]

# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, SQL type), in SELECT * order
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = field(default=())
    unique: tuple[tuple[str, ...], ...] = field(default=())
    not_null: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]


def _t(name, columns, pk, fks=(), unique=(), not_null=()):
    return Table(name, tuple(columns), tuple(pk), tuple(fks), tuple(unique), tuple(not_null))


_REGION_FK = (("region",), "regions", ("code",))

# Tables in creation order (every foreign key points to an earlier table).
TABLES: tuple[Table, ...] = (
    _t(
        "regions",
        [("id", "INTEGER"), ("code", "VARCHAR"), ("name", "VARCHAR")],
        ["id"],
        unique=[("code",)],
        not_null=["code", "name"],
    ),
    _t(
        "employees",
        [
            ("id", "INTEGER"),
            ("name", "VARCHAR"),
            ("email", "VARCHAR"),
            ("role", "VARCHAR"),
            ("region", "VARCHAR"),
            ("salary", "DECIMAL(10,2)"),
            ("hired_on", "DATE"),
        ],
        ["id"],
        fks=[_REGION_FK],
        not_null=["name", "email", "role", "region"],
    ),
    _t(
        "customers",
        [
            ("id", "INTEGER"),
            ("name", "VARCHAR"),
            ("email", "VARCHAR"),
            ("phone", "VARCHAR"),
            ("national_id", "VARCHAR"),
            ("region", "VARCHAR"),
            ("account_manager_id", "INTEGER"),
            ("tenant", "VARCHAR"),
            ("segment", "VARCHAR"),
            ("created_at", "DATE"),
        ],
        ["id"],
        fks=[_REGION_FK, (("account_manager_id",), "employees", ("id",))],
        not_null=["name", "email", "region", "tenant"],
    ),
    _t(
        "accounts",
        [
            ("id", "INTEGER"),
            ("customer_id", "INTEGER"),
            ("iban", "VARCHAR"),
            ("balance", "DECIMAL(12,2)"),
            ("status", "VARCHAR"),
            ("opened_on", "DATE"),
            ("region", "VARCHAR"),
        ],
        ["id"],
        fks=[(("customer_id",), "customers", ("id",)), _REGION_FK],
        not_null=["customer_id", "iban", "region"],
    ),
    _t(
        "orders",
        [
            ("id", "INTEGER"),
            ("customer_id", "INTEGER"),
            ("region", "VARCHAR"),
            ("ordered_at", "DATE"),
            ("status", "VARCHAR"),
            ("total", "DECIMAL(12,2)"),
        ],
        ["id"],
        fks=[(("customer_id",), "customers", ("id",)), _REGION_FK],
        not_null=["customer_id", "region"],
    ),
    _t(
        "order_items",
        [
            ("id", "INTEGER"),
            ("order_id", "INTEGER"),
            ("product", "VARCHAR"),
            ("quantity", "INTEGER"),
            ("unit_price", "DECIMAL(10,2)"),
        ],
        ["id"],
        fks=[(("order_id",), "orders", ("id",))],
        not_null=["order_id", "product", "quantity", "unit_price"],
    ),
    _t(
        "support_tickets",
        [
            ("id", "INTEGER"),
            ("customer_id", "INTEGER"),
            ("agent_id", "INTEGER"),
            ("region", "VARCHAR"),
            ("opened_at", "TIMESTAMP"),
            ("status", "VARCHAR"),
            ("priority", "VARCHAR"),
            ("subject", "VARCHAR"),
            ("body", "VARCHAR"),
        ],
        ["id"],
        fks=[
            (("customer_id",), "customers", ("id",)),
            (("agent_id",), "employees", ("id",)),
            _REGION_FK,
        ],
        not_null=["customer_id", "region"],
    ),
    _t(
        "assignments",
        [("agent_id", "INTEGER"), ("customer_id", "INTEGER")],
        ["agent_id", "customer_id"],
        fks=[(("agent_id",), "employees", ("id",)), (("customer_id",), "customers", ("id",))],
    ),
)

TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def create_table_sql(table: Table, schema: str | None = None) -> str:
    """``CREATE TABLE`` for ``table`` (valid in DuckDB and PostgreSQL).

    With ``schema`` the table and every referenced table are schema-qualified.
    """

    def qual(name: str) -> str:
        return f"{_q(schema)}.{_q(name)}" if schema else _q(name)

    lines = []
    for col, typ in table.columns:
        nn = " NOT NULL" if col in table.not_null else ""
        lines.append(f"  {_q(col)} {typ}{nn}")
    lines.append(f"  PRIMARY KEY ({', '.join(map(_q, table.primary_key))})")
    for cols in table.unique:
        lines.append(f"  UNIQUE ({', '.join(map(_q, cols))})")
    for cols, ref_table, ref_cols in table.foreign_keys:
        lines.append(
            f"  FOREIGN KEY ({', '.join(map(_q, cols))}) "
            f"REFERENCES {qual(ref_table)} ({', '.join(map(_q, ref_cols))})"
        )
    return f"CREATE TABLE {qual(table.name)} (\n" + ",\n".join(lines) + "\n)"


# --------------------------------------------------------------------------- word lists

REGIONS: tuple[tuple[int, str, str], ...] = (
    (1, "EU", "Europe"),
    (2, "NA", "North America"),
    (3, "APAC", "Asia-Pacific"),
    (4, "LATAM", "Latin America"),
)
_REGION_CODES = [code for _, code, _ in REGIONS]

FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kira", "Luca", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Stefan", "Tomas",
    "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Chloe", "Diego",
    "Emma", "Felix", "Hannah", "Ivan", "Julia", "Kenji", "Laura", "Mateo", "Nina", "Oscar",
    "Priya", "Rafael", "Sofia", "Theo", "Valentina", "William", "Yara", "Amir",
)
LAST_NAMES = (
    "Schmidt", "Rossi", "Dubois", "Kowalski", "Jensen", "Garcia", "Silva", "Tanaka",
    "Kim", "Nguyen", "Patel", "Smith", "Johnson", "Brown", "Miller", "Wilson", "Moore",
    "Taylor", "Anderson", "Thomas", "Martin", "Lopez", "Gonzalez", "Fernandes", "Costa",
    "Novak", "Horvat", "Larsen", "Berg", "Lindqvist", "O'Brien", "Murphy", "Walsh",
    "Okafor", "Mensah", "Haddad", "Cohen", "Weber", "Fischer", "Meyer", "Sato", "Chen",
    "Wang", "Singh", "Khan", "Ramos", "Torres", "Reyes",
)
CITIES = {
    "EU": ("Berlin", "Paris", "Madrid", "Amsterdam", "Dublin", "Vienna", "Lisbon", "Warsaw"),
    "NA": ("New York", "Toronto", "Chicago", "Austin", "Seattle", "Boston", "Denver"),
    "APAC": ("Tokyo", "Sydney", "Singapore", "Seoul", "Melbourne", "Osaka"),
    "LATAM": ("Sao Paulo", "Mexico City", "Bogota", "Lima", "Santiago", "Buenos Aires"),
}
COMPANIES = (
    "Northwind Traders", "Blue Harbor Logistics", "Cedar & Pine Studio", "Helix Biotech",
    "Orbit Media", "Quarry Foods", "Redwood Analytics", "Summit Outdoor", "Tidewater Marine",
    "Vertex Robotics",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
EMPLOYEE_DOMAIN = "corp.example.com"
TENANTS = (("acme", 45), ("globex", 35), ("initech", 20))
SEGMENTS = (("consumer", 50), ("smb", 35), ("enterprise", 15))
PRODUCTS: tuple[tuple[str, Decimal], ...] = tuple(
    (n, Decimal(p))
    for n, p in (
        ("Laptop Pro 14", "1899.00"), ("Laptop Air 13", "1199.00"), ("USB-C Dock", "189.00"),
        ("27in Monitor", "349.00"), ("Wireless Mouse", "39.90"), ("Mechanical Keyboard", "129.00"),
        ("Noise-Cancelling Headset", "249.00"), ("Webcam HD", "79.00"), ("Office Chair", "429.00"),
        ("Standing Desk", "699.00"), ("Cloud Backup (1 yr)", "99.00"), ("Support Plan Gold", "499.00"),
        ("Support Plan Silver", "199.00"), ("Tablet 11", "599.00"), ("Phone Case", "19.90"),
        ("Smartphone X", "999.00"), ("Charger 65W", "49.00"), ("HDMI Cable 2m", "12.50"),
        ("External SSD 1TB", "119.00"), ("Printer Ink Pack", "59.00"), ("Label Printer", "149.00"),
        ("Conference Speaker", "279.00"), ("Router AX", "229.00"), ("Security Key", "55.00"),
    )
)
# Luhn-valid card numbers published by payment processors for testing.
TEST_CARDS = (
    "4111111111111111", "4012888888881881", "4242424242424242", "4000056655665556",
    "5555555555554444", "5105105105105100", "2223003122003222", "378282246310005",
    "371449635398431", "6011111111111117", "6011000990139424",
)

# Fixed employee layout (see the module docstring).
_EMPLOYEE_LAYOUT: list[tuple[str, int]] = (
    [("account_manager", 16)]
    + [("sales_lead", 4)]
    + [("support_agent", 12)]
    + [("support_lead", 4)]
    + [("analyst", 3)]
    + [("auditor", 1)]
)
_FIXED_EMPLOYEE_NAMES = {1: "Eve Laurent", 18: "Lena Park", 22: "Sam Ortiz", 33: "Tara Novak", 40: "Ada Byrne"}
ACCOUNT_MANAGER_IDS = tuple(range(1, 17))
SUPPORT_AGENT_IDS = tuple(range(21, 33))

ROW_COUNTS = {"employees": 40, "customers": 400, "accounts": 600, "orders": 2000, "support_tickets": 800}

_BASE = dt.date(2024, 12, 31)

# --------------------------------------------------------------------------- helpers


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iban(country: str, bban: str) -> str:
    """IBAN with valid ISO 13616 check digits."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _phone(rng: random.Random, region: str) -> str:
    # Fictional / reserved ranges where they exist (US 555-01xx, UK 020 7946 0xxx, AU 02 5550 xxxx).
    if region == "NA":
        area = rng.choice(("212", "415", "312", "617", "206", "416", "604"))
        return f"+1 {area}-555-01{rng.randint(0, 99):02d}"
    if region == "EU":
        kind = rng.randrange(3)
        if kind == 0:
            return f"+49 30 {rng.randint(1000000, 9999999)}"
        if kind == 1:
            return f"+44 20 7946 0{rng.randint(0, 999):03d}"
        return "+33 1 " + " ".join(f"{rng.randint(10, 99)}" for _ in range(4))
    if region == "APAC":
        if rng.randrange(2):
            return f"+61 2 5550 {rng.randint(0, 9999):04d}"
        return f"+81 3-5555-{rng.randint(0, 9999):04d}"
    if rng.randrange(2):
        return f"+55 11 9{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
    return f"+52 55 {rng.randint(1000, 9999)} {rng.randint(0, 9999):04d}"


def _slug(s: str) -> str:
    return "".join(c for c in s.lower() if c.isalnum())


def _format_card(rng: random.Random, number: str) -> str:
    style = rng.randrange(3)
    if style == 0 or len(number) != 16:
        return number
    sep = " " if style == 1 else "-"
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


# --------------------------------------------------------------------------- generation


def generate(seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    """All rows of every table, as lists of tuples in column order (pure function of seed)."""
    rng = random.Random(seed)
    data: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLE_NAMES}
    data["regions"] = [tuple(r) for r in REGIONS]

    # employees ------------------------------------------------------------
    emp_id = 0
    used_emails: set[str] = set()
    employees_by: dict[tuple[str, str], list[int]] = {}
    base_salary = {
        "account_manager": 68000, "sales_lead": 98000, "support_agent": 52000,
        "support_lead": 71000, "analyst": 82000, "auditor": 90000,
    }
    for role, count in _EMPLOYEE_LAYOUT:
        for k in range(count):
            emp_id += 1
            region = "EU" if role == "auditor" else _REGION_CODES[k % 4]
            name = _FIXED_EMPLOYEE_NAMES.get(emp_id) or f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            first, last = name.split(" ", 1)
            local = f"{_slug(first)}.{_slug(last)}"
            email = f"{local}@{EMPLOYEE_DOMAIN}"
            n = 2
            while email in used_emails:
                email = f"{local}{n}@{EMPLOYEE_DOMAIN}"
                n += 1
            used_emails.add(email)
            salary = _money(base_salary[role] + rng.randint(-80, 160) * 100)
            hired = _date_between(rng, dt.date(2012, 1, 1), dt.date(2023, 6, 30))
            data["employees"].append((emp_id, name, email, role, region, salary, hired))
            employees_by.setdefault((role, region), []).append(emp_id)

    # customers ------------------------------------------------------------
    region_weights = (("EU", 35), ("NA", 35), ("APAC", 18), ("LATAM", 12))
    customers = []  # dicts for later reference
    used_emails = set()
    used_nids: set[str] = set()
    for cid in range(1, ROW_COUNTS["customers"] + 1):
        region = _weighted(rng, region_weights)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        domain = rng.choice(EMAIL_DOMAINS)
        style = rng.randrange(3)
        local = (
            f"{_slug(first)}.{_slug(last)}" if style == 0
            else f"{_slug(first)[0]}{_slug(last)}" if style == 1
            else f"{_slug(first)}_{_slug(last)}{rng.randint(1, 99)}"
        )
        email = f"{local}@{domain}"
        n = 2
        while email in used_emails:
            email = f"{local}{n}@{domain}"
            n += 1
        used_emails.add(email)
        phone = _phone(rng, region) if rng.random() < 0.95 else None
        while True:
            area = rng.randint(100, 665)
            nid = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
            if nid not in used_nids:
                used_nids.add(nid)
                break
        manager = rng.choice(employees_by[("account_manager", region)])
        tenant = _weighted(rng, TENANTS)
        segment = _weighted(rng, SEGMENTS)
        created = _date_between(rng, dt.date(2019, 1, 1), dt.date(2024, 6, 30))
        row = (cid, name, email, phone, nid, region, manager, tenant, segment, created)
        data["customers"].append(row)
        customers.append(
            {"id": cid, "first": first, "last": last, "name": name, "email": email, "phone": phone,
             "nid": nid, "region": region, "created": created, "domain": domain}
        )

    # assignments: every customer has one support agent of its region, ~20% a second one
    assigned: dict[int, list[int]] = {}
    for c in customers:
        pool = list(employees_by[("support_agent", c["region"])])
        agents = [rng.choice(pool)]
        if rng.random() < 0.2:
            agents.append(rng.choice([a for a in pool if a != agents[0]]))
        assigned[c["id"]] = sorted(agents)
    data["assignments"] = sorted((a, cid) for cid, agents in assigned.items() for a in agents)

    # accounts: one per customer, plus a second one for 200 of them -----------------
    second = set(rng.sample(range(1, ROW_COUNTS["customers"] + 1), ROW_COUNTS["accounts"] - ROW_COUNTS["customers"]))
    acc_id = 0
    ibans: dict[int, list[str]] = {}
    for c in customers:
        for _ in range(2 if c["id"] in second else 1):
            acc_id += 1
            if rng.randrange(2):
                iban = _iban("DE", f"{rng.randint(10000000, 99999999)}{rng.randint(0, 9999999999):010d}")
            else:
                bank = rng.choice(("ABNA", "INGB", "RABO", "TRIO"))
                iban = _iban("NL", f"{bank}{rng.randint(0, 9999999999):010d}")
            ibans.setdefault(c["id"], []).append(iban)
            balance = _money(rng.choice((rng.uniform(-500, 2000), rng.uniform(0, 25000), rng.uniform(0, 250000))))
            status = _weighted(rng, (("active", 80), ("frozen", 8), ("closed", 12)))
            opened = _date_between(rng, c["created"], _BASE)
            data["accounts"].append((acc_id, c["id"], iban, balance, status, opened, c["region"]))

    # orders + items -------------------------------------------------------------
    # A third of the customers are "frequent buyers"; a few customers never order.
    weights = [rng.choice((0, 1, 1, 2, 3, 6)) for _ in customers]
    picked = rng.choices(customers, weights=weights, k=ROW_COUNTS["orders"])
    raw_orders = sorted(((_date_between(rng, c["created"], _BASE), c["id"]) for c in picked))
    by_id = {c["id"]: c for c in customers}
    item_id = 0
    for oid, (ordered_at, cid) in enumerate(raw_orders, start=1):
        c = by_id[cid]
        n_items = rng.choices((1, 2, 3, 4), weights=(2, 3, 3, 2))[0]
        total = Decimal("0.00")
        for product, price in rng.sample(PRODUCTS, n_items):
            item_id += 1
            qty = rng.choices((1, 2, 3, 5, 10), weights=(60, 20, 10, 6, 4))[0]
            unit = (price * Decimal(rng.choice((100, 100, 100, 95, 90, 85))) / 100).quantize(Decimal("0.01"))
            total += unit * qty
            data["order_items"].append((item_id, oid, product, qty, unit))
        age = (_BASE - ordered_at).days
        if age < 7:
            status = _weighted(rng, (("pending", 60), ("shipped", 40)))
        else:
            status = _weighted(rng, (("delivered", 82), ("cancelled", 8), ("returned", 6), ("shipped", 4)))
        data["orders"].append((oid, cid, c["region"], ordered_at, status, total.quantize(Decimal("0.01"))))
    orders_of: dict[int, list[int]] = {}
    for oid, cid, *_ in data["orders"]:
        orders_of.setdefault(cid, []).append(oid)

    # support tickets --------------------------------------------------------------
    raw_tickets = []
    for _ in range(ROW_COUNTS["support_tickets"]):
        c = rng.choice(customers)
        day = _date_between(rng, c["created"], _BASE)
        ts = dt.datetime(day.year, day.month, day.day, rng.randint(6, 22), rng.randint(0, 59), rng.randint(0, 59))
        raw_tickets.append((ts, c["id"], rng.random()))
    raw_tickets.sort()
    for tid, (ts, cid, _) in enumerate(raw_tickets, start=1):
        c = by_id[cid]
        agent = rng.choice(assigned[cid])
        subject, body = _ticket_text(rng, c, ibans[cid], orders_of.get(cid, []))
        age = (dt.datetime(2025, 1, 1) - ts).days
        status = (
            _weighted(rng, (("open", 55), ("pending", 30), ("resolved", 15))) if age < 14
            else _weighted(rng, (("resolved", 55), ("closed", 40), ("pending", 5)))
        )
        priority = _weighted(rng, (("low", 25), ("normal", 50), ("high", 18), ("urgent", 7)))
        data["support_tickets"].append((tid, cid, agent, c["region"], ts, status, priority, subject, body))
    return data


def _ticket_text(rng: random.Random, c: dict, ibans: list[str], orders: list[int]) -> tuple[str, str]:
    """(subject, body) of one ticket: free text with the customer's PII in it."""
    order = rng.choice(orders) if orders else rng.randint(1, ROW_COUNTS["orders"])
    card = _format_card(rng, rng.choice(TEST_CARDS))
    card2 = _format_card(rng, rng.choice(TEST_CARDS))
    phone = c["phone"] or _phone(rng, c["region"])
    alt_email = f"{_slug(c['first'])}.{_slug(c['last'])}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"
    city = rng.choice(CITIES[c["region"]])
    company = rng.choice(COMPANIES)
    iban = rng.choice(ibans)
    iban_spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.randrange(2) else iban
    exp = f"{rng.randint(1, 12):02d}/{rng.randint(26, 30)}"
    v = dict(
        name=c["name"], first=c["first"], email=c["email"], alt_email=alt_email, phone=phone,
        card=card, card2=card2, order=order, city=city, company=company, iban=iban_spaced,
        nid=c["nid"], exp=exp, last4=c["nid"][-4:],
    )
    templates = (
        (
            "Double charge on order #{order}",
            "Hi, this is {name}. I was charged twice for order #{order}. The card used was {card} "
            "(exp {exp}). Please refund the duplicate to the same card. You can reach me at {phone} "
            "or {email}.",
        ),
        (
            "Please update my contact details",
            "Hello support,\nI changed my email from {email} to {alt_email}, please update my profile. "
            "My phone number is still {phone}.\nThanks, {first}",
        ),
        (
            "Failed transfer - callback requested",
            "Agent note: {name} called from {phone} about a failed transfer to {iban}. Identity verified "
            "with national id {nid}. Customer asks for a callback before 5pm ({city} time).",
        ),
        (
            "Card replacement",
            "My card {card} was lost in {city}. Please charge future orders to my new card {card2} instead. "
            "Confirmation to {email} please. - {name}",
        ),
        (
            "Refund to bank account",
            "Please wire the refund for order #{order} to my account {iban} (account holder: {name}). "
            "If anything is unclear, email {email} or call {phone}.",
        ),
        (
            "Cannot log in",
            "Dear team, I cannot log in since yesterday. My username is {email}; last four of my SSN are "
            "{last4}. Call me back on {phone}. Regards, {name}",
        ),
        (
            "Missing delivery for order #{order}",
            "Order #{order} never arrived at our {city} office ({company}). Contact {name}, {email} / {phone}. "
            "We paid with {card}.",
        ),
        (
            "Tax document request from {name}",
            "Please send the annual statement for {name}, national id {nid}, to {alt_email} (not {email}). "
            "Payment card on file: {card}.",
        ),
        (
            "Question about invoice for order #{order}",
            "Hi, {first} from {company} here. The invoice for order #{order} shows the wrong billing phone "
            "({phone}). Card {card} is correct. Thanks!",
        ),
    )
    subject, body = rng.choice(templates)
    return subject.format(**v), body.format(**v)


# --------------------------------------------------------------------------- build


def build_demo_db(path: str | Path, *, seed: int = 7) -> Path:
    """Build the demo DuckDB database at ``path`` (overwritten) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = generate(seed)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.building")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            for table in TABLES:
                con.execute(create_table_sql(table))
                rows = data[table.name]
                width = len(table.columns)
                placeholder = "(" + ",".join("?" * width) + ")"
                for k in range(0, len(rows), 400):
                    chunk = rows[k : k + 400]
                    con.execute(
                        f"INSERT INTO {_q(table.name)} VALUES " + ",".join([placeholder] * len(chunk)),
                        [v for row in chunk for v in row],
                    )
            con.execute("CHECKPOINT")
        finally:
            con.close()
        Path(str(path) + ".wal").unlink(missing_ok=True)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        raise
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m govern.demo.dataset", description=__doc__.splitlines()[0])
    parser.add_argument("path", help="DuckDB file to (over)write")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    path = build_demo_db(args.path, seed=args.seed)
    con = duckdb.connect(str(path), read_only=True)
    try:
        for name in TABLE_NAMES:
            (n,) = con.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()
            print(f"{name:16} {n:6d}")
    finally:
        con.close()
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
