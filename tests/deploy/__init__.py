"""Tests of deploy/: compose, Dockerfile, systemd units, sample configs and production refusal."""
