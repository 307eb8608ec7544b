"""Benchmarks: each prints a figure as a ratio to a baseline measured in the same run, on the same server.

.venv/bin/python -m bench [--repeat N]                 every benchmark, one table
.venv/bin/python -m bench.funds_release [--repeat N]   one benchmark, with its details
"""
