"""The state directory of `make run` is private: the server's database, its log, the client profile and what the
receiver stored hold every workflow's inputs (documents, payments, letters) in clear.

The runner sets the umask 077 for itself and its children (the server, the worker, `msp`, the receiver in its own
thread), so that what they create is 0700 (folders) and 0600 (files); what an earlier run created more open is
closed on start.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
# What `make run` keeps directly in the state directory; the receiver's folder is taken whole. Nothing else is
# touched: the directory may be one a person chose (STATE_DIR=...), with files of their own in it.
OWN_FILES = ("ccm.db", "ccm.db-wal", "ccm.db-shm", "server.log", "temporal.toml", "embedded.lock")
RECEIVER_DIR = "receiver"


def _close(path: Path, mode: int) -> bool:
    """Takes group and other permissions off ``path`` (never a symbolic link); True when it had any."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode) or not stat.S_IMODE(st.st_mode) & 0o077:
        return False
    path.chmod(mode)
    return True


def make_private(state_dir: Path) -> int:
    """Sets the umask to 077, creates ``state_dir`` 0700 if need be, and closes what an earlier run left open
    to group or others (the directory, its own files, the receiver's tree). Returns how many were closed."""
    os.umask(PRIVATE_UMASK)
    state_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    closed = int(_close(state_dir, DIR_MODE))
    closed += sum(_close(state_dir / name, FILE_MODE) for name in OWN_FILES)
    receiver = state_dir / RECEIVER_DIR
    if receiver.is_dir() and not receiver.is_symlink():
        closed += _close(receiver, DIR_MODE)
        for folder, dirs, files in os.walk(receiver):
            base = Path(folder)
            closed += sum(_close(base / d, DIR_MODE) for d in dirs)
            closed += sum(_close(base / f, FILE_MODE) for f in files)
    return closed
