"""Tests for hub.cli."""
