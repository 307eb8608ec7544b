"""`python -m starter.cli ...`: the `msp` command without its console script."""

from starter.cli import main

main()
