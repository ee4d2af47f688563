"""Animation tracks: every child's legs between stations, as numpy arrays and a compact binary blob.

Two conventions for a stay at station S from ``start`` to ``end`` (open stays end at the data's end):

- ``travel`` (the 2018 prototype's): the dot moves toward S while S's activity is under way, leaving
  the previous station at ``start`` and arriving at S at ``end``; between stays it rests at the last
  station reached.
- ``queue``: the dot moves during the gaps between stays and waits at S during the activity: it
  leaves the previous station when that stay ended and arrives at S at ``start``.

A child enters the map from outside (``from`` = 65535) at its first stay and after each exit; after an
exit row, or after a last stay that ended, it leaves the map (``to`` = 65535) at that moment.
Zero-length stays give legs with ``depart == arrive`` (they are kept, unlike the prototype).

The binary form (:meth:`Tracks.to_bytes`, and the ``/api/stays`` blob of the web app) is written by
:func:`pack_blob` alone and read back by :func:`read_blob`; its layout is given byte by byte in
docs/contracts.md ("Binary blobs"): a little-endian uint32 header length N, N bytes of UTF-8 JSON
header (with ``arrays``: name, dtype, offset, length), zero bytes up to the next multiple of 8, then the
arrays, each starting at a multiple of 8. The tracks blob holds per leg child (uint32), from (uint16),
to (uint16), depart (float32), arrive (float32), repeat (uint8); per child child_code_<attribute> (uint8).
Times are days since ``epoch``.
"""

from __future__ import annotations

import datetime as _dt
import json
import struct
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cscflow.journeys.filters import AGE_BANDS, ETHNICITY_GROUPS, SEX_LABELS, YES_NO, check_where
from cscflow.journeys.maps import ProcessMap, load_map
from cscflow.journeys.track_rows import CHILD_FILTERS, Rows, cohort_rows, fetch_rows

OUTSIDE = 65535
CONVENTIONS = ("travel", "queue")
ATTRIBUTES = ("sex", "ethnicity", "age_band", "disability", "uasc", "team")
_LEG_ARRAYS = (("child", "uint32"), ("from", "uint16"), ("to", "uint16"), ("depart", "float32"),
               ("arrive", "float32"), ("repeat", "uint8"))


@dataclass
class Tracks:
    """Legs of every child's journey (arrays of equal length) plus per-child cohort codes.

    ``child_ids`` (pseudonymised ids, by child index) is kept apart: it is not in :meth:`to_bytes`.
    """

    epoch: _dt.date
    end: _dt.date
    convention: str
    stations: list[dict[str, Any]]
    child_ids: np.ndarray
    child: np.ndarray
    from_: np.ndarray
    to: np.ndarray
    depart: np.ndarray
    arrive: np.ndarray
    repeat: np.ndarray
    attributes: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_legs(self) -> int:
        return int(self.child.shape[0])

    @property
    def n_children(self) -> int:
        return int(self.child_ids.shape[0])

    def arrays(self) -> list[tuple[str, np.ndarray]]:
        """(name, array) in blob order."""
        legs = [self.child, self.from_, self.to, self.depart, self.arrive, self.repeat]
        out = [(name, np.ascontiguousarray(a, dtype=dt)) for (name, dt), a in zip(_LEG_ARRAYS, legs, strict=True)]
        out += [(f"child_code_{k}", np.ascontiguousarray(self.codes[k], dtype="uint8")) for k in self.attributes]
        return out

    def to_bytes(self) -> bytes:
        """The compact binary form (:func:`pack_blob`; docs/contracts.md)."""
        header = {"version": 1, "epoch": self.epoch.isoformat(), "end": self.end.isoformat(),
                  "n_legs": self.n_legs, "n_children": self.n_children, "convention": self.convention,
                  "stations": self.stations, "attributes": self.attributes}
        return pack_blob(header, dict(self.arrays()))

    @staticmethod
    def read_header(blob: bytes) -> dict[str, Any]:
        """The JSON header of a blob."""
        return read_blob(blob)[0]

    @staticmethod
    def read_arrays(blob: bytes) -> dict[str, np.ndarray]:
        """Every array of a blob by name."""
        return read_blob(blob)[1]


#: dtypes a blob may hold (the browser's typed arrays: blob.js).
BLOB_DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64")


def pack_blob(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """The one packer of the binary blobs (docs/contracts.md, "Binary blobs").

    ``header`` is any JSON-ready dict without ``arrays``; the arrays (1-D, dtypes of :data:`BLOB_DTYPES`) follow
    in the given order, each listed in the header's ``arrays`` with its byte offset from the blob's start
    (a multiple of 8) and its length in elements.

    >>> blob = pack_blob({"version": 1}, {"a": np.arange(3, dtype="uint16")})
    >>> n = struct.unpack("<I", blob[:4])[0]
    >>> json.loads(blob[4:4 + n]), len(blob)
    ({'version': 1, 'arrays': [{'name': 'a', 'dtype': 'uint16', 'offset': 88, 'length': 3}]}, 96)
    >>> read_blob(blob)[1]["a"].tolist()
    [0, 1, 2]
    """
    from cscflow.errors import AnalysisError

    items = [(name, np.asarray(a)) for name, a in arrays.items()]
    for name, a in items:
        if a.ndim != 1 or a.dtype.name not in BLOB_DTYPES:
            raise AnalysisError(f"blob array {name!r} is {a.ndim}-D {a.dtype.name}",
                                hint=f"pass 1-D arrays of {', '.join(BLOB_DTYPES)}")
    base = 0
    while True:  # the header's length depends on the offsets it lists: iterate to the fixed point
        specs: list[dict[str, Any]] = []
        offset = base
        for name, a in items:
            specs.append({"name": name, "dtype": a.dtype.name, "offset": offset, "length": int(a.shape[0])})
            offset = _align(offset + a.nbytes)
        head = json.dumps({**header, "arrays": specs}, separators=(",", ":")).encode()
        start = _align(4 + len(head))
        if start == base:
            break
        base = start
    buf = bytearray(max(offset, start))
    buf[0:4] = struct.pack("<I", len(head))
    buf[4 : 4 + len(head)] = head
    for spec, (_, a) in zip(specs, items, strict=True):
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        buf[spec["offset"] : spec["offset"] + len(raw)] = raw
    return bytes(buf)


def read_blob(blob: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the arrays (by name, read in place) of a blob made by :func:`pack_blob`."""
    (n,) = struct.unpack_from("<I", blob, 0)
    head = json.loads(blob[4 : 4 + n].decode())
    arrays = {
        s["name"]: np.frombuffer(blob, dtype=np.dtype(s["dtype"]).newbyteorder("<"), count=s["length"],
                                 offset=s["offset"])
        for s in head["arrays"]
    }
    return head, arrays


def _align(n: int) -> int:
    return (n + 7) // 8 * 8


def tracks(
    ws: Any, pmap: ProcessMap | str = "england", convention: str = "travel", where: dict[str, Any] | None = None
) -> Tracks:
    """The animation tracks of every child on ``pmap`` in ``convention`` ("travel" or "queue").

    >>> import tempfile, pandas as pd
    >>> from cscflow import Workspace
    >>> ws = Workspace(tempfile.mkdtemp(), la="999")
    >>> _ = ws.write("episodes", pd.DataFrame({"episode_id": ["1"], "child_id": ["c"], "stage": ["referral"],
    ...     "start": pd.to_datetime(["2024-01-02"]), "end": pd.to_datetime(["2024-01-09"]), "outcome": ["nfa"],
    ...     "need_id": ["n1"], "source": "x", "source_row": [1]}))
    >>> t = tracks(ws, "england")
    >>> t.from_.tolist(), t.to.tolist(), t.arrive.tolist()
    ([65535, 2, 15], [2, 15, 65535], [7.0, 7.0, 7.0])
    """
    from cscflow.errors import AnalysisError

    if convention not in CONVENTIONS:
        raise AnalysisError(f"no track convention {convention!r}", hint="use 'travel' or 'queue'")
    pmap = load_map(pmap, ws)
    if where and set(check_where(where)) <= CHILD_FILTERS:
        return _child_cohort(ws, pmap, convention, where)
    if not where:
        return _everyone(fetch_rows(ws, pmap), pmap, convention)
    return _legs(cohort_rows(ws, pmap, where), pmap, convention)


def tracks_of_rows(rows: Rows, pmap: ProcessMap, convention: str = "travel") -> Tracks:
    """The tracks of prepared timeline :class:`Rows` (the one leg encoder: the forecast's simulated children
    are drawn from rows made like the engine's, :mod:`cscflow.web.api.simulated`)."""
    return _legs(rows, pmap, convention)


_WHOLE: OrderedDict[Any, Any] = OrderedDict()


def _everyone(full: Rows, pmap: ProcessMap, convention: str) -> Tracks:
    """Everyone's tracks from everyone's rows ``full`` (kept for the last few row sets: cohorts reuse them)."""
    key = (id(full), convention)
    hit = _WHOLE.get(key)
    if hit is None or hit[0] is not full:
        hit = _WHOLE[key] = (full, _legs(full, pmap, convention))
        while len(_WHOLE) > 4:
            _WHOLE.popitem(last=False)
    _WHOLE.move_to_end(key)
    return hit[1]


def _child_cohort(ws: Any, pmap: ProcessMap, convention: str, where: dict[str, Any]) -> Tracks:
    """Tracks of a cohort chosen by the child alone: the legs of those children taken from everyone's tracks
    (a child's legs depend on its own rows only), children renumbered, team labels those of the cohort's rows.
    The same tracks as computing them from the cohort's rows (tests/journeys/test_tracks.py), in a fraction of
    the time: the web map asks for these on every filter change."""
    full = fetch_rows(ws, pmap)
    whole = _everyone(full, pmap, convention)
    kids = full.child_mask(where)
    legs = kids[whole.child]
    renumber = np.cumsum(kids) - 1
    used = np.unique(full.team[kids[full.ci] & (full.team >= 0)])
    labels = sorted(full.teams[i] for i in used)[:254]
    pos = {t: i for i, t in enumerate(labels)}
    old = whole.attributes["team"]  # labels of everyone's rows, then "Unknown"
    remap = np.asarray([pos.get(t, len(labels)) for t in old[:-1]] + [len(labels)], dtype="uint8")
    codes = {k: v[kids] for k, v in whole.codes.items()}
    codes["team"] = remap[codes["team"]]
    return replace(
        whole, child_ids=whole.child_ids[kids], child=renumber[whole.child[legs]].astype("uint32"),
        from_=whole.from_[legs], to=whole.to[legs], depart=whole.depart[legs], arrive=whole.arrive[legs],
        repeat=whole.repeat[legs], attributes={**whole.attributes, "team": labels + ["Unknown"]}, codes=codes,
    )


def _legs(r: Rows, pmap: ProcessMap, convention: str) -> Tracks:
    n = r.n_rows
    child, station, start, end = r.ci, r.st, r.start, r.end
    is_open, is_exit = r.is_open, r.is_exit
    reps = np.minimum(r.repeat, 255)
    first = np.ones(n, dtype=bool)
    first[1:] = child[1:] != child[:-1]
    last_row = np.ones(n, dtype=bool)
    last_row[:-1] = child[:-1] != child[1:]
    prev_left = np.ones(n, dtype=bool)  # the dot is outside the map before this row
    prev_left[1:] = first[1:] | is_exit[:-1]
    prev_station = np.full(n, OUTSIDE, dtype="int64")
    prev_station[1:] = station[:-1]
    src = np.where(prev_left, OUTSIDE, prev_station)
    if convention == "travel":
        dep, arr = start, end
    else:
        prev_end = np.empty(n)
        if n:
            prev_end[0] = start[0]
            prev_end[1:] = end[:-1]
        dep = np.where(prev_left, start, np.minimum(prev_end, start))
        arr = start
    leave = is_exit | (last_row & ~is_open)
    # Each row's leg, followed by a leaving leg where the dot leaves the map: scatter into place (no sort).
    before = np.cumsum(leave) - leave  # leaving legs before each row
    at_row = np.arange(n) + before
    at_leave = at_row[leave] + 1
    total = n + int(leave.sum())

    def legs(a: np.ndarray, b: np.ndarray | int, dtype: str) -> np.ndarray:
        out = np.empty(total, dtype=dtype)
        out[at_row] = a
        out[at_leave] = b
        return out

    codes, teams = r.child_codes()
    labels = {"sex": SEX_LABELS, "ethnicity": ETHNICITY_GROUPS, "age_band": AGE_BANDS, "disability": YES_NO,
              "uasc": YES_NO, "team": teams}
    return Tracks(
        epoch=r.epoch.date(),
        end=r.last.date(),
        convention=convention,
        stations=[dict(s) for s in pmap.stations],
        child_ids=r.child_ids,
        child=legs(child, child[leave], "uint32"),
        from_=legs(src, station[leave], "uint16"),
        to=legs(station, OUTSIDE, "uint16"),
        depart=legs(dep, end[leave], "float32"),
        arrive=legs(arr, end[leave], "float32"),
        repeat=legs(reps, reps[leave], "uint8"),
        attributes={k: labels[k] for k in ATTRIBUTES},
        codes={a: codes[a].astype("uint8") for a in ATTRIBUTES},
    )
