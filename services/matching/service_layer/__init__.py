"""Commands and events of the matching service, and their handlers (the unit of work is the transaction)."""
