"""Mail templates, ``<iso>/<name>.html`` and ``.txt``.

Package data; this file keeps it a real package, not a namespace package.
"""
