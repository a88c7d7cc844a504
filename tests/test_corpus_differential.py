"""Differential tests of govern's SQL rewriting on the real text-to-SQL corpus.

For every corpus database (``/work/shared/corpus/text2sql``), every principal
of its bundle (``tests/corpus/policies/<db>``) and every engine (PostgreSQL
and MariaDB/MySQL when reachable, DuckDB, SQLite), each of the 274 corpus queries is governed
with ``Governor.check_sql`` and the governed SQL's rows on the base tables are
compared with the original query's rows on hand-written oracle views that
enforce the same policy in the database (``tests/corpus/oracle.py``). See
``tests/corpus/harness.py`` for the outcome statuses; any difference fails.

``python -m tests.corpus.report`` prints the same summary outside pytest.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.corpus import ddl, harness  # noqa: E402
from tests.corpus.conftest import (  # noqa: E402,F401  (fixtures used by name)
    corpus_duckdb,
    corpus_hash_key,
    corpus_mysql,
    corpus_pg,
    corpus_sqlite,
)

CASES = [(db, engine, pid) for db in ddl.DATABASES for engine in harness.ENGINES for pid in harness.principals(db)]
_ENGINE_FIXTURE = {"postgres": "corpus_pg", "duckdb": "corpus_duckdb", "sqlite": "corpus_sqlite", "mysql": "corpus_mysql"}
_OUTCOMES: list[harness.Outcome] = []


@pytest.fixture(scope="module", autouse=True)
def _print_summary(request):
    yield
    if not _OUTCOMES:
        return
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    text = "\n" + " corpus differential summary ".center(100, "=") + "\n" + harness.format_summary(_OUTCOMES)
    if reporter is None:  # pragma: no cover
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(text)
    else:  # pragma: no cover
        reporter.write_line(text)


@pytest.mark.parametrize(("db", "engine", "principal"), CASES, ids=["-".join(c) for c in CASES])
def test_corpus_differential(db, engine, principal, request):
    eng = request.getfixturevalue(_ENGINE_FIXTURE[engine])
    outcomes = harness.run_case(eng, db, principal)
    _OUTCOMES.extend(outcomes)
    print(harness.format_summary(outcomes))
    failures = [o for o in outcomes if o.failed]
    assert not failures, (
        f"{len(failures)} of {len(outcomes)} corpus queries differ for {principal} on {engine}/{db}:\n\n"
        + "\n\n".join(o.describe() for o in failures)
    )


PROBE_CASES = [(db, engine) for db in ddl.DATABASES for engine in harness.ENGINES]


@pytest.mark.parametrize(("db", "engine"), PROBE_CASES, ids=["-".join(c) for c in PROBE_CASES])
def test_table_probes(db, engine, request):
    """``SELECT * FROM t`` per table and principal: the governed relation equals the oracle view
    (same columns in the same order, same masked values, same rows); invisible tables are denied."""
    eng = request.getfixturevalue(_ENGINE_FIXTURE[engine])
    outcomes = [o for pid in harness.principals(db) for o in harness.run_probes(eng, db, pid)]
    bad = [o for o in outcomes if o.status not in ("equal", "denied_oracle_fails")]
    assert not bad, f"{len(bad)} table probes differ on {engine}/{db}:\n\n" + "\n\n".join(o.describe() for o in bad)


def test_bundles_match_oracles():
    """Every principal of a bundle has hand-written oracle views, and every oracle a principal."""
    for db in ddl.DATABASES:
        harness.principals(db)  # asserts the two lists agree
