"""Serializers: what each endpoint reads and writes, in the house formats (see api.fields)."""
