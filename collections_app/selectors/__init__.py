"""Reads of the collections domain, always scoped to a user; import from the module itself."""
