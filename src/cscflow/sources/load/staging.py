"""Load stage 4, stage stays: each source's stays typed, their child ids and workers pseudonymised, numbered
(``load_seq``, ``pos``) for :mod:`.stays` to write. Stays an event-log reader left in the engine stay there
(:mod:`cscflow.sources.events_stage`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cscflow.sources.base import ReadResult
from cscflow.sources.events_stage import EngineStays, StagedEngine
from cscflow.sources.events_stage import stage as stage_engine
from cscflow.sources.load.pseudonymise import Pseudonyms, json_text, repeat
from cscflow.sources.values import clean_id, map_values, parse_dates

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike


@dataclass
class Staged:
    """The staged stays of one load: per source with stays, the stays, the id table and the source's name;
    per source (every one, in order), its id table or None."""

    stays: list[pa.Table | StagedEngine] = field(default_factory=list)
    ids: list[pa.Table] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    id_maps: list[pa.Table | None] = field(default_factory=list)


def stage(ws: WorkspaceLike, results: list[ReadResult], pseudos: list[Pseudonyms], seq0: int) -> Staged:
    """Every source's stays staged (:func:`staged_stays`), the ``k``-th source numbered ``seq0 + k``."""
    out = Staged()
    for k, (result, pseudo) in enumerate(zip(results, pseudos, strict=True)):
        tab, id_map = staged_stays(ws, result, pseudo, seq0 + k)
        out.id_maps.append(id_map)
        if tab is not None:
            out.stays.append(tab)
            out.ids.append(id_map)
            out.sources.append(result.source)
    return out


EPISODE_ARROW = pa.schema([
    ("source_child_id", pa.string()), ("stage", pa.string()), ("start", pa.timestamp("us")),
    ("end", pa.timestamp("us")), ("outcome", pa.string()), ("need_key", pa.string()), ("team", pa.string()),
    ("worker", pa.string()), ("attrs", pa.string()), ("source_row", pa.int64()),
])


def episodes_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """A reader's episodes (pandas or Arrow) as an Arrow table of the episode columns, typed."""
    if isinstance(frame, pa.Table):
        cols = []
        for f in EPISODE_ARROW:
            if f.name in frame.column_names:
                col = frame.column(f.name)
                cols.append(col if col.type == f.type else pc.cast(col, f.type))
            else:
                cols.append(pa.nulls(frame.num_rows, f.type))
        return pa.Table.from_arrays(cols, schema=EPISODE_ARROW)
    n = len(frame)
    arrays: list[pa.Array] = []
    for f in EPISODE_ARROW:
        if f.name not in frame.columns:
            arrays.append(pa.nulls(n, f.type))
        elif f.name in ("start", "end"):
            arrays.append(pa.array(parse_dates(frame[f.name]).to_numpy(dtype="datetime64[us]"), f.type))
        elif f.name == "source_row":
            arrays.append(pa.array(pd.to_numeric(frame[f.name], errors="coerce").astype("Int64"), pa.int64()))
        elif f.name == "attrs":
            arrays.append(pa.array([json_text(v) for v in frame[f.name]], pa.string()))
        else:
            arrays.append(pa.array(map_values(frame[f.name], clean_id).tolist(), type=pa.string()))
    return pa.Table.from_arrays(arrays, schema=EPISODE_ARROW)


def hash_workers(ws: WorkspaceLike, values: pa.Array) -> pa.Array:
    """Pseudonyms of distinct worker ids (nulls stay null), by the workspace's rule for workers."""
    return pa.array(list(ws.pseudonymise(values.to_pylist(), la=ws.la if ws.multi_la else None,
                                         namespace="worker:")), pa.string())


def staged_stays(ws: WorkspaceLike, result: ReadResult, pseudo: Pseudonyms,
                 load_seq: int) -> tuple[pa.Table | StagedEngine | None, pa.Table | None]:
    """(the source's stays, typed and pseudonymised, with ``load_seq``, ``pos`` and ``_code``; its ids).

    Each distinct LA child id is hashed once and the pseudonyms taken row by row in Arrow
    (``_code`` is the row's index into the id table). The id table has ``sid`` (the LA child
    id) and ``child_id``. Stays a reader left in the engine stay there (:mod:`cscflow.sources.events_stage`).
    """
    ep = result.episodes
    if isinstance(ep, EngineStays):
        return stage_engine(ws, ep, pseudo, load_seq, hash_workers)
    if ep is None or (isinstance(ep, pa.Table) and ep.num_rows == 0) or (isinstance(ep, pd.DataFrame) and ep.empty):
        return None, None
    tab = episodes_arrow(ep)
    if tab.column("source_child_id").null_count:
        tab = tab.filter(pc.is_valid(tab.column("source_child_id")))
    n = tab.num_rows
    if not n:
        return None, None
    worker = tab.column("worker")
    if worker.null_count < n:
        worker = worker.combine_chunks()
        wv = pc.unique(worker)
        hashed = hash_workers(ws, wv)
        tab = tab.set_column(tab.schema.get_field_index("worker"), "worker",
                             pc.take(hashed, pc.index_in(worker, value_set=wv)))
    enc = pc.dictionary_encode(tab.column("source_child_id").combine_chunks())  # one hash pass
    uniq, code = enc.dictionary, enc.indices
    ids = pa.table({"sid": uniq, "child_id": pseudo.of_unique(uniq)})
    # child_id stays dictionary-encoded (codes into the pseudonyms): 10M rows never copy 10M strings here
    tab = tab.set_column(0, "child_id", pa.DictionaryArray.from_arrays(code, ids.column("child_id").combine_chunks()))
    tab = tab.append_column("load_seq", repeat(load_seq, n, pa.int64()))
    tab = tab.append_column("pos", pa.array(np.arange(n, dtype=np.int64)))
    tab = tab.append_column("_code", code)
    return tab, ids


