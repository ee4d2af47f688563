"""Event-log stays left in the workspace's engine by the reader, staged for the loader without leaving it.

:func:`cscflow.sources.events.read` given a DuckDB workspace scans the file with the workspace's own
connection: the stays stay there (:class:`EngineStays`, temporary tables named by a tag). The loader
(:func:`cscflow.sources.load.stays.write_stays`) then writes them with one ``INSERT ... SELECT``:

- LA child ids are pseudonymised once per distinct id (:class:`~cscflow.sources.load.pseudonymise.Pseudonyms`,
  the workspace's one rule); the small (id -> pseudonym) table is joined to the stays in the engine;
- workers are hashed once per distinct worker, by the loader's rule for every source;
- need days are worked out only when the load or the workspace holds referrals for these children
  (:func:`need_inputs` gives the loader's numpy rule three compact columns; the result is joined back).

So a 2.6-million-event log never passes through Python row by row, and it is loaded by the same
function (:func:`cscflow.sources.load`) whether it comes from ``cscflow load`` or from Python.

>>> import tempfile, pathlib
>>> from cscflow.workspace import Workspace
>>> from cscflow.sources import events
>>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
>>> _ = p.write_text("child_id,stage,start\\nC1,referral,2020-01-02\\nC1,assessment,2020-01-03\\n")
>>> ws = Workspace(tempfile.mkdtemp(), la="886")
>>> r = events.read([p], ws=ws)[0]
>>> r.episodes.num_rows, ws.sql(f"SELECT stage FROM ({r.episodes.sql}) ORDER BY pos")
(2, [('referral',), ('assessment',)])
>>> ws.drop_temporary(r.episodes.tag)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from cscflow.workspace.engine import drop_temp

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

__all__ = ["STAGED", "EngineStays", "StagedEngine", "drop_temp", "need_inputs", "next_tag", "stage", "with_days"]

_TAGS = itertools.count(1)
#: Columns of a staged source, as :func:`cscflow.sources.load.staging.staged_stays` gives them in Arrow.
STAGED = ("child_id", "stage", "start", "end", "outcome", "need_key", "team", "worker", "attrs", "source_row",
          "load_seq", "pos")


@dataclass
class EngineStays:
    """A reader's stays kept in the workspace's engine.

    ``sql`` selects the episode columns (``source_child_id`` ... ``source_row``) and ``pos`` (0-based, the
    stay's place among the file's loaded rows, in file order); ``tag`` prefixes the temporary tables and
    views holding them (dropped by :func:`drop_temp` once written).
    """

    sql: str
    tag: str
    num_rows: int

    def __len__(self) -> int:
        return self.num_rows


@dataclass
class StagedEngine:
    """Stays of one source pseudonymised in the engine: ``sql`` has the columns of :data:`STAGED` and
    ``_code`` (the row's index into the source's id table)."""

    sql: str
    tag: str
    num_rows: int
    load_seq: int
    keyed: bool  # some stays carry the source's own need key
    referrals: bool  # some stays are referrals (else, with no referral elsewhere, no stay has a need)


def next_tag() -> str:
    """A fresh prefix for one file's temporary tables in a workspace connection."""
    return f"_cscflow_ev{next(_TAGS)}"


def _column(got: Any) -> pa.Array:
    table = got.read_all() if isinstance(got, pa.RecordBatchReader) else got
    return table.column(0).combine_chunks()


def stage(ws: WorkspaceLike, stays: EngineStays, pseudo: Any, load_seq: int,
          hash_workers: Callable[[Any, pa.Array], pa.Array]) -> tuple[StagedEngine | None, pa.Table | None]:
    """(the source's stays pseudonymised in the engine, its id table with ``sid`` and ``child_id``).

    Each distinct LA child id is hashed once by ``pseudo``, each distinct worker once by ``hash_workers``
    (the loader's rules, the same as for stays read into Arrow).
    """
    if not stays.num_rows:
        return None, None
    con, tag = ws.sql_connection(), stays.tag
    uniq = _column(con.execute(f"SELECT DISTINCT source_child_id FROM ({stays.sql}) "
                               "WHERE source_child_id IS NOT NULL").arrow())
    if not len(uniq):
        return None, None
    ids = pa.table({"sid": uniq, "child_id": pseudo.of_unique(uniq)})
    con.register(f"{tag}_ids", ids.append_column("code", pa.array(np.arange(len(uniq), dtype=np.int64))))
    n_keyed, n_workers, n_referrals = con.execute(
        f"SELECT count(need_key), count(worker), count(*) FILTER (WHERE stage = 'referral') FROM ({stays.sql})"
    ).fetchone()
    worker, join = "s.worker", ""
    if n_workers:
        workers = _column(con.execute(f"SELECT DISTINCT worker FROM ({stays.sql}) WHERE worker IS NOT NULL").arrow())
        hashed = hash_workers(ws, workers)
        con.register(f"{tag}_workers", pa.table({"w": workers, "h": hashed}))
        worker, join = "w.h", f" LEFT JOIN {tag}_workers w ON w.w = s.worker"
    sql = (f"SELECT i.child_id, s.stage, CAST(s.start AS TIMESTAMP) AS start, CAST(s.\"end\" AS TIMESTAMP) AS \"end\", "
           f"s.outcome, s.need_key, s.team, {worker} AS worker, s.attrs, s.source_row, "
           f"CAST({int(load_seq)} AS BIGINT) AS load_seq, s.pos, i.code AS _code "
           f"FROM ({stays.sql}) s JOIN {tag}_ids i ON i.sid = s.source_child_id{join}")
    # the reader quarantines rows without a child id, so every stay has one: the join keeps them all
    return StagedEngine(sql, tag, stays.num_rows, int(load_seq), n_keyed > 0, n_referrals > 0), ids


def need_inputs(ws: WorkspaceLike, staged: StagedEngine) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pos, id code, day number since 1970, valid day, is a referral) of every staged stay, in ``pos`` order."""
    got = ws.sql_connection().execute(
        f"SELECT pos, _code, coalesce(CAST(start AS DATE) - DATE '1970-01-01', 0) AS d, start IS NOT NULL AS ok, "
        f"coalesce(stage = 'referral', false) AS ref FROM ({staged.sql}) ORDER BY pos").fetchnumpy()
    return (np.asarray(got["pos"]), np.asarray(got["_code"]).astype(np.int64), np.asarray(got["d"]).astype(np.int64),
            np.asarray(got["ok"]).astype(bool), np.asarray(got["ref"]).astype(bool))


def with_days(ws: WorkspaceLike, staged: StagedEngine, pos: np.ndarray | None, r_day: pa.Array | None) -> str:
    """The staged stays' SQL with ``day`` and ``r_day`` (the latest referral's day per ``pos``; none: null),
    without ``_code``: the columns :func:`cscflow.sources.load.stays.write_stays` writes from."""
    cols = ", ".join(f's."{c}"' for c in STAGED)
    if r_day is None:
        return f"SELECT {cols}, CAST(s.start AS DATE) AS day, CAST(NULL AS DATE) AS r_day FROM ({staged.sql}) s"
    ws.register(f"{staged.tag}_rday", pa.table({"pos": pos, "r_day": r_day}))
    return (f"SELECT {cols}, CAST(s.start AS DATE) AS day, r.r_day FROM ({staged.sql}) s "
            f"LEFT JOIN {staged.tag}_rday r ON r.pos = s.pos")
