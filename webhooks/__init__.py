"""Webhooks: investors' portals and operations integrations told of closes, paid distributions and statements."""
