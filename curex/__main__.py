"""`python -m curex` runs the command line."""

from curex.cli import main

main()
