"""Store, migrations and clients of the notification service."""
