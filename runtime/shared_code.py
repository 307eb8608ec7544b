"""Workflow modules' code objects read once per process, not once per workflow run.

The SDK's sandbox imports a workflow's own module again for every run, so that no run sees another's module state.
Each of those imports also reads the module's bytecode from disk again (or compiles its source, where no .pyc is
written) and keeps its own copy of every code object: about 45 KiB for workflows/document.py, for each open
document (issue 16's memory figure), and the read or the compile on every run's first task (`msp simulate`'s CPU).

Code objects are immutable, so every run may share one. Each run still executes the module afresh: its classes,
functions and globals stay its own, and the sandbox's restrictions apply to it as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Iterable, Sequence
from types import CodeType, ModuleType


class _SharedCodeLoader(importlib.machinery.SourceFileLoader):
    """A source file's loader whose code object is built once and handed to every import of that file."""

    _code: dict[str, CodeType] = {}
    _lock = threading.Lock()  # workflow tasks run in several threads

    def get_code(self, fullname: str) -> CodeType | None:
        with self._lock:
            code = self._code.get(self.path)
            if code is None and (code := super().get_code(fullname)) is not None:
                self._code[self.path] = code
            return code


class _SharedCodeFinder(importlib.abc.MetaPathFinder):
    """Finds ``modules`` as the other finders do, then gives their specs the loader above."""

    def __init__(self) -> None:
        self.modules: set[str] = set()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            # Only a plain source file: anything else (a namespace package, an extension) is left as found.
            if type(spec.loader) is importlib.machinery.SourceFileLoader and spec.origin is not None:
                spec.loader = _SharedCodeLoader(fullname, spec.origin)
            return spec
        return None


_FINDER = _SharedCodeFinder()


def share_code(modules: Iterable[str]) -> None:
    """Every later import of ``modules`` (the sandbox's, in each workflow run) shares one copy of their code."""
    _FINDER.modules.update(modules)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
