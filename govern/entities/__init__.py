"""Entity-level access: entities defined once, scopes propagated through foreign-key paths.

An entity (``customer``) has a key table and key column and member tables
reached through foreign-key paths (``order_items -> orders -> customers``).
Entity scopes say which instances a principal sees (a predicate on the key
table, a lookup table, or a list of keys in a principal attribute). At load
they compile into one semi-join per member table (``govern/bundle/entities.py``), which the
governed relation of every reference AND-s with the row filters
(``govern.sql.relation.row_predicate``). ``entity_scope`` gives the same scope
to callers as a SQL predicate and, with a connection, the resolved keys.
"""

from govern.bundle.entity_paths import candidate_paths, suggest_members, suggest_path
from govern.entities.scope import EntityScope, clear_cache, entity_scope

__all__ = ["EntityScope", "candidate_paths", "clear_cache", "entity_scope", "suggest_members", "suggest_path"]
