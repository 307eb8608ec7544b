"""`make run`: the embedded Temporal dev server, the worker and the cycle, in one command on a laptop.

State lives in one directory (``.temporal/`` by default): the SQLite file the server persists to (WAL mode),
``server.log``, a client profile that points at this server, and ``receiver/``, where the local stand-in for
conference services and the notification webhook (starter/receiver.py, in this process) stores every translation
job, interpretation booking and notification it receives. The worker and `msp` get its address in
CCM_CONFERENCE_SERVICES_URL; the worker's default webhook (CCM_WEBHOOK_URL) is its notifications path, so whatever
`msp` starts, from any shell, notifies the receiver. Running again resumes the same
workflows. Ctrl-C (or SIGTERM) stops the worker, then the receiver, then the server.

    python -m starter.embedded [--state-dir DIR] [--port 7233] [--ui-port 8233] [--receiver-port 7299]
                               [--config config/cycle.toml]

Each option can also come from the environment: CCM_STATE_DIR, CCM_PORT, CCM_UI_PORT, CCM_RECEIVER_PORT,
CCM_CONFIG.

The state directory is private (0700, its files 0600: starter/statedir.py). A server that dies under the runner is
said to have died, with its exit status, and is started again on the same SQLite file, at most
MAX_SERVER_RESTARTS times within RESTART_WINDOW; the worker reconnects by itself and the workflows resume.

- ``options.py``: the options, the children's environment and the client profile;
- ``devserver.py``: the dev server's settings (SQLite pragmas, search attributes), shared with the tests and the
  benchmarks;
- ``process.py``: supervising processes (locks, signals, a stop that waits then kills);
- ``runner.py``: the runner itself, which starts and watches them all;
- ``banner.py``: what it prints once all is up.
"""
