"""`python -m services.session`: run the session service."""

from services.session.bootstrap import main

main()
