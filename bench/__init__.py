"""Benchmarks: each prints a figure as a ratio to a baseline measured in the same run, on the same server.

.venv/bin/python -m bench [--only NAME ...] [--repeat N]   every benchmark (or those named), one table
.venv/bin/python -m bench.<name> [--repeat N] [...]        one benchmark, with its options and details:
    decision_latency, funds_release, five_years, worker_memory, embedded_server
"""
