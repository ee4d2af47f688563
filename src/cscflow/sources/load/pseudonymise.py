"""Load stage 3, pseudonymise: one :class:`Pseudonyms` per source, hashing each distinct LA child id once with
the workspace key and the LA the identity stage settled (:mod:`cscflow.workspace.identity`).

>>> import tempfile
>>> from cscflow.workspace import Workspace
>>> from cscflow.sources.base import ReadResult
>>> ws = Workspace(tempfile.mkdtemp(), la="886")
>>> [p] = pseudonymise(ws, [ReadResult(source="a.csv", format="events")], {"a.csv": {}}, None)
>>> p(pa.array(["C1", "C1", "C2"])).to_pylist() == list(ws.pseudonymise(["C1", "C1", "C2"]))
True
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cscflow.sources.base import ReadResult
from cscflow.workspace import identity

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike


def pseudonymise(ws: WorkspaceLike, results: list[ReadResult], la_maps: dict[str, dict[str, str]],
                 la: str | None) -> list[Pseudonyms]:
    """The pseudonymiser of each source, in order (``la_maps``: the LA each source states per child id)."""
    return [Pseudonyms(ws, la_maps[r.source], la, r.source) for r in results]


def source_tag(source: str) -> str:
    """A short stable tag of a source name (prefix of its episode and proceedings ids)."""
    return hashlib.sha1(source.encode()).hexdigest()[:8]


def json_text(value: object) -> str | None:
    """A dict (or JSON text) as JSON text; empty and missing as None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict) and not value:
        return None
    return json.dumps(value, default=str, sort_keys=True)


def repeat(value: Any, n: int, typ: pa.DataType = pa.string()) -> pa.Array:
    """``value`` n times as an Arrow array (built in C, not as a Python list)."""
    return pc.cast(pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], typ)), typ)


class Pseudonyms:
    """Pseudonymise LA child ids of one source (each distinct id hashed once, remembered).

    A single-LA workspace hashes every id with its one pseudonym LA; a multi-LA workspace with the
    LA the source states for the id (``la_of``), else ``given`` (``--la``): see
    :mod:`cscflow.workspace.identity`.
    """

    def __init__(self, ws: WorkspaceLike, la_of: dict[str, str], given: str | None = None, source: str = "") -> None:
        self.ws, self.la_of, self.given, self.source = ws, la_of, given, source
        self.known: dict[str, str] = {}

    def la(self, sid: str | None) -> str:
        """The LA of child id ``sid`` as written in ``_source_children``."""
        if not self.ws.multi_la:
            return self.ws.la
        return identity.la_for_rows(self.ws, [self.la_of.get(sid or "", "")], self.given, self.source)[0]

    def of_unique(self, uniq: pa.Array) -> pa.Array:
        """Pseudonyms of distinct ids, in the same order."""
        values = uniq.to_pylist()
        todo = [v for v in values if v not in self.known]
        if todo:
            if self.ws.multi_la:
                las = identity.la_for_rows(self.ws, [self.la_of.get(v or "", "") for v in todo], self.given,
                                           self.source)
                hashed = self.ws.pseudonymise(todo, la=las)
            else:
                hashed = self.ws.pseudonymise(todo)
            self.known.update(zip(todo, hashed, strict=True))
        return pa.array([self.known[v] for v in values], pa.string())

    def __call__(self, ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Pseudonyms of any ids (repeats and nulls allowed), row for row."""
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        uniq = pc.unique(ids)
        return pc.take(self.of_unique(uniq), pc.index_in(ids, value_set=uniq))
