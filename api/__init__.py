"""The REST API (/api/v1/) for investor portals and operations integrations.

Views are thin: they parse and check input with serializers, scope every
queryset to the caller (access.py), and call the services and selectors of
ledger, servicing, trusts and remittance, which hold the rules and do every
write. Money leaves as dollar strings ("4995.50"), never as floats.
"""
