"""Writes of the collections domain, one module per concern; import from the module itself."""
