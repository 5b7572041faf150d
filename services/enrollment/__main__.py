"""`python -m services.enrollment`: run the enrollment service."""

from services.enrollment.bootstrap import main

main()
