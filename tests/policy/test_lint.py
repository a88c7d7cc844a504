"""One test per lint finding: a bundle that has it and the bundle without it."""

from __future__ import annotations

import json


from govern.cli import main
from govern.policy.lint import lint_bundle


def last_line(path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def codes(path) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in lint_bundle(path).findings:
        out.setdefault(f.code, []).append(f)
    return out


def test_baseline_mini_bundle(mini):
    found = codes(mini.path)
    # The mini bundle's deliberate quirks: a mask on a column its roles are denied, a role with no rows,
    # a partial mask keeping 13 characters of an e-mail.
    assert set(found) == {"mask-on-denied-column", "no-rows-for-role", "partial-reveals-most"}
    assert found["partial-reveals-most"][0].rule == "owner-email-partial"
    assert found["mask-on-denied-column"][0].rule == "secret-redacted"


def test_demo_bundle_loads_with_no_errors():
    report = lint_bundle("policies")
    assert report.loaded and report.count("error") == 0


def test_schema_error_has_file_and_line(mini):
    mini.replace("rules.yaml", "    restrictive: true", "    restrictive: true\n    colour: red")
    report = lint_bundle(mini.path)
    assert not report.loaded
    [f] = [f for f in report.findings if f.code == "load-error"]
    assert f.file == "rules.yaml" and f.line == 17 and "unknown key" in f.message


def test_unknown_table_in_grants(mini):
    assert "unknown-table" not in codes(mini.path)
    mini.append("grants.csv", "p, member, projectz.*, select, allow")
    [f] = codes(mini.path)["unknown-table"]
    assert f.file == "grants.csv" and f.line == last_line(mini.path / "grants.csv") and "projectz" in f.message


def test_unknown_column_in_grants(mini):
    assert "unknown-column" not in codes(mini.path)
    mini.append("grants.csv", "p, viewer, projects.nope, select, allow")
    [f] = codes(mini.path)["unknown-column"]
    assert "nope" in f.message and f.line == last_line(mini.path / "grants.csv")


def test_unknown_role_in_rules(mini):
    assert "unknown-role" not in codes(mini.path)
    mini.replace("rules.yaml", "roles: [auditor]\n    mask: hash", "roles: [auditr]\n    mask: hash")
    [f] = codes(mini.path)["unknown-role"]
    assert f.rule == "owner-email-hash-auditor" and f.file == "rules.yaml" and f.line == 34 and "auditr" in f.message


def test_rule_that_can_never_apply(mini):
    assert "never-applies" not in codes(mini.path)
    # every role the mask names is also excepted: no principal matches it
    mini.replace("rules.yaml", "limits:", "  - id: budget-never\n    table: projects\n    column: budget\n    roles: [viewer]\n    except_roles: [viewer]\n    mask: \"null\"\nlimits:")
    [f] = codes(mini.path)["never-applies"]
    assert f.rule == "budget-never" and "matches no principal" in f.message


def test_mask_shadowed_by_an_earlier_mask(mini):
    assert "shadowed-mask" not in codes(mini.path)
    # owner-email-partial applies to everyone but auditors, so a later member mask is unreachable
    mini.replace("rules.yaml", "limits:", "  - id: owner-email-null-members\n    table: projects\n    column: owner_email\n    roles: [member]\n    mask: \"null\"\nlimits:")
    [f] = codes(mini.path)["shadowed-mask"]
    assert f.rule == "owner-email-null-members" and "owner-email-partial" in f.message


def test_mask_reachable_through_except_roles_is_not_shadowed(mini):
    # a mask for auditors after a mask that excepts auditors is reachable (the existing hash mask)
    assert "shadowed-mask" not in codes(mini.path)
    mini.replace("rules.yaml", "limits:", "  - id: owner-email-null-auditors\n    table: projects\n    column: owner_email\n    roles: [auditor]\n    mask: \"null\"\nlimits:")
    [f] = codes(mini.path)["shadowed-mask"]  # now shadowed by owner-email-hash-auditor
    assert f.rule == "owner-email-null-auditors" and "owner-email-hash-auditor" in f.message


def test_mask_on_denied_column(mini):
    assert codes(mini.path)["mask-on-denied-column"][0].rule == "secret-redacted"
    mini.replace("grants.csv", "p, lead, projects.secret, select, allow", "# (no secret for leads)")
    mini.replace("rules.yaml", "    roles: [lead]", "    roles: [auditor]")
    assert "mask-on-denied-column" not in codes(mini.path)


def test_filter_shadowed_by_a_true_filter(mini):
    assert "redundant-filter" not in codes(mini.path)
    mini.replace("rules.yaml", "column_masks:", "  - id: projects-auditor-tenant-a\n    table: projects\n    roles: [auditor]\n    where: \"tenant = 'a'\"\ncolumn_masks:")
    [f] = codes(mini.path)["redundant-filter"]
    assert f.rule == "projects-auditor-tenant-a" and "projects-auditor-all" in f.message


def test_duplicate_filter(mini):
    mini.replace("rules.yaml", "column_masks:", "  - id: projects-tenant-admin-again\n    table: projects\n    roles: [tenant_admin]\n    where: \"tenant = :principal.tenant\"\ncolumn_masks:")
    [f] = codes(mini.path)["redundant-filter"]
    assert f.rule == "projects-tenant-admin-again" and "repeats" in f.message


def test_pii_column_without_mask_or_reveal(mini):
    assert "unmasked-pii" not in codes(mini.path)
    mini.replace("catalog.yaml", "{name: name, type: VARCHAR}", "{name: name, type: VARCHAR, pii: PERSON}")
    [f] = codes(mini.path)["unmasked-pii"]
    assert f.file == "catalog.yaml" and f.line == 5 and "projects.name" in f.message
    mini.append("grants.csv", "p, member, pii:PERSON, reveal, allow\np, tenant_admin, pii:PERSON, reveal, allow\n"
                "p, viewer, pii:PERSON, reveal, allow\np, auditor, pii:PERSON, reveal, allow")
    assert "unmasked-pii" not in codes(mini.path)


def test_unmasked_pii_column_reported_until_masked(tmp_path):
    import shutil

    assert "unmasked-pii" not in codes("policies")
    copy = tmp_path / "policies"
    shutil.copytree("policies", copy)
    rules = copy / "rules.yaml"
    text = rules.read_text()
    start = text.index("  - id: employees-name-initial-for-auditors")
    end = text.index("  - id: employees-email-hashed-for-auditors")
    rules.write_text(text[:start] + text[end:])
    [f] = codes(copy)["unmasked-pii"]
    assert "employees.name" in f.message and "auditor" in f.message


def test_role_without_grants(mini):
    assert "role-without-grants" not in codes(mini.path)
    mini.append("principals.yaml", "  - {id: g1, roles: [ghost]}")
    [f] = codes(mini.path)["role-without-grants"]
    assert "'ghost'" in f.message and f.file == "principals.yaml"


def test_unknown_pii_type_in_reveal_grant(mini):
    mini.append("grants.csv", "p, member, pii:EMAIL, reveal, allow")
    [f] = codes(mini.path)["unknown-pii-type"]
    assert "pii:EMAIL" in f.message


def test_unknown_entity_is_a_load_error(demo_bundle):
    demo_bundle.replace("rules.yaml", "  - id: customer-sales-lead-every-customer\n    entity: customer",
                        "  - id: customer-sales-lead-every-customer\n    entity: custmer")
    report = lint_bundle(demo_bundle.path)
    assert report.failed() and any("custmer" in f.message for f in report.findings)


def test_cli_exit_codes_and_json(mini, capsys):
    assert main(["policy", "lint", str(mini.path)]) == 0  # warnings only
    assert main(["policy", "lint", str(mini.path), "--strict"]) == 1
    capsys.readouterr()
    mini.append("grants.csv", "p, member, nothere.*, select, allow")
    assert main(["policy", "lint", str(mini.path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["error"] == 1
    assert {"code": "unknown-table", "severity": "error", "file": "grants.csv", "line": last_line(mini.path / "grants.csv")}.items() <= data["findings"][0].items()
    assert main(["policy", "lint", str(mini.path / "nope")]) == 2


def test_partial_mask_that_reveals_most_of_typical_values(tmp_path):
    """A partial mask keeping more than half of a typical value of its column's PII type is a
    warning (at run time it is cut to half of each value); one keeping less is not."""
    import shutil

    copy = tmp_path / "policies"
    shutil.copytree("policies", copy)
    found = codes(copy)["partial-reveals-most"]
    assert {f.rule for f in found} == {"customers-email-domain-only-for-sales",
                                       "employees-email-domain-only-except-support-leads"}
    assert all(f.file == "rules.yaml" and f.line and "EMAIL_ADDRESS" in f.message for f in found)
    rules = copy / "rules.yaml"
    rules.write_text(rules.read_text().replace("keep_last: 12", "keep_last: 6").replace("keep_last: 17", "keep_last: 9"))
    assert "partial-reveals-most" not in codes(copy)
    # the PII operators too: a phone keeping 7 of a typical 12 characters
    rules.write_text(rules.read_text().replace("PHONE_NUMBER: {operator: partial, keep_last: 4}",
                                               "PHONE_NUMBER: {operator: partial, keep_last: 7}"))
    [f] = codes(copy)["partial-reveals-most"]
    assert "pii.operators.PHONE_NUMBER" in f.message and f.file == "rules.yaml"
