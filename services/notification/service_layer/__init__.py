"""What the notification service does: its commands (``commands.py``), their handlers and the one map of
them (``handlers.py``), and the e-mail dispatcher's batch job (``email_dispatch.py``)."""
