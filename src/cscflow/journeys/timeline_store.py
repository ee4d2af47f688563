"""Timelines kept in the workspace file, so that a new process (each ``cscflow flow`` call, the web app) reads
the timeline instead of building it again (about 2 s on the ``county`` preset).

A stored timeline is a table named ``_cscflow_tl_<content>_<map>``: ``content`` is a hash of every row of
``episodes`` in the columns a timeline reads (exact, unlike the quick fingerprint the in-process cache uses), ``map`` a hash of the process
map and the end date. The table's comment holds the :class:`~cscflow.journeys.timeline_points.Shape` it was
built with (for inspection). An event log's timeline (every stay an instant) is one sort, about as quick to
build as to write: it is stored only by :func:`cscflow.journeys.timeline.prepare` (``cscflow load``), for the ``cscflow flow`` processes
that follow (each would otherwise sort millions of events again). Timelines are stored only by a writable DuckDB
workspace (``cscflow load`` stores the England map's); read-only ones use what is there and otherwise build
a temporary table. When the episodes change, the next stored timeline replaces every stale one; of one
workspace's episodes the :data:`MAX_STORED` timelines stored last are kept.

>>> import tempfile, pandas as pd
>>> from cscflow import Workspace
>>> from cscflow.journeys import timelines
>>> ws = Workspace(tempfile.mkdtemp(), la="999")
>>> _ = ws.write("episodes", pd.DataFrame({"child_id": ["c"], "stage": ["referral"],
...     "start": pd.to_datetime(["2024-01-02"]), "end": pd.to_datetime(["2024-01-09"]), "source_row": [1]}))
>>> _ = timelines(ws, "england")
>>> [n.startswith(PREFIX) for n in stored_names(ws)]
[True]
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

#: The name prefix of a stored timeline (kept when the in-process cache lets it go).
PREFIX = "_cscflow_tl_"
#: Whether a timeline of instants (an event log's) built now is stored too (set by :func:`cscflow.journeys.timeline.prepare`).
KEEP_POINTS: contextvars.ContextVar[bool] = contextvars.ContextVar("cscflow_keep_points", default=False)


def enabled(ws: WorkspaceLike) -> bool:
    """Whether ``ws`` can hold stored timelines (an engine that keeps table comments: DuckDB)."""
    return bool(ws.in_place)


#: The columns of ``episodes`` a timeline is built from (not ``attrs`` or ``worker``: an event log's ``attrs``
#: JSON can be most of the table, and hashing it cost each new process 0.4 s at 2.6M events).
TIMELINE_COLUMNS = ("child_id", "stage", "start", "end", "outcome", "need_id", "team", "episode_id", "source",
                    "source_row")


def content_key(ws: WorkspaceLike) -> str:
    """A hash of every row of ``episodes`` in the columns a timeline reads (order-independent): 12 hex digits.
    Worked out once until the workspace's next write (the stored timeline and the stored facts both ask)."""

    def compute() -> str:
        cols = ", ".join(f'"{c}"' for c in TIMELINE_COLUMNS)
        n, h = ws.sql(f"SELECT count(*), sum(hash({cols})) FROM episodes")[0]
        return hashlib.sha1(f"{n}:{h}".encode()).hexdigest()[:12]  # noqa: S324 - a name, not a secret

    key: str = ws.cached("content-key", None, compute, size=1)
    return key


#: The timeline's rules, numbered: a timeline stored under other rules is not read (2: stays that continue one
#: another, SSDA903's episodes of one period of care, are one stay).
RULES = 2


def name_for(content: str, map_json: str, end: Any) -> str:
    """The stored timeline's table name for these episodes, map, end date and :data:`RULES`."""
    return f"{PREFIX}{content}_{hashlib.sha1(f'{map_json}|{end}|{RULES}'.encode()).hexdigest()[:12]}"  # noqa: S324


def stored_names(ws: WorkspaceLike) -> list[str]:
    """Names of the timelines stored in ``ws``."""
    return sorted(n for n in ws.tables() if n.startswith(PREFIX))  # never temporary (timeline names them so)


def exists(ws: WorkspaceLike, name: str) -> bool:
    """Whether stored timeline ``name`` is there and complete (its shape recorded by :func:`keep`)."""
    return ws.table_comment(name) is not None


#: The most timelines of one workspace's episodes kept stored (one a map and end date: a user trying maps or
#: `--end` dates would otherwise grow the workspace file by a timeline each, never dropped)
MAX_STORED = 4


def keep(ws: WorkspaceLike, name: str, shape: tuple[Any, ...], content: str) -> None:
    """Record ``shape`` and when it was stored on stored timeline ``name``; drop timelines of other episodes, and
    of these episodes all but the :data:`MAX_STORED` stored last (a dropped one is built and stored again when
    asked for)."""
    stamp = time.time()
    ws.comment_table(name, json.dumps({"shape": list(shape), "stored": stamp}))
    _DROPPED.discard(name)
    mine = []
    for old in stored_names(ws):
        if not old.startswith(f"{PREFIX}{content}_"):
            _drop(ws, old)
        elif old != name:
            mine.append((_stored_at(ws, old), old))
    for _, old in sorted(mine, reverse=True)[MAX_STORED - 1:]:
        _drop(ws, old)


#: Stored timelines this process dropped (the in-process cache must not hand them out again)
_DROPPED: set[str] = set()


def _drop(ws: WorkspaceLike, name: str) -> None:
    ws.drop_table(name)
    _DROPPED.add(name)


def dropped(name: str) -> bool:
    """Whether this process dropped stored timeline ``name`` (and has not stored it again since)."""
    return name in _DROPPED


def _stored_at(ws: WorkspaceLike, name: str) -> float:
    """When stored timeline ``name`` was stored (0 for a timeline stored before this was recorded)."""
    try:
        meta = json.loads(ws.table_comment(name) or "null")
    except ValueError:
        return 0.0
    return float(meta.get("stored", 0.0)) if isinstance(meta, dict) else 0.0
