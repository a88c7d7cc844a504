"""Fixtures for governed retrieval: bundles with custom document rules, leaky stores, documents."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from govern import Governor
from tests.conftest import POLICIES, TEST_HASH_KEY

# A playbook collection with tenant, region, classification and customer (entity) metadata.
PLAYBOOK_RULES = """
version: 1
collections:
  playbooks:
    max_k: 1000
    rules:
      - id: pb-rep-region
        roles: [sales_rep]
        where: "region IN ('global', :principal.region) AND classification <= :principal.clearance"
      - id: pb-rep-tenant
        roles: [sales_rep]
        where: "tenant = :principal.tenant"
        restrictive: true
      - id: pb-lead-all-of-tenant
        roles: [sales_lead]
        where: "tenant = :principal.tenant"
      - id: pb-auditor
        roles: [auditor]
        where: "TRUE"
  accounts_notes:
    overfetch: 2
    max_fetch: 64
    max_k: 1000
    rules:
      - id: notes-own-customers
        roles: [sales_rep, support_agent]
        where: "customer_id IN entity_scope('customer')"
      - id: notes-auditor
        roles: [auditor]
        where: "TRUE"
"""

PRINCIPALS = """
principals:
  - {id: eve, roles: [sales_rep], attributes: {region: EU, tenant: acme, clearance: 1, employee_id: 1}}
  - {id: ivan, roles: [sales_rep], attributes: {region: NA, tenant: globex, clearance: 2, employee_id: 2}}
  - {id: nocl, roles: [sales_rep], attributes: {region: EU, tenant: acme, employee_id: 5}}
  - {id: lena, roles: [sales_lead], attributes: {region: NA, tenant: globex, employee_id: 18, clearance: 0}}
  - {id: sam, roles: [support_agent], attributes: {region: NA, employee_id: 22}}
  - {id: tara, roles: [support_lead], attributes: {region: EU, employee_id: 33}}
  - {id: ada, roles: [auditor], attributes: {employee_id: 40}}
"""

EXTRA_GRANTS = """
p, sales_rep, collection:playbooks, retrieve, allow
p, sales_rep, collection:accounts_notes, retrieve, allow
p, support_agent, collection:accounts_notes, retrieve, allow
"""


def make_bundle(tmp_path: Path, documents: str | None = PLAYBOOK_RULES, principals: str = PRINCIPALS,
                grants: str = EXTRA_GRANTS) -> Path:
    root = tmp_path / "bundle"
    shutil.copytree(POLICIES, root)
    (root / "documents.yaml").unlink(missing_ok=True)
    if documents is not None:
        (root / "documents.yaml").write_text(documents)
    (root / "principals.yaml").write_text(principals)
    with (root / "grants.csv").open("a") as f:
        f.write(grants)
    return root


@pytest.fixture()
def bundle_dir(tmp_path) -> Path:
    return make_bundle(tmp_path)


@pytest.fixture()
def rgov(bundle_dir, tmp_path) -> Governor:
    return Governor.from_path(bundle_dir, audit=tmp_path / "audit" / "trail.jsonl", hash_key=TEST_HASH_KEY)


@pytest.fixture()
def trail(rgov):
    path = rgov.audit.sink.path if hasattr(rgov.audit.sink, "path") else None

    def records():
        """The trail's decision records (the bundle-load record every governor writes first is left out)."""
        every = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
        assert every and every[0]["action"] == "policy_load"
        return [r for r in every if r["action"] != "policy_load"]

    return records


def playbook_docs(n_per: int = 5) -> list[dict]:
    """Every combination of tenant x region x classification, plus broken ones."""
    docs = []
    i = 0
    for tenant in ("acme", "globex", "initech"):
        for region in ("global", "EU", "NA", "APAC"):
            for cl in (0, 1, 2):
                for _ in range(n_per):
                    i += 1
                    docs.append({"id": f"pb-{i}", "text": f"Playbook {i} for {tenant} {region}: call Jane Roe at jane.roe{i}@example.com",
                                 "metadata": {"id": f"pb-{i}", "tenant": tenant, "region": region, "classification": cl}})
    return docs


BROKEN = [
    {"id": "no-tenant", "text": "secret", "metadata": {"id": "no-tenant", "region": "EU", "classification": 0}},
    {"id": "null-tenant", "text": "secret", "metadata": {"id": "null-tenant", "tenant": None, "region": "EU", "classification": 0}},
    {"id": "str-class", "text": "secret", "metadata": {"id": "str-class", "tenant": "acme", "region": "EU", "classification": "0"}},
    {"id": "list-tenant", "text": "secret", "metadata": {"id": "list-tenant", "tenant": ["acme"], "region": "EU", "classification": 0}},
    {"id": "bool-class", "text": "secret", "metadata": {"id": "bool-class", "tenant": "acme", "region": "EU", "classification": True}},
    {"id": "meta-not-dict", "text": "secret", "metadata": "tenant=acme"},
    {"id": "no-meta", "text": "secret"},
    {"id": "no-text", "metadata": {"id": "no-text", "tenant": "acme", "region": "EU", "classification": 0}},
]


def leaky(docs: list[dict]):
    """A store that ignores filters and k: returns every document it has."""
    def search(query, k=4, filter=None, **_):
        return list(docs)
    return search
