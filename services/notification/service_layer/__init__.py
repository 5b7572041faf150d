"""Handlers of the notification service (the unit of work is the transaction) and its e-mail dispatcher."""
