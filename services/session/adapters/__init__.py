"""Store, migrations and clients of the session service."""
