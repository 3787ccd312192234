"""Tests for hub.api."""
