"""Synthetic data for demos, tests and the benchmark: real DUO school locations, simulated municipal extracts."""

# Defaults live here, not in generate.py, so the CLI can show them without importing numpy/pandas.
DEFAULT_SCHOOLJAREN = ("2022-2023", "2023-2024", "2024-2025")
DEFAULT_SEED = 20241001
