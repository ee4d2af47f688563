"""Facts about the episodes kept in the workspace file beside the stored timeline, so that a new process (each
``cscflow flow`` call) reads them instead of scanning ``episodes`` again: each source's data window
(:func:`cscflow.journeys.windows.source_windows`) and what the drawn stays hold
(:func:`cscflow.journeys.timeline_points.shape`).

A fact is kept in table ``_cscflow_facts`` under the episodes' content key (the hash of every row that names the
stored timeline, :func:`cscflow.journeys.timeline_store.content_key`) and a hash of the ``_sources`` table (the
files loaded, their formats and load times): when either changes the fact is worked out again. Facts are written
by a writable DuckDB workspace (``cscflow load`` writes them with the timeline); read-only ones read what is
there and otherwise compute, like other engines.

>>> import tempfile, pandas as pd
>>> from cscflow import Workspace
>>> ws = Workspace(tempfile.mkdtemp(), la="999")
>>> _ = ws.write("episodes", pd.DataFrame({"child_id": ["c"], "stage": ["referral"],
...     "start": pd.to_datetime(["2024-01-02"]), "end": pd.to_datetime(["2024-01-09"]), "source_row": [1]}))
>>> remembered(ws, "answer", lambda: 42, str, int), remembered(ws, "answer", lambda: 0, str, int)
(42, 42)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from cscflow.journeys import timeline_store as store

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

T = TypeVar("T")
TABLE = "_cscflow_facts"


def key(ws: WorkspaceLike) -> str:
    """The episodes' content key and the ``_sources`` table's hash (remembered until the workspace's next write)."""

    def compute() -> str:
        sources = ""
        if ws.has_table("_sources"):
            n, h = ws.sql("SELECT count(*), sum(hash(source, format, load_seq, loaded_at)) FROM _sources")[0]
            sources = f"{n}:{h}"
        return store.content_key(ws) + hashlib.sha1(sources.encode()).hexdigest()[:8]  # noqa: S324 - a name

    return ws.cached("facts-key", None, compute, size=1)


def remembered(ws: WorkspaceLike, name: str, compute: Callable[[], T], dump: Callable[[T], str],
               load: Callable[[str], T]) -> T:
    """Fact ``name`` of ``ws``'s episodes: read from the workspace file when kept there for these episodes, else
    ``compute()`` (kept, as ``dump(value)``, when the workspace is writable DuckDB)."""
    if not store.enabled(ws):
        return compute()
    k = key(ws)
    if ws.has_table(TABLE):
        rows = ws.sql(f"SELECT value FROM {TABLE} WHERE content = ? AND name = ?", [k, name])  # noqa: S608
        if rows:
            return load(rows[0][0])
    value = compute()
    if not ws.read_only:
        ws.sql(f"CREATE TABLE IF NOT EXISTS {TABLE} (content VARCHAR, name VARCHAR, value VARCHAR)")
        ws.sql(f"DELETE FROM {TABLE} WHERE content <> ? OR name = ?", [k, name])  # noqa: S608
        ws.sql(f"INSERT INTO {TABLE} VALUES (?, ?, ?)", [k, name, dump(value)])  # noqa: S608
    return value


__all__ = ["TABLE", "key", "remembered"]
