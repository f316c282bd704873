"""Messages: the reminder ladder, the outbox and relay, the content firewall, gateways and webhooks."""
