"""Commands and events of the session service, and their handlers (the unit of work is the transaction)."""
