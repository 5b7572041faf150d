"""Pure model and rules of the session service: no I/O, no framework imports."""
