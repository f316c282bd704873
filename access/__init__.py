"""Roles, sign-in, the second factor and user services."""
