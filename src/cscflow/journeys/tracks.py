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

Binary layout of :meth:`Tracks.to_bytes` (little-endian): uint32 header length N, N bytes of UTF-8
JSON header (version, epoch, end, n_legs, n_children, convention, stations, attributes, arrays with
name/dtype/offset/length, offsets from the start of the blob and 8-byte aligned, length in elements),
then the arrays: per leg child (uint32), from (uint16), to (uint16), depart (float32), arrive
(float32), repeat (uint8); per child child_code_<attribute> (uint8). Times are days since ``epoch``.
"""

from __future__ import annotations

import datetime as _dt
import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cscflow.journeys.filters import child_codes
from cscflow.journeys.maps import ProcessMap, load_map
from cscflow.journeys.timeline import data_end, data_start, timelines

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
        """The compact binary form (see the module docstring)."""
        arrays = self.arrays()
        base = 0
        while True:
            specs, offset = [], base
            for name, a in arrays:
                specs.append({"name": name, "dtype": str(a.dtype), "offset": offset, "length": int(a.shape[0])})
                offset = _align(offset + a.nbytes)
            header = json.dumps(
                {"version": 1, "epoch": self.epoch.isoformat(), "end": self.end.isoformat(),
                 "n_legs": self.n_legs, "n_children": self.n_children, "convention": self.convention,
                 "stations": self.stations, "attributes": self.attributes, "arrays": specs},
                separators=(",", ":"),
            ).encode()
            start = _align(4 + len(header))
            if start == base:
                break
            base = start
        buf = bytearray(offset)
        buf[0:4] = struct.pack("<I", len(header))
        buf[4 : 4 + len(header)] = header
        for spec, (_, a) in zip(specs, arrays, strict=True):
            raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
            buf[spec["offset"] : spec["offset"] + len(raw)] = raw
        return bytes(buf)

    @staticmethod
    def read_header(blob: bytes) -> dict[str, Any]:
        """The JSON header of a blob."""
        (n,) = struct.unpack_from("<I", blob, 0)
        return json.loads(blob[4 : 4 + n].decode())

    @staticmethod
    def read_arrays(blob: bytes) -> dict[str, np.ndarray]:
        """Every array of a blob by name (a reader to check the layout)."""
        head = Tracks.read_header(blob)
        return {
            s["name"]: np.frombuffer(blob, dtype=np.dtype(s["dtype"]).newbyteorder("<"), count=s["length"],
                                     offset=s["offset"])
            for s in head["arrays"]
        }


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
    last = data_end(ws)
    epoch = data_start(ws).normalize()
    tl = timelines(ws, pmap, where)
    df = ws.execute(tl.select("child_id", "seq", "station", "start", "end", "repeat", "kind", "team"))
    df = df.sort_values(["child_id", "seq"], kind="stable").reset_index(drop=True)
    return tracks_from_timeline(df, pmap, convention, epoch, last, ws)


def _days(values: pd.Series, epoch: pd.Timestamp) -> np.ndarray:
    ts = pd.to_datetime(values)
    return ((ts - epoch) / pd.Timedelta(days=1)).to_numpy(dtype="float64")


def tracks_from_timeline(
    df: pd.DataFrame, pmap: ProcessMap, convention: str, epoch: pd.Timestamp, last: pd.Timestamp, ws: Any
) -> Tracks:
    """Legs from an executed timeline sorted by (child_id, seq)."""
    n = len(df)
    child_ids, child = np.unique(df["child_id"].to_numpy(dtype=object).astype(str), return_inverse=True)
    st_index = {s: i for i, s in enumerate(pmap.station_ids)}
    station = df["station"].map(st_index).to_numpy(dtype="int64")
    start = _days(df["start"], epoch)
    is_open = df["end"].isna().to_numpy()
    end = np.where(is_open, _days(pd.Series([last] * n), epoch) if n else start, _days(df["end"], epoch))
    is_exit = (df["kind"] == "exit").to_numpy()
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
        prev_end[0] = start[0] if n else 0.0
        prev_end[1:] = end[:-1]
        dep = np.where(prev_left, start, np.minimum(prev_end, start))
        arr = start
    leave = is_exit | (last_row & ~is_open)
    reps = np.minimum(df["repeat"].to_numpy(dtype="int64"), 255)
    pos = np.arange(n) * 2
    legs = pd.DataFrame({
        "key": np.concatenate([pos, pos[leave] + 1]),
        "child": np.concatenate([child, child[leave]]),
        "from": np.concatenate([src, station[leave]]),
        "to": np.concatenate([station, np.full(int(leave.sum()), OUTSIDE)]),
        "depart": np.concatenate([dep, end[leave]]),
        "arrive": np.concatenate([arr, end[leave]]),
        "repeat": np.concatenate([reps, reps[leave]]),
    }).sort_values("key", kind="stable")
    firsts = df.loc[first, ["child_id", "start"]].reset_index(drop=True)
    team_first = df.dropna(subset=["team"]).drop_duplicates("child_id").set_index("child_id")["team"]
    firsts["team"] = firsts["child_id"].map(team_first)
    labels, codes = child_codes(ws, firsts)
    return Tracks(
        epoch=epoch.date(),
        end=pd.Timestamp(last).date(),
        convention=convention,
        stations=[dict(s) for s in pmap.stations],
        child_ids=child_ids,
        child=legs["child"].to_numpy(dtype="uint32"),
        from_=legs["from"].to_numpy(dtype="uint16"),
        to=legs["to"].to_numpy(dtype="uint16"),
        depart=legs["depart"].to_numpy(dtype="float32"),
        arrive=legs["arrive"].to_numpy(dtype="float32"),
        repeat=legs["repeat"].to_numpy(dtype="uint8"),
        attributes={k: labels[k] for k in ATTRIBUTES},
        codes={k: np.asarray(codes[k], dtype="uint8") for k in ATTRIBUTES},
    )
