"""Policy authoring as code: lint, policy tests, explain and hot reload of a bundle.

Everything here reads a loaded :class:`govern.bundle.Bundle` through its public
fields (catalog, grants, rules, policies, principals) and runs the same SQL
pipeline the Governor runs; nothing in the request path depends on it.
"""

from govern.policy.explain import Explanation, explain
from govern.policy.lint import Finding, LintReport, lint_bundle
from govern.policy.reload import BundleWatcher
from govern.policy.testing import TestReport, load_test_files, run_tests

__all__ = [
    "BundleWatcher",
    "Explanation",
    "Finding",
    "LintReport",
    "TestReport",
    "explain",
    "lint_bundle",
    "load_test_files",
    "run_tests",
]
