"""Load stage 2, settle identity: which LA the files' children belong to (:func:`cscflow.workspace.identity.settle`,
before anything is written, so that a file of another LA is refused), where this load ranks after what was
loaded before, and what it replaces (a file loaded again: every row it loaded before is deleted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from cscflow.errors import SourceError
from cscflow.sources.base import ReadResult
from cscflow.sources.load.internal import BY_SOURCE
from cscflow.sources.values import clean_id, map_values
from cscflow.workspace import identity

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike


@dataclass
class Plan:
    """What the identity stage settled for one load."""

    #: The LA each source states per LA child id (source -> id -> LA code).
    la_maps: dict[str, dict[str, str]]
    #: The ``load_seq`` of the first source (each next source one more).
    seq0: int
    #: Pseudonymised children whose merged row must be rebuilt (their LA just learnt, or a source replaced).
    dirty: list[pa.Array] = field(default_factory=list)
    #: Sources replaced whose children must all be rebuilt.
    dirty_sources: list[str] = field(default_factory=list)


def settle(ws: WorkspaceLike, results: list[ReadResult], la: str | None) -> Plan:
    """Settle the load's LA, refuse two sources of one name, forget earlier loads of the same files."""
    la_maps = {r.source: la_map(r) for r in results}
    stated = {src: set(m.values()) for src, m in la_maps.items()}
    la_before = ws.la
    identity.settle(ws, set().union(*stated.values()), la, files=stated)
    plan = Plan(la_maps, 1)
    if ws.la != la_before and not ws.multi_la:  # the LA just learnt: every child loaded before gets it
        plan.dirty_sources = sorted(set(ws.table("_sources").source.execute()))
    names = [r.source for r in results]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SourceError(f"two files named {twice[0]!r} in one load",
                          hint="load them separately, or give their folders so they are named by folder")
    srcs = ws.table("_sources")
    known = srcs.aggregate(seq=srcs.load_seq.max(), again=srcs.source.isin(names).any()).execute().iloc[0]
    if known["again"] is True or known["again"] == 1:
        before = sorted(set(srcs.filter(srcs.source.isin(names)).source.execute()))
        if ws.in_place:  # their children, before their rows go (other engines rebuild every child)
            sc = ws.table("_source_children")
            plan.dirty.append(ws.to_pyarrow(sc.filter(sc.source.isin(before)).select("child_id").distinct())
                              .column("child_id").combine_chunks())
        for table in BY_SOURCE:
            ws.delete_in(table, "source", before)
    plan.seq0 = 1 if known["seq"] is None or pd.isna(known["seq"]) else int(known["seq"]) + 1
    return plan


def la_map(result: ReadResult) -> dict[str, str]:
    """LA code of each LA child id, where the source names one."""
    ch = result.children
    if ch is None or ch.empty or "la" not in ch.columns:
        return {}
    las = map_values(ch["la"], lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    stated = (las != "").to_numpy()
    if not stated.any():  # an event log without LA codes: nothing to clean (2.6M events' ids took 0.4 s)
        return {}
    ids = map_values(ch["source_child_id"][stated], clean_id)
    return {i: a for i, a in zip(ids, las[stated], strict=True) if i and a}


