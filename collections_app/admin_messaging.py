"""Admin for message templates, policy profiles, opt-outs and messages."""
