"""Mail templates, ``<iso>/<name>.html`` and ``.txt`` (package data; this file keeps it a real package)."""
