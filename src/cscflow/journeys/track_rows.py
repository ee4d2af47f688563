"""Every child's timeline rows fetched once as arrays, and cohort subsets of them without another query.

The web map asks for tracks, stays and counts again at every cohort filter change. Running the
filtered timeline through the engine each time costs a join, a sort and a fetch of a million rows
(about a second on the ``county`` preset); the cohort filter itself is a row mask. So the rows of the
unfiltered timeline are fetched once per workspace state and map (two queries: rows and children),
with what every filter of :mod:`cscflow.journeys.filters` needs (team, episode-of-need number, month
of the row's start, referral source per row; sex, ethnicity, birth month, disability and UASC per
child), and :meth:`Rows.subset` applies ``where`` with the same rules as
:func:`cscflow.journeys.filters.apply_where` (tests/journeys/test_track_rows.py checks them against
the engine's filtered timelines).

>>> import tempfile, pandas as pd
>>> from cscflow import Workspace
>>> from cscflow.journeys import load_map
>>> ws = Workspace(tempfile.mkdtemp(), la="999")
>>> _ = ws.write("episodes", pd.DataFrame({"episode_id": ["1", "2"], "child_id": ["a", "b"],
...     "stage": ["referral", "referral"], "start": pd.to_datetime(["2024-01-02", "2024-01-03"]),
...     "end": pd.to_datetime(["2024-01-09", None]), "team": ["North", "South"], "source": "x", "source_row": [1, 2]}))
>>> r = fetch_rows(ws, load_map("england"))
>>> r.child_ids.tolist(), r.subset({"team": "South"}).child_ids.tolist()
(['a', 'b'], ['b'])
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from cscflow.journeys.filters import (
    AGE_BANDS,
    ETHNICITY_GROUPS,
    _repeat_condition_np,
    _truth,
    check_where,
    ethnicity_group,
    referral_sources,
)
from cscflow.journeys.maps import ProcessMap
from cscflow.journeys.timeline import data_end, data_start, timelines

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

OUTSIDE = 65535
#: ``eday`` of a row still open at the data's end.
OPEN_DAY = 2**31 - 1


@dataclass(frozen=True)
class Rows:
    """Timeline rows ordered by (child, seq) as arrays, plus per-child attributes (index = child index).

    Per row: ``ci`` (child index), ``st`` (station index in the map), ``start``/``end`` (days since
    ``epoch``, open rows end at the data's end), ``is_open``, ``is_exit``, ``repeat``, ``team``
    (index into ``teams``, -1 = none), ``mon`` (year * 12 + month of the start), ``rs`` (index into
    ``sources``, -1 = none; None unless fetched with ``sources=True``), ``sday``/``eday`` (start and end day since 1970-01-01; open = OPEN_DAY).
    Per child: ``child_ids``, ``sex`` (index into ``sex_labels``; missing is "U"), ``ethnicity`` (index
    into ``ethnicity_labels``, the raw codes; -1 = missing), ``bmon`` (year * 12 + month of birth, -1 =
    unknown), ``disability``/``uasc`` (1 yes, 0 no, 2 unknown), ``la`` (index into ``la_labels``, -1 = none).
    """

    epoch: pd.Timestamp
    last: pd.Timestamp
    ci: np.ndarray
    st: np.ndarray
    start: np.ndarray
    end: np.ndarray
    is_open: np.ndarray
    is_exit: np.ndarray
    repeat: np.ndarray
    team: np.ndarray
    mon: np.ndarray
    rs: np.ndarray | None
    sday: np.ndarray
    eday: np.ndarray
    teams: list[str]
    sources: list[str] | None
    sex_labels: list[str]
    ethnicity_labels: list[str]
    child_ids: np.ndarray
    sex: np.ndarray
    ethnicity: np.ndarray
    bmon: np.ndarray
    disability: np.ndarray
    uasc: np.ndarray
    la: np.ndarray
    la_labels: list[str]

    @property
    def n_rows(self) -> int:
        return int(self.ci.shape[0])

    def mask(self, where: dict[str, Any] | None) -> np.ndarray | None:
        """The rows matching ``where`` (None = all), by the rules of :func:`~cscflow.journeys.filters.apply_where`."""
        where = check_where(where)
        if not where:
            return None
        keep = np.ones(self.n_rows, dtype=bool)
        per_child: np.ndarray | None = None
        for col, raw in where.items():
            vals = list(raw) if isinstance(raw, list | tuple | set) else [raw]
            if col in CHILD_FILTERS:
                ok = self._child_condition(col, vals)
                per_child = ok if per_child is None else per_child & ok
            elif col == "age_band":
                bands = np.asarray(AGE_BANDS, dtype=object)[_age_codes(self.bmon[self.ci], self.mon)]
                keep &= np.isin(bands, [str(v) for v in vals])
            elif col == "team":
                keep &= _in_labels(self.team, self.teams, vals)
            elif col == "repeat":
                keep &= _repeat_condition_np(self.repeat, vals)
            elif col == "referral_source":
                if self.rs is None or self.sources is None:
                    raise ValueError("these rows were fetched without referral sources: fetch_rows(..., sources=True)")
                keep &= _in_labels(self.rs, self.sources, vals)
        if per_child is not None:
            keep &= per_child[self.ci]
        return keep

    def child_mask(self, where: dict[str, Any]) -> np.ndarray:
        """The children matching ``where`` (by child index), for filters on the child only (sex, ethnicity,
        disability, uasc): those keep or drop all of a child's rows."""
        per_child = np.ones(self.child_ids.shape[0], dtype=bool)
        for col, raw in check_where(where).items():
            if col not in CHILD_FILTERS:
                raise ValueError(f"{col!r} is not a filter on the child alone")
            vals = list(raw) if isinstance(raw, list | tuple | set) else [raw]
            per_child &= self._child_condition(col, vals)
        return per_child

    def _child_condition(self, col: str, vals: list[Any]) -> np.ndarray:
        if col == "la":
            return _in_labels(self.la, self.la_labels, [str(v).strip() for v in vals])
        if col == "sex":
            return _in_labels(self.sex, self.sex_labels, [str(v).upper() for v in vals])
        if col == "ethnicity":
            texts = {str(v) for v in vals}
            upper = {v.upper() for v in texts}
            hit = [lab in upper or ethnicity_group(lab) in texts for lab in self.ethnicity_labels]
            hit.append(ethnicity_group(None) in texts)  # missing: only its group can match
            picked: np.ndarray = np.asarray(hit, dtype=bool)[self.ethnicity]
            return picked
        codes = self.disability if col == "disability" else self.uasc
        wanted = [1 if _truth(v, col) else 0 for v in vals]
        return np.isin(codes, wanted)

    def subset(self, where: dict[str, Any] | None) -> Rows:
        """The rows matching ``where``, children renumbered in order (as the engine's filtered timeline).

        The last few subsets are kept: the web map asks for tracks, stays and counts of the same cohort.
        """
        if not where:
            return self
        key = (id(self), json.dumps(where, sort_keys=True, default=str))
        hit = _SUBSETS.get(key)
        if hit is not None and hit[0] is self:
            _SUBSETS.move_to_end(key)
            rows: Rows = hit[1]
            return rows
        out = self._subset(where)
        _SUBSETS[key] = (self, out)
        while len(_SUBSETS) > 4:
            _SUBSETS.popitem(last=False)
        return out

    def _subset(self, where: dict[str, Any]) -> Rows:
        keep = self.mask(where)
        if keep is None:
            return self
        old = self.ci[keep]
        first = np.ones(old.shape[0], dtype=bool)  # rows are ordered by child: renumber without a sort
        first[1:] = old[1:] != old[:-1]
        kids = old[first]
        new = np.cumsum(first) - 1
        names = ("st", "start", "end", "is_open", "is_exit", "repeat", "team", "mon", "sday", "eday",
                 *(("rs",) if self.rs is not None else ()))
        rows = {k: getattr(self, k)[keep] for k in names}
        kid = {k: getattr(self, k)[kids] for k in ("child_ids", "sex", "ethnicity", "bmon", "disability", "uasc",
                                                   "la")}
        return replace(self, ci=new.astype("int64"), **rows, **kid)

    def stations_on(self, day: Any, station_ids: list[str], keep: np.ndarray | None = None) -> pd.DataFrame:
        """Children at each station on ``day``: the rule and columns of :func:`cscflow.journeys.flow.stations_on`
        (station, children; stations with none left out; map order), counted on these rows (those of ``keep``)."""
        d = int((pd.Timestamp(day).normalize() - pd.Timestamp("1970-01-01")).days)
        here = (self.sday <= d) & ((self.eday > d) | (self.sday == d)) & (self.st != OUTSIDE)
        if keep is not None:
            here &= keep
        n_kids = max(int(self.child_ids.shape[0]), 1)
        pairs = np.unique(self.st[here] * n_kids + self.ci[here])
        counts = np.bincount(pairs // n_kids, minlength=len(station_ids))[: len(station_ids)]
        at = np.nonzero(counts)[0]
        return pd.DataFrame({"station": [station_ids[i] for i in at], "children": counts[at].astype("int64")})

    def child_codes(self) -> tuple[dict[str, np.ndarray], list[str]]:
        """Per-child cohort codes of the tracks (sex, ethnicity group, age band at the first row, disability,
        uasc, team of the first row) and the team labels (teams of these rows, sorted, then "Unknown")."""
        n = int(self.child_ids.shape[0])
        first = np.zeros(n, dtype="int64")
        if self.n_rows:
            starts = np.nonzero(np.r_[True, self.ci[1:] != self.ci[:-1]])[0]
            first[self.ci[starts]] = starts
        used = np.unique(self.team[self.team >= 0])
        labels = sorted(self.teams[i] for i in used)[:254]
        lookup = np.full(len(self.teams) + 1, len(labels), dtype="int64")  # last slot: no team
        pos = {t: i for i, t in enumerate(labels)}
        for i, t in enumerate(self.teams):
            lookup[i] = pos.get(t, len(labels))
        team_first = self.team[first] if n else np.zeros(0, dtype="int64")
        sex_pos = {"F": 0, "M": 1, "U": 2}
        eth_pos = {g: i for i, g in enumerate(ETHNICITY_GROUPS)}
        mon_first = self.mon[first] if n else np.zeros(0, dtype="int64")
        codes = {
            "sex": np.asarray([sex_pos.get(s, 2) for s in self.sex_labels] + [2], dtype="int64")[self.sex],
            "ethnicity": np.asarray([eth_pos[ethnicity_group(e)] for e in [*self.ethnicity_labels, None]],
                                    dtype="int64")[self.ethnicity],
            "age_band": _age_codes(self.bmon, mon_first),
            "disability": self.disability.astype("int64"),
            "uasc": self.uasc.astype("int64"),
            "team": lookup[np.where(team_first >= 0, team_first, len(self.teams))],
        }
        return codes, labels + ["Unknown"]


def _in_labels(codes: np.ndarray, labels: list[str], vals: list[Any]) -> np.ndarray:
    wanted = {str(v) for v in vals}
    hit = np.asarray([lab in wanted for lab in labels] + [False], dtype=bool)  # last slot: none (-1)
    out: np.ndarray = hit[codes]
    return out


def _age_codes(bmon: np.ndarray, mon: np.ndarray) -> np.ndarray:
    """Index into AGE_BANDS of a child born in month ``bmon`` on a date in month ``mon`` (year * 12 + month)."""
    months = mon.astype("int64") - bmon.astype("int64")
    years = np.floor_divide(months, 12)
    code = np.select([months < 0, years < 1, years < 5, years < 10, years < 16], [0, 1, 2, 3, 4], default=5)
    return np.where(bmon < 0, AGE_BANDS.index("Unknown"), code).astype("int64")


def cohort_mask(ws: WorkspaceLike, pmap: ProcessMap, where: dict[str, Any] | None) -> tuple[Rows, np.ndarray | None,
                                                                                    np.ndarray | None]:
    """For filters on the child alone: (everyone's rows, the cohort's rows as a mask, each child's index in the
    cohort); otherwise (the cohort's rows, None, None). Masks save copying the rows on each filter change."""
    if where and set(check_where(where)) <= CHILD_FILTERS:
        full = fetch_rows(ws, pmap)
        kids = full.child_mask(where)
        return full, kids[full.ci], np.cumsum(kids) - 1
    return cohort_rows(ws, pmap, where), None, None


def cohort_rows(ws: WorkspaceLike, pmap: ProcessMap, where: dict[str, Any] | None) -> Rows:
    """The fetched rows of the cohort ``where`` (referral sources fetched only when it filters on them)."""
    return fetch_rows(ws, pmap, sources=where is not None and "referral_source" in where).subset(where)


#: Filters on the child alone (all of a child's rows are kept or dropped).
CHILD_FILTERS = frozenset({"sex", "ethnicity", "disability", "uasc", "la"})
_SUBSETS: OrderedDict[Any, Any] = OrderedDict()


def fetch_rows(ws: WorkspaceLike, pmap: ProcessMap, *, sources: bool = False) -> Rows:
    """The :class:`Rows` of ``ws``'s whole timeline on ``pmap`` (fetched once per timeline, then cached).

    ``sources=True`` also fetches each row's referral source (a join on the referral stays' attributes,
    needed only by the ``referral_source`` filter); :meth:`Rows.subset` asks for it when it needs it.
    """
    last = data_end(ws)
    epoch = data_start(ws).normalize()
    tl = timelines(ws, pmap)
    key = (tl.op(), json.dumps(pmap.station_ids), epoch, last)
    rows: Rows = ws.cached("track_rows", key, lambda: _fetch(ws, tl, pmap, epoch, last, sources), size=2,
                           valid=lambda hit: not sources or hit.rs is not None)
    return rows


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Dictionary codes of a text column (-1 = null) and its labels."""
    enc = column.combine_chunks().dictionary_encode() if column.num_chunks else pa.array([], pa.string()).dictionary_encode()
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")
    return codes, [str(v) for v in enc.dictionary.to_pylist()]


def _fetch(ws: WorkspaceLike, tl: ibis.Table, pmap: ProcessMap, epoch: pd.Timestamp, last: pd.Timestamp,
           sources: bool) -> Rows:
    from cscflow.journeys.flow.common import days_between

    e0 = ibis.literal(epoch.to_pydatetime(), type="timestamp")
    e1 = ibis.literal(pd.Timestamp(last).to_pydatetime(), type="timestamp")
    unix = ibis.literal(pd.Timestamp("1970-01-01").to_pydatetime(), type="timestamp")
    t = tl
    if sources:
        rs = referral_sources(ws)
        t = t.left_join(rs, [t.child_id == rs.rs_child, t.need_id == rs.rs_need])
    t = t.mutate(ci=ibis.dense_rank().over(ibis.window(order_by=t.child_id)))
    rows = t.select(
        "ci", "seq", "team", *(["referral_source"] if sources else []),
        st=t.station.substitute({sid: i for i, sid in enumerate(pmap.station_ids)}, else_=OUTSIDE).cast("int64"),
        start=days_between(t.start, e0),
        end=days_between(t.end.fill_null(e1), e0),
        is_open=t.end.isnull(),
        is_exit=t.kind == "exit",
        repeat=t.repeat,
        mon=(t.start.year() * 12 + t.start.month()).cast("int64"),
        sday=t.start.truncate("D").delta(unix, unit="day").cast("int64"),
        eday=t.end.truncate("D").delta(unix, unit="day").cast("int64").fill_null(OPEN_DAY),
    ).order_by(["ci", "seq"])
    ids = tl.select("child_id").distinct()
    ch = ws.table("children")
    ch = ch.group_by(c_id=ch.child_id).aggregate(sex=ch.sex.max(), eth=ch.ethnicity.max(), birth=ch.birth_month.max(),
                                                 dis=ch.disability.max(), uasc=ch.uasc.max(), la=ch.la.max())
    k = ids.left_join(ch, ids.child_id == ch.c_id)
    yes_no = {True: 1, False: 0}
    kids = k.select(
        "child_id", "eth", "la", sex=k.sex.fill_null("U"),
        bmon=(k.birth.year() * 12 + k.birth.month()).cast("int64").fill_null(-1),
        dis=k.dis.substitute(yes_no, else_=2).fill_null(2),
        uasc=k.uasc.substitute(yes_no, else_=2).fill_null(2),
    ).order_by("child_id")
    r = ws.to_pyarrow(rows)
    kd = ws.to_pyarrow(kids)
    team, teams = _codes(r.column("team"))
    rsc, labels = _codes(r.column("referral_source")) if sources else (None, None)

    def col(table: pa.Table, name: str, dtype: str) -> np.ndarray:
        return table.column(name).to_numpy().astype(dtype) if table.num_rows else np.zeros(0, dtype=dtype)

    sex, sex_labels = _codes(kd.column("sex"))
    eth, eth_labels = _codes(kd.column("eth"))
    la, la_labels = _codes(kd.column("la"))
    return Rows(
        epoch=epoch, last=pd.Timestamp(last),
        ci=col(r, "ci", "int64"), st=col(r, "st", "int64"), start=col(r, "start", "float64"),
        end=col(r, "end", "float64"), is_open=col(r, "is_open", "bool"), is_exit=col(r, "is_exit", "bool"),
        repeat=col(r, "repeat", "int64"), team=team, mon=col(r, "mon", "int64"), rs=rsc,
        sday=col(r, "sday", "int64"), eday=col(r, "eday", "int64"), teams=teams, sources=labels,
        child_ids=np.asarray(kd.column("child_id").to_pylist(), dtype=object).astype(str),
        sex_labels=sex_labels, ethnicity_labels=eth_labels, sex=sex, ethnicity=eth, bmon=col(kd, "bmon", "int64"),
        disability=col(kd, "dis", "int64"), uasc=col(kd, "uasc", "int64"), la=la, la_labels=la_labels,
    )
