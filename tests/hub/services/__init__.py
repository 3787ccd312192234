"""Tests for hub.services."""
