"""Results cached on a workspace, keyed by its table generation.

Every write through the workspace bumps :attr:`~cscflow.workspace.Workspace.generation`; a cached value is
found only under the generation it was computed at, so a write makes the next call compute afresh. Each
namespace (one per kind of result) keeps its last ``size`` values; ``on_evict`` is called with a value dropped
(to release what it holds, such as a temporary table).

>>> c = GenerationCaches()
>>> c.get("sums", 0, ("a",), lambda: 1), c.get("sums", 0, ("a",), lambda: 2), c.get("sums", 1, ("a",), lambda: 3)
(1, 1, 3)
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class GenerationCaches:
    """Least-recently-used caches, one per namespace, their keys qualified by the table generation."""

    def __init__(self) -> None:
        self._spaces: dict[str, OrderedDict[Hashable, Any]] = {}

    def get(self, namespace: str, generation: int, key: Hashable, compute: Callable[[], T], *, size: int = 4,
            on_evict: Callable[[T], object] | None = None, valid: Callable[[T], bool] | None = None) -> T:
        """The value of ``compute()`` for ``key`` at ``generation`` (computed once, then reused).

        ``valid`` (optional) says whether a cached value may still be used (otherwise it is computed again).
        """
        space = self._spaces.setdefault(namespace, OrderedDict())
        full = (generation, key)
        if full in space and (valid is None or valid(space[full])):
            space.move_to_end(full)
            hit: T = space[full]
            return hit
        stale = space.pop(full, None) if full in space else None
        value = compute()
        if stale is not None and on_evict is not None and stale is not value:
            with contextlib.suppress(Exception):
                on_evict(stale)
        space[full] = value
        space.move_to_end(full)
        while len(space) > size:
            _, old = space.popitem(last=False)
            if on_evict is not None:
                with contextlib.suppress(Exception):  # the engine may be closed already
                    on_evict(old)
        return value

    def values(self, namespace: str) -> list[Any]:
        """The values cached in ``namespace``, least recently used first (for inspection)."""
        return list(self._spaces.get(namespace, {}).values())

    def clear(self) -> None:
        """Forget every cached value (the workspace is closing)."""
        self._spaces.clear()
