"""Tests of the indicators computed from releases."""
