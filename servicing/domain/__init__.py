"""The servicing domain: pure functions and values, no Django, no database (import-linter enforces it)."""
