"""What every room shares: constants, names, safe YAML, diagnostics, the write contract."""
