"""`govern demo`: the same questions answered for several principals, side by side."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from govern.demo.dataset import build_demo_db
from govern.demo.questions import QUESTIONS
from govern.errors import Denied, QueryDenied
from govern.governor import Governor

MAX_ROWS_SHOWN = 5


def run_demo(db: Path, policies: Path, principal_ids: list[str], show_sql: bool, audit: str | None) -> int:
    import duckdb

    console = Console()
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        console.print(f"[dim]building the demo database at {db} ...[/dim]")
        build_demo_db(db)
    gov = Governor.from_path(policies, audit=audit)
    principals = [gov.principal(pid) for pid in principal_ids]
    conn = duckdb.connect(str(db), read_only=True)
    console.print(Panel.fit(
        "\n".join(f"[bold]{p.id}[/bold]: roles {', '.join(p.roles)}; {p.attributes}" for p in principals),
        title="principals (from policies/principals.yaml)",
    ))
    show_entity_scopes(console, gov, principals, conn)
    for title, sql in QUESTIONS:
        console.rule(f"[bold]{title}")
        console.print(f"[dim]{sql}[/dim]")
        for principal in principals:
            try:
                result = gov.execute(conn, sql, principal)
            except QueryDenied as denied:
                console.print(f"[bold]{principal.id}[/bold]: [red]DENIED[/red] — " + "; ".join(denied.decision.reasons))
                continue
            table = Table(title=f"{principal.id}: {len(result.rows)} row(s); policies: {', '.join(result.decision.policies) or 'none'}",
                          title_justify="left", show_lines=False)
            for column in result.columns:
                table.add_column(column, overflow="ellipsis", no_wrap=True, max_width=24)
            for row in result.rows[:MAX_ROWS_SHOWN]:
                table.add_row(*("NULL" if v is None else str(v) for v in row))
            console.print(table)
            if show_sql:
                console.print(f"[dim]{result.decision.sql}[/dim]")
    console.print(f"\n[dim]every decision above is in the audit trail: {gov.audit.sink.path if hasattr(gov.audit.sink, 'path') else 'audit sink'}[/dim]")
    return 0


def show_entity_scopes(console: Console, gov: Governor, principals: list, conn) -> None:
    """Which instances of each entity every principal sees, and the tables the scope reaches."""
    bundle = gov.bundle
    for entity in bundle.rules.entities:
        reached = [b for p in bundle.policies.values() for b in p.entities if b.entity == entity.name]
        members = ", ".join(
            f"{b.path[0].table} ({' -> '.join([b.path[0].table] + [h.target for h in b.path])})" for b in reached if b.path
        )
        table = Table(title=f"entity {entity.name}: key {entity.table}; members {members or 'none'}",
                      title_justify="left", show_lines=False)
        for column in ("principal", "scope(s)", "predicate on " + entity.table, "instances"):
            table.add_column(column, overflow="fold")
        for principal in principals:
            try:
                scope = gov.entity_scope(principal, entity.name, conn)
            except Denied as denied:
                table.add_row(principal.id, "-", "[red]DENIED[/red] " + "; ".join(denied.reasons), "-")
                continue
            count = "all" if scope.unrestricted else str(len(scope.keys or ()))
            table.add_row(principal.id, ", ".join(scope.scopes) or "none (sees no instance)", scope.sql("duckdb"), count)
        console.print(table)


def run_demo_json(db: Path, policies: Path, principal_ids: list[str], show_sql: bool, audit: str | None) -> int:
    """The same answers as JSON: one object per question, each principal's rows or denial reasons."""
    import json

    import duckdb

    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        build_demo_db(db)
    gov = Governor.from_path(policies, audit=audit)
    principals = [gov.principal(pid) for pid in principal_ids]
    conn = duckdb.connect(str(db), read_only=True)
    out = []
    for title, sql in QUESTIONS:
        answers = {}
        for principal in principals:
            try:
                result = gov.execute(conn, sql, principal)
            except QueryDenied as denied:
                answers[principal.id] = {"allowed": False, "reasons": denied.decision.reasons}
                continue
            answers[principal.id] = {"allowed": True, "columns": result.columns, "rows": [list(r) for r in result.rows],
                                     "policies": result.decision.policies, **({"sql": result.decision.sql} if show_sql else {})}
        out.append({"question": title, "sql": sql, "answers": answers})
    print(json.dumps(out, indent=2, default=str))
    return 0
