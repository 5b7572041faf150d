"""Store, migrations, protobuf translation, outcome-event publishing and the e-mail channel and contact
look-up of the notification service."""
