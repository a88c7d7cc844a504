"""Hot reload under concurrent checks: every request sees one whole bundle; a bad bundle never replaces a good one."""

from __future__ import annotations

import threading

import pytest

from govern import Governor
from govern.audit import AuditTrail
from govern.errors import PolicyLoadError
from govern.policy.reload import BundleWatcher
from tests.conftest import TEST_HASH_KEY

SQL = "SELECT id FROM customers"


def variant(bundle, region_rule: str) -> None:
    bundle.replace("rules.yaml", '    where: "region = :principal.region"\n  - id: customers-sales-lead-every-region',
                   f'    where: "{region_rule}"\n  - id: customers-sales-lead-every-region')


@pytest.fixture()
def two_bundles(tmp_path, demo_bundle):
    import shutil

    a = demo_bundle.path
    b = tmp_path / "policies_b"
    shutil.copytree(a, b)
    from tests.policy.conftest import BundleCopy

    variant(BundleCopy(b), "region = :principal.region AND segment = 'enterprise'")
    return a, b


def test_concurrent_checks_see_a_whole_bundle(two_bundles, tmp_path):
    a, b = two_bundles
    gov = Governor.from_path(a, audit=tmp_path / "trail.jsonl", hash_key=TEST_HASH_KEY)
    hashes = {}
    for path in (a, b):
        gov.reload(path)
        hashes[gov.bundle.content_hash] = "enterprise" in gov.check_sql(SQL, gov.principal("eve")).sql
    assert sorted(hashes.values()) == [False, True]
    stop = threading.Event()
    errors: list[str] = []
    seen: set[str] = set()

    def worker():
        eve = gov.principal("eve")
        while not stop.is_set():
            d = gov.check_sql(SQL, eve)
            seen.add(d.bundle_hash)
            if not d.allowed:
                errors.append(f"denied: {d.reasons}")
            elif d.bundle_hash not in hashes or hashes[d.bundle_hash] != ("enterprise" in d.sql):
                errors.append(f"decision of {d.bundle_hash} carries SQL of the other bundle: {d.sql}")

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        for i in range(40):
            gov.reload(b if i % 2 == 0 else a)
            if i % 5 == 0:
                with pytest.raises(PolicyLoadError):
                    gov.reload(tmp_path / "does-not-exist")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    assert seen == set(hashes)


def test_failed_reload_keeps_the_old_bundle_and_is_audited(demo_bundle, tmp_path):
    trail = tmp_path / "trail.jsonl"
    gov = Governor.from_path(demo_bundle.path, audit=trail, hash_key=TEST_HASH_KEY)
    before = gov.bundle.content_hash
    demo_bundle.replace("rules.yaml", "    mask: partial\n    keep_last: 12", "    mask: partial\n    keep_last: twelve")
    with pytest.raises(PolicyLoadError) as err:
        gov.reload()
    assert any(p.startswith("rules.yaml:") for p in err.value.problems)
    assert gov.bundle.content_hash == before
    assert gov.check_sql(SQL, gov.principal("eve")).bundle_hash == before
    import json

    records = [json.loads(line) for line in trail.read_text().splitlines()]
    loads = [r for r in records if r.get("action") == "policy_load"]
    assert loads and loads[-1]["decision"] == "deny" and loads[-1]["bundle_hash"] == before


def test_watcher_reloads_changes_and_skips_a_broken_version(demo_bundle):
    gov = Governor.from_path(demo_bundle.path, audit=AuditTrail.null(), hash_key=TEST_HASH_KEY)
    watcher = BundleWatcher(gov, interval=0.01)
    assert watcher.poll() == type(watcher.poll())(False, False, gov.bundle.content_hash)
    first = gov.bundle.content_hash
    variant(demo_bundle, "region = :principal.region AND segment = 'smb'")
    result = watcher.poll()
    assert result.settling and not result.reloaded  # reloaded only once unchanged for one poll
    result = watcher.poll()
    assert result.reloaded and result.bundle_hash != first and "smb" in gov.check_sql(SQL, gov.principal("eve")).sql
    good = gov.bundle.content_hash
    demo_bundle.replace("rules.yaml", "version: 1", "version: 2")
    assert watcher.poll().settling
    result = watcher.poll()
    assert result.changed and not result.reloaded and result.problems and gov.bundle.content_hash == good
    assert not watcher.poll().reloaded  # the same broken version is not retried
    demo_bundle.replace("rules.yaml", "version: 2", "version: 1")
    assert not watcher.poll().changed  # back to the bundle in force: nothing to do
    demo_bundle.append("rules.yaml", "# fixed")
    with watcher:  # the thread picks the fixed version up
        import time

        deadline = time.monotonic() + 5
        while gov.bundle.content_hash == good and time.monotonic() < deadline:
            time.sleep(0.02)
    assert gov.bundle.content_hash != good
