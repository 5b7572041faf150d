"""Helpers for integration and end-to-end tests: real processes, real broker."""
