"""The back office pages of the module: the operator console, configuration, history and help."""
