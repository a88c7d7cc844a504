"""Map an audit record to OCSF 1.3.0 class 6005 Datastore Activity.

Required by the class (base event + datastore_activity): activity_id,
category_uid, class_uid, metadata (product.vendor_name, version), severity_id,
time, type_uid, actor, src_endpoint; and at least one of database /
databucket / table. Governance details OCSF has no place for go to `unmapped`.
"""

from __future__ import annotations

from datetime import datetime

OCSF_VERSION = "1.3.0"
CLASS_UID, CATEGORY_UID = 6005, 6

# action -> (activity_id, activity_name, object) from the class's activity enum; the object is what
# the action touched: a SQL statement reads tables of a database, a retrieval reads a document
# collection, masking reads passages handed to govern, a policy load reads the bundle.
SQL_ACTIONS = ("check_sql", "execute")
_ACTIVITY = {
    "check_sql": (4, "Query", "table"),
    "execute": (4, "Query", "table"),
    "retrieve": (1, "Read", "collection"),
    "mask_text": (99, "Mask", "passages"),
    "mask_texts": (99, "Mask", "passages"),
    "mask_rows": (99, "Mask", "passages"),
    "reveal": (99, "Reveal", "passages"),
    "entity_scope": (4, "Query", "table"),
    "policy_load": (99, "Policy load", "bundle"),
}
OBJECT_TYPES = {"table": "Table", "collection": "Document collection", "passages": "Passages", "bundle": "Policy bundle"}


def classify(r: dict) -> tuple[int, str, str]:
    """(activity_id, activity_name, object kind) of a record: by its action, never by what it happened to list."""
    return _ACTIVITY.get(r["action"], (99, r["action"], "other"))


# decision -> (status_id, status, severity_id): denials are what a reviewer looks at first
_STATUS = {
    "allow": (1, "Success", 1),
    "rewrite": (1, "Success", 1),
    "mask": (1, "Success", 1),
    "drop": (1, "Success", 2),
    "deny": (2, "Failure", 3),
}


def epoch_ms(t: str) -> int:
    return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)


def to_ocsf(r: dict, product_version: str = "0.1.0") -> dict:
    activity_id, activity_name, obj = classify(r)
    status_id, status, severity_id = _STATUS.get(r["decision"], (0, "Unknown", 1))
    if r.get("error"):
        status_id, status = 2, "Failure"
    p = r["principal"]
    user = {"uid": p["id"], "name": p["id"], "groups": [{"name": g} for g in p.get("roles", [])]}
    if p.get("tenant"):
        user["org"] = {"uid": p["tenant"], "name": p["tenant"]}
    ev: dict = {
        "class_uid": CLASS_UID,
        "class_name": "Datastore Activity",
        "category_uid": CATEGORY_UID,
        "category_name": "Application Activity",
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": f"Datastore Activity: {activity_name}",
        "time": epoch_ms(r["time"]),
        "time_dt": r["time"],
        "severity_id": severity_id,
        "severity": {1: "Informational", 2: "Low", 3: "Medium"}[severity_id],
        "status_id": status_id,
        "status": status,
        "message": f"{r['action']} {r['decision']} for {p['id']}",
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "govern", "vendor_name": "govern", "version": product_version},
            "uid": r["event_id"],
            "sequence": r["seq"],
            "log_name": "govern.audit",
            "original_time": r["time"],
        },
        "actor": {"user": user},
        "src_endpoint": {"hostname": r.get("host") or "unknown", "name": "govern"},
        "authorizations": [
            {"decision": r["decision"], **({"policy": {"uid": pid, "name": pid}} if pid else {})}
            for pid in (r.get("policies") or [None])
        ],
        "type_id": 3 if obj == "table" else 99,
        "type": OBJECT_TYPES.get(obj, "Other"),
    }
    if r.get("correlation_id"):
        ev["metadata"]["correlation_uid"] = r["correlation_id"]
    if r.get("duration_ms") is not None:
        ev["duration"] = int(round(r["duration_ms"]))
    extra = r.get("extra") or {}
    if obj == "table":
        ev["database"] = {"name": extra.get("dialect") or "sql", "type_id": 99, "type": "SQL database"}
        if r.get("tables"):
            ev["table"] = {"name": r["tables"][0], "uid": r["tables"][0]}
    elif obj == "collection":
        name = extra.get("collection") or "retrieval"
        ev["databucket"] = {"name": name, "uid": name, "type_id": 99, "type": "Document collection"}
    else:
        ev["databucket"] = {"name": OBJECT_TYPES.get(obj, r["action"]), "type_id": 99, "type": OBJECT_TYPES.get(obj, "Other")}
    if r.get("input_text") is not None:
        ev["query_info"] = {"query_string": r["input_text"], "uid": r.get("input_sha256"), "name": r["action"]}
    n = r.get("rows") if r.get("rows") is not None else r.get("documents")
    if n is not None:
        ev["count"] = n
    ev["unmapped"] = {
        k: r.get(k)
        for k in ("seq", "prev_hash", "hash", "reasons", "tables", "columns", "columns_shown", "bundle_hash",
                  "governed_sql", "pii", "rows", "documents", "error", "correlation_id")
    }
    return ev
