"""The planning catalogs and scenarios: model, reading, validation, opening years."""
