"""Commands and events of the enrollment service, and their handlers (the unit of work is the transaction)."""
