"""The clinic bundle's data (tests/bundles/clinic), the same rows on DuckDB, PostgreSQL and SQLite."""

from __future__ import annotations

TABLES = {
    "doctors": ("id INTEGER PRIMARY KEY, name VARCHAR, email VARCHAR, clinic_id INTEGER", [
        (1, "Dr. Ana Ruiz", "ana.ruiz@clinic.example", 1),
        (2, "Dr. Hugo Lind", "hugo.lind@clinic.example", 2),
        (3, "Dr. Mei Chen", "mei.chen@clinic.example", 1),
    ]),
    "patients": ("id INTEGER PRIMARY KEY, name VARCHAR, email VARCHAR, phone VARCHAR, ssn VARCHAR, birth_year INTEGER, "
                 "clinic_id INTEGER", [
        (1, "Lena Kowalski", "lk@ex.io", "+1 415 555 0101", "536-22-8726", 1984, 1),
        (2, "Omar Haddad", "omar.haddad@mail.example", "+1 415 555 0102", "401-73-2894", 1979, 1),
        (3, "Sara Jensen", "sara@jensen.example", None, "287-65-4310", 1992, 2),
        (4, "Tom Ito", "tom.ito@mail.example", "+1 212 555 0104", None, 2001, 2),
        (5, "Ines Duarte", "lk@ex.io", "+1 212 555 0105", "618-34-9021", 1968, 1),  # shares Lena's e-mail
        (6, "Kim Park", None, "+1 212 555 0106", "349-58-1273", 1990, 2),
    ]),
    "appointments": ("id INTEGER PRIMARY KEY, patient_id INTEGER, doctor_id INTEGER, day DATE, reason VARCHAR, "
                     "clinic_id INTEGER", [
        (1, 1, 1, "2026-01-05", "check-up", 1), (2, 2, 3, "2026-01-06", "follow-up", 1),
        (3, 3, 2, "2026-01-07", "x-ray", 2), (4, 4, 2, "2026-01-08", "check-up", 2),
        (5, 5, 1, "2026-01-09", "vaccination", 1), (6, 6, 2, "2026-01-10", "follow-up", 2),
    ]),
    "invoices": ("id INTEGER PRIMARY KEY, patient_id INTEGER, amount DECIMAL(10,2), card VARCHAR, iban VARCHAR, "
                 "clinic_id INTEGER", [
        (1, 1, 120.50, "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", 1),
        (2, 3, 80.00, "5500 0000 0000 0004", "GB29 NWBK 6016 1331 9268 19", 2),
        (3, 4, 45.25, "3400 0000 0000 009", "FR14 2004 1010 0505 0001 3M02 606", 2),
        (4, 6, 300.00, None, "NL91 ABNA 0417 1643 00", 2),
    ]),
    "notes": ("id INTEGER PRIMARY KEY, patient_id INTEGER, body VARCHAR, clinic_id INTEGER", [
        (1, 1, "Patient Lena Kowalski (SSN 536-22-8726) asked to be reached at lk@ex.io.", 1),
        (2, 3, "Sara Jensen paid with card 5500 0000 0000 0004; call +1 415 555 0199.", 2),
        (3, 5, "Follow-up for Ines Duarte, e-mail lk@ex.io, IBAN DE89 3704 0044 0532 0130 00.", 1),
    ]),
}

RAW = {(table, i, column): value for table, (ddl, rows) in TABLES.items()
       for i, row in enumerate(rows) for column, value in zip([c.split()[0] for c in ddl.split(", ")], row)}


def columns(table: str) -> list[str]:
    return [c.split()[0] for c in TABLES[table][0].split(", ")]


def load(conn, dialect: str, schema: str | None = None) -> None:
    """Create and fill the clinic's tables (in ``schema`` on PostgreSQL)."""
    prefix = f'"{schema}".' if schema else ""
    if schema:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    mark = "%s" if dialect == "postgres" else "?"
    for table, (ddl, rows) in TABLES.items():
        conn.execute(f"CREATE TABLE {prefix}{table} ({ddl})")
        marks = ", ".join([mark] * len(columns(table)))
        if dialect == "postgres":
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {prefix}{table} VALUES ({marks})", rows)
        else:
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    if dialect in ("sqlite", "postgres"):
        conn.commit()
