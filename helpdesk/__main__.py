"""`python -m helpdesk` runs the `helpdesk` command."""

from helpdesk.cli import main

main()
