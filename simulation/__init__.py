"""Scenarios run through the real workflow on a time-skipping Temporal server (runner.py)."""
