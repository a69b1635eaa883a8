"""The webhooks' pure rules: the signature, the payloads, the retry schedule (no Django, no database)."""
