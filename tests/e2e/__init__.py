"""End-to-end tests: the real agent against the real hub app."""
