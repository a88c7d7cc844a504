"""Issue 14 (3): consistent placeholders.

Within one result (the cells of a query result, the passages of one retrieval) and within
one conversation when one is given, the same value always gets the same placeholder and
different values different ones, across cells, rows and columns; placeholders never reveal
counts across principals (numbering starts at 1 for every result and every principal's
conversation). Proved over generated results with repeated and distinct values.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.pii import PiiEngine, PiiSettings
from tests import clinic_data

EMAILS = [f"{n}@{d}.example.com" for n in ("ann.lee", "bo", "carla.m", "dmitri") for d in ("acme", "mail")]
PHONES = ["+41 44 668 18 00", "+1 415 555 0132", "+44 20 7946 0958", "+49 30 901820"]
TOKEN = re.compile(r"<([A-Z_]+?)_(\d+)>")
TEMPLATES = ["mail {} now", "{}", "from: {} (work)", "cc {}; thanks"]


def _engine(operator: str) -> PiiEngine:
    return PiiEngine(PiiSettings.model_validate({"operators": {"default": {"operator": operator}}}))


ENGINES = {op: _engine(op) for op in ("placeholder", "pseudonym")}

# a result: rows × columns of cells, each cell one value (an e-mail or a phone) in a template
cells = st.tuples(st.sampled_from(EMAILS + PHONES), st.sampled_from(TEMPLATES))
results = st.lists(st.lists(cells, min_size=1, max_size=3), min_size=1, max_size=6)


def _bijective(pairs: list[tuple[str, str]]) -> None:
    """(value, token) pairs: same value -> same token, different values -> different tokens."""
    by_value: dict[str, str] = {}
    by_token: dict[str, str] = {}
    for value, token in pairs:
        assert by_value.setdefault(value, token) == token, (value, token, by_value[value])
        assert by_token.setdefault(token, value) == value, (token, value, by_token[token])


def _pairs(grid, masked_texts) -> list[tuple[str, str]]:
    out = []
    for (value, template), text in zip((c for row in grid for c in row), masked_texts):
        toks = TOKEN.findall(text)
        assert len(toks) == 1, text
        assert value not in text
        prefix, _, suffix = template.partition("{}")
        assert text.startswith(prefix) and text.endswith(suffix)
        out.append((value, f"<{toks[0][0]}_{toks[0][1]}>"))
    return out


@pytest.mark.parametrize("operator", ["placeholder", "pseudonym"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grid=results)
def test_one_result_numbers_values_consistently(operator, grid):
    engine = ENGINES[operator]
    texts = [template.format(value) for row in grid for value, template in row]
    masked = engine.mask_many(texts)
    pairs = _pairs(grid, [m.text for m in masked])
    _bijective(pairs)
    # numbered from 1 per type, densely: the numbers reveal nothing beyond this result
    for kind in ("EMAIL_ADDRESS", "PHONE_NUMBER"):
        nums = sorted({int(n) for t in (m.text for m in masked) for k, n in TOKEN.findall(t) if k == kind})
        assert nums == list(range(1, len(nums) + 1))


@pytest.mark.parametrize("operator", ["placeholder", "pseudonym"])
@settings(max_examples=30, deadline=None)
@given(turns=st.lists(results, min_size=2, max_size=3), conv=st.integers(0, 10**9))
def test_one_conversation_numbers_values_consistently_across_turns(operator, turns, conv):
    engine = ENGINES[operator]
    pairs = []
    for grid in turns:
        texts = [template.format(value) for row in grid for value, template in row]
        pairs += _pairs(grid, [m.text for m in engine.mask_many(texts, conversation=f"c{conv}-{operator}")])
    _bijective(pairs)
    engine.vault.forget(f"c{conv}-{operator}")


def test_placeholders_in_a_conversation_are_numbered_but_never_revealed():
    engine = ENGINES["placeholder"]
    a = engine.mask("write to ann.lee@acme.example.com", conversation="p-1")
    b = engine.mask("or bo@mail.example.com, or ann.lee@acme.example.com", conversation="p-1")
    assert a.text == "write to <EMAIL_ADDRESS_1>"
    assert b.text == "or <EMAIL_ADDRESS_2>, or <EMAIL_ADDRESS_1>"
    assert engine.reveal(b.text, "p-1", {"EMAIL_ADDRESS"}) == b.text  # placeholders are not pseudonyms
    pseudo = ENGINES["pseudonym"]
    c = pseudo.mask("write to ann.lee@acme.example.com", conversation="p-1")
    assert pseudo.reveal(c.text, "p-1", {"EMAIL_ADDRESS"}) == "write to ann.lee@acme.example.com"


def test_numbers_reveal_no_counts_across_principals(quiet_gov):
    """Principal A's conversation has seen five e-mails; B's first e-mail, in a conversation with
    the same id, is still number 1 (and B cannot reveal A's tokens)."""
    alice = {"id": "alice", "roles": ["auditor"]}
    bob = {"id": "bob", "roles": ["auditor"]}
    agent = {"id": "sam2", "roles": ["support_agent"]}  # may reveal e-mails, but only its own tokens
    quiet_gov.mask_texts([f"mail {e}" for e in EMAILS[:5]], alice, conversation="shared-id")
    seen = quiet_gov.mask_text(f"and {EMAILS[6]} here", bob, conversation="shared-id")
    assert seen.text == "and <EMAIL_ADDRESS_1> here"
    first_of_alice = quiet_gov.mask_text(f"mail {EMAILS[0]}", alice, conversation="shared-id").text
    assert first_of_alice == "mail <EMAIL_ADDRESS_1>"
    assert quiet_gov.reveal(first_of_alice, agent, "shared-id") == first_of_alice
    # and a new result (no conversation) starts at 1 again
    assert quiet_gov.mask_text(f"x {EMAILS[3]}", alice).text == "x <EMAIL_ADDRESS_1>"


def test_free_text_in_one_query_result_is_numbered_across_rows(tmp_path):
    """gov.execute on the clinic's notes: the e-mail shared by notes 1 and 3 gets one placeholder,
    the two patients' names two different ones (rows of one result)."""
    import duckdb

    from govern import Governor
    from tests.conftest import TEST_HASH_KEY
    from tests.test_classification_masks import CLINIC

    conn = duckdb.connect(str(tmp_path / "clinic.duckdb"))
    clinic_data.load(conn, "duckdb")
    gov = Governor.from_path(CLINIC, audit=tmp_path / "t.jsonl", hash_key=TEST_HASH_KEY)
    body = dict(gov.execute(conn, "SELECT id, body FROM notes ORDER BY id", gov.principal("rex"), "duckdb").rows)
    emails = [TOKEN.search(body[i][body[i].index("reached") if i == 1 else body[i].index("e-mail"):]).group() for i in (1, 3)]
    assert emails[0] == emails[1] and emails[0].startswith("<EMAIL_ADDRESS_")
    persons = [re.search(r"<PERSON_\d+>", body[i]).group() for i in (1, 3)]
    assert persons[0] != persons[1]
    assert "lk@ex.io" not in repr(body) and "Kowalski" not in repr(body) and "Duarte" not in repr(body)
    conn.close()
