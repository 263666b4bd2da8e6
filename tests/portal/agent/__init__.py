"""Tests of the agents' back-office (/agent)."""
