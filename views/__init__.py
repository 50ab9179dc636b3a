"""Templates, CSS and JavaScript of the module (package data; this file keeps it a real package)."""
