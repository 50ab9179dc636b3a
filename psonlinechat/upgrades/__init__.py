"""Ordered upgrades of the module's own schema, one module per version."""
