"""The loader's internal tables (underscore names, never served): ``_sources`` (one row per source file and its
report), ``_source_children`` (each source's view of a child), ``_repairs`` and ``_need_keyed``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

SOURCES_SCHEMA = ibis.schema({
    "source": "string", "format": "string", "load_seq": "int64", "loaded_at": "timestamp", "rows_read": "int64",
    "rows_loaded": "int64", "rows_quarantined": "int64", "rows_repaired": "int64", "report": "string",
})
_SOURCE_CHILDREN_SCHEMA = ibis.schema({
    "source": "string", "load_seq": "int64", "child_id": "string", "la": "string", "sex": "string",
    "ethnicity": "string", "birth_month": "date", "disability": "boolean", "uasc": "boolean", "attrs": "string",
})
_REPAIRS_SCHEMA = ibis.schema({"source": "string", "source_row": "int64", "repair": "string", "detail": "string"})
_NEED_KEYED_SCHEMA = ibis.schema({"source": "string", "episode_id": "string"})
INTERNAL = {
    "_sources": SOURCES_SCHEMA,
    "_source_children": _SOURCE_CHILDREN_SCHEMA,
    "_repairs": _REPAIRS_SCHEMA,
    "_need_keyed": _NEED_KEYED_SCHEMA,
}
#: The tables whose rows carry their ``source`` (what a file loaded again replaces).
BY_SOURCE = ("episodes", "identifiers", "proceedings", "quarantine", "reviews", "missing", *INTERNAL)


def ensure_internal(ws: WorkspaceLike) -> None:
    """Create the loader's internal tables if missing."""
    existing = set(ws.tables())
    for name, sch in INTERNAL.items():
        if name not in existing:
            ws.create_table(name, schema=sch)


def write_frames(ws: WorkspaceLike, name: str, frames: list[pd.DataFrame | pa.Table | None]) -> None:
    """Append the non-empty ``frames`` (all Arrow, or pandas) to table ``name``."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return
    if all(isinstance(f, pa.Table) for f in frames):
        ws.write(name, pa.concat_tables(frames))
    else:
        ws.write(name, pd.concat(frames, ignore_index=True))
