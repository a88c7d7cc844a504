"""SQL governance: parse, resolve, authorize, rewrite, cap and emit LLM-generated SQL."""
