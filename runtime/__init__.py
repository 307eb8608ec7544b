"""How a process of this engine reaches Temporal: connection settings, the payload codec, metrics and tracing, logs.

Both the worker (`worker.py`) and the `msp` command (`starter/`) use these, so they live in a package of their own
rather than in either: the worker must not depend on the command-line tool (nor pull typer in with it), and `msp`
must encrypt, connect and log exactly as the worker does. The design card fixes the other top-level folders by
role (pure rules, orchestration, I/O, the command, the worker); this one is the plumbing under the last two, and
nothing in `domain/`, `workflows/` or `activities/` imports it.
"""
