"""Tests of the DUO reference-data import."""
