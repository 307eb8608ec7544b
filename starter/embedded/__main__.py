"""`python -m starter.embedded`: what `make run` runs."""

from starter.embedded.runner import main

main()
