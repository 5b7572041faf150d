"""Pure model and rules of the notification service: no I/O, no framework imports."""
