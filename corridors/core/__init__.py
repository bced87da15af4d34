"""Foundations every room shares: place names, safe YAML, input diagnostics, the write contract."""
