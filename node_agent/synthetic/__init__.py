"""Synthetic data for demos, tests and the benchmark: real DUO school locations, simulated municipal extracts."""
