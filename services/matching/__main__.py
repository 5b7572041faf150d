"""`python -m services.matching`: run the matching service."""

from services.matching.bootstrap import main

main()
