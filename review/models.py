"""Family-contact requests."""
