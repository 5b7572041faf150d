"""Shared runtime of the mentoring platform: imported by every service, never copied."""
