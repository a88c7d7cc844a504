"""`govern serve`: the governance decisions as an HTTP service with verified identity (FastAPI + uvicorn).

    app = create_app(Governor.from_path("policies"), db=Database(parse_target("shop.duckdb")))

``app`` builds the routes, ``database`` the connection pool and timeouts,
``metrics`` the Prometheus metrics and the counting audit trail, ``ratelimit``
per-principal rate limits. Needs the ``serve`` extra.
"""

from govern.serve.app import create_app
from govern.serve.database import Database, parse_target

__all__ = ["Database", "create_app", "parse_target"]
