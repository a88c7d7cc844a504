"""Policy bundles: grants (casbin), rules and catalog (YAML validated by pydantic)."""

from govern.bundle.catalog import Catalog, Column, Table
from govern.bundle.loader import Bundle, load_bundle

__all__ = ["Bundle", "Catalog", "Column", "Table", "load_bundle"]
