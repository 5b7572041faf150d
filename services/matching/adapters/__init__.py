"""Store, migrations and clients of the matching service."""
