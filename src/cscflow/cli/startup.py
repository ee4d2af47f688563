"""A command's libraries loaded with the garbage collector paused.

Importing pandas, Ibis, sqlglot and DuckDB creates several hundred thousand Python objects, and the collector's
full passes over them while they load are a tenth of a second of a one-second ``cscflow flow``. None of them is
garbage: :func:`loading_libraries` pauses the collector while they load and then freezes them
(:func:`gc.freeze`: moved to a generation no later pass scans), so the command's own work is collected as usual.

>>> import gc
>>> with loading_libraries():
...     import json
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def loading_libraries() -> Iterator[None]:
    """Pause the garbage collector for the imports in the block, then freeze what they made and resume it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
