"""Store, migrations and clients of the enrollment service."""
