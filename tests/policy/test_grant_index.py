"""The role-indexed view of the grants decides exactly like casbin's own enforcer.

govern answers grant questions from ``RoleIndex`` (``p`` lines indexed by role and
action, patterns matched with casbin's globMatch) instead of loading every line into
a casbin enforcer. Over random grant sets (literal objects, table wildcards, other
globs, characters wcmatch treats specially, allow and deny lines, several roles),
every request must get casbin's answer under the bundle's model.
"""

from __future__ import annotations

from pathlib import Path

import casbin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govern.bundle.grants import Grants, RoleIndex

MODEL = Path(__file__).resolve().parents[2] / "policies" / "model.conf"

ROLES = st.sampled_from(["analyst", "sales", "auditor", "r1", "r2"])
WORD = st.sampled_from(["a", "b", "ab", "customers", "orders", "email", "id"])
# pieces that make literal names, table wildcards and globs, including characters
# wcmatch reads specially (/ \ [ ] { } , ! ? * and a leading dot)
PIECE = st.one_of(WORD, st.sampled_from([".", "*", "?", "/", "\\", "[ab]", "{a,b}", "!", "**", "-", "_", ".*", ",", "["]))
NAME = st.lists(PIECE, min_size=1, max_size=5).map("".join)
OBJECT = st.one_of(st.tuples(WORD, WORD).map(".".join), NAME)
LINE = st.tuples(ROLES, st.one_of(OBJECT, st.tuples(WORD, st.just("*")).map(".".join)),
                 st.sampled_from(["select", "retrieve", "reveal"]), st.sampled_from(["allow", "allow", "deny"]))


def near(lines):
    """Objects drawn at random, and objects close to the lines' own patterns (a piece added
    before or after, a piece doubled): where a literal comparison and globMatch could part."""
    patterns = [line[1] for line in lines] or ["a.b"]
    return st.one_of(OBJECT, st.tuples(st.sampled_from(patterns), PIECE, st.booleans()).map(
        lambda t: t[0] + t[1] if t[2] else t[1] + t[0]), st.sampled_from(patterns).map(lambda p: p.replace("/", "//")))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=25), data=st.data())
def test_role_index_decides_like_casbin(lines, data):
    enforcer = casbin.Enforcer(str(MODEL))
    if lines:
        enforcer.add_policies([list(line) for line in dict.fromkeys(lines)])
    index = RoleIndex([list(line) for line in lines])
    requests = data.draw(st.lists(st.tuples(st.frozensets(ROLES, max_size=3), near(lines),
                                            st.sampled_from(["select", "retrieve", "reveal"])), min_size=1, max_size=20))
    for roles, obj, act in requests:
        assert index.enforce(roles, obj, act) == bool(enforcer.enforce(roles, obj, act)), (roles, obj, act)


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(LINE, max_size=25), roles=st.frozensets(ROLES, max_size=3), obj=OBJECT)
def test_grants_answer_through_the_index(lines, roles, obj):
    """Grants (the bundle's object) gives casbin's answer too, role hierarchy included."""
    rules = [["p", *line] for line in lines] + [["g", "r1", "analyst"], ["g", "r2", "r1"]]
    grants = Grants(MODEL, rules)
    enforcer = casbin.Enforcer(str(MODEL))
    if lines:
        enforcer.add_policies([list(line) for line in dict.fromkeys(lines)])
    expanded = grants.expand_roles(tuple(sorted(roles)))
    assert ("analyst" in expanded) == bool(roles & {"r1", "r2", "analyst"})
    for act in ("select", "retrieve", "reveal"):
        assert grants.allowed(expanded, obj, act) == bool(enforcer.enforce(expanded, obj, act))


def test_deny_overrides_and_wildcards():
    index = RoleIndex([["analyst", "customers.*", "select", "allow"], ["sales", "customers.email", "select", "deny"],
                       ["sales", "orders.total", "select", "allow"], ["auditor", "*", "retrieve", "allow"]])
    assert index.enforce(frozenset({"analyst"}), "customers.email", "select")
    assert not index.enforce(frozenset({"analyst", "sales"}), "customers.email", "select")
    assert index.enforce(frozenset({"analyst", "sales"}), "customers.name", "select")
    assert not index.enforce(frozenset({"analyst"}), "orders.total", "select")
    assert not index.enforce(frozenset({"analyst"}), "customers.email", "retrieve")
    assert index.enforce(frozenset({"auditor"}), "kb", "retrieve")
    assert not index.enforce(frozenset(), "customers.email", "select")
