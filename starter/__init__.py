"""The `msp` command and the embedded runner of `make run`."""
