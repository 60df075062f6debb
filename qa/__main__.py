"""`python -m qa ...`: the `qa` command line."""

from qa.surfaces.cli import main

main()
