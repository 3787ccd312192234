"""Tests of the web pages, users, roles and exports."""
