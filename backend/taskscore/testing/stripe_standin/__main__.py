"""`python -m taskscore.testing.stripe_standin [--port N] [--webhook-url URL] ...`"""

from taskscore.testing.stripe_standin.app import main

main()
