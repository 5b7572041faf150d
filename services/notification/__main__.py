"""`python -m services.notification`: run the notification service."""

from services.notification.bootstrap import main

main()
