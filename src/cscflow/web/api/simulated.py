"""``/api/tracks/simulated``: the map's forecast period, one run of the fitted model drawn as dots.

GET /api/tracks/simulated?convention=&horizon=&run=&source=&target=&change=&arrivals=
    the tracks blob of docs/contracts.md (the same encoder as ``/api/tracks``:
    :func:`cscflow.journeys.tracks.tracks_of_rows`), its header also holding ``simulated: true``,
    ``origin`` (ISO date), ``origin_day`` (days since ``epoch``, the real tracks' epoch), ``run``,
    ``replicate``, ``horizon``, ``what_if``, ``note`` (what the map's banner says), ``n_open`` and
    ``at_origin`` (simulated children at each station at the origin: the real caseload open then), and
    ``counts`` (``first_day`` since ``epoch``, then per station of ``stations`` the children ``here`` and
    ``week`` (arrived in the 7 days to the day: in its first week also the real children who arrived before the
    origin) on each day of the forecast period).

The model is the Forecast page's (fitted once per workspace generation, :func:`cscflow.web.api.forecast._prepared`);
``run`` is the seed of one simulation (:func:`cscflow.forecast.simulated_stays.simulate_stays`) from the children
open at the origin, with the page's what-if parameters. Simulated children are numbered apart from real ones
(ids ``sim-N``; the blob holds child indices only) and carry no characteristics, so cohort filters are refused.
Every count in the header goes through disclosure control (1 to 4 as ``<5``). The answer is cached (the app's
cache, and the answer cache of ``/api/tracks...``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request, Response

from cscflow.web.api import bad, cohort, state
from cscflow.web.api.forecast import _NAME, HORIZON_MAX, _prepared, _what_if

if TYPE_CHECKING:
    from cscflow.journeys.maps import ProcessMap
    from cscflow.journeys.track_rows import Rows
    from cscflow.web.app import WebState

router = APIRouter(prefix="/api", tags=["tracks"])
#: runs a user can step through ("another run"): the seeds 1..RUNS
RUNS = 20
BINARY = "application/octet-stream"


def sim_rows(stays: pd.DataFrame, pmap: ProcessMap, epoch: pd.Timestamp) -> tuple[Rows, np.ndarray]:
    """Timeline :class:`Rows` of simulated stays (:func:`~cscflow.forecast.simulated_stays.simulate_stays`) on the
    real tracks' ``epoch``: stays begun before the origin start at it, a move to an exit adds the exit's row (as
    the engine's timelines do), a stay open at the horizon stays open; children ``sim-N`` of unknown characteristics.
    Also each row's start in days after the origin before that cut (negative: open at the origin)."""
    from cscflow.journeys.track_rows import OPEN_DAY, Rows

    origin = pd.Timestamp(stays.attrs["origin"])
    off = float((origin.normalize() - epoch).days)
    index = {s: i for i, s in enumerate(pmap.station_ids)}
    exits = {s["id"] for s in pmap.stations if s.get("zone") == "exit"}
    n = len(stays)
    nxt = stays["next"].to_numpy(dtype=object)
    to_exit = np.asarray([x in exits for x in nxt], dtype=bool)
    n_x = int(to_exit.sum())
    seq = np.r_[np.arange(n) * 2, np.flatnonzero(to_exit) * 2 + 1]  # an exit's row right after its stay
    order = np.argsort(seq, kind="stable")
    child = np.r_[stays["child"].to_numpy(), stays["child"].to_numpy()[to_exit]][order].astype(np.int64)
    st = np.r_[[index[s] for s in stays["station"]], [index[x] for x in nxt[to_exit]]][order].astype(np.int64)
    raw = np.r_[stays["start"].to_numpy(), stays["end"].to_numpy()[to_exit]][order]
    end = np.r_[stays["end"].to_numpy(), stays["end"].to_numpy()[to_exit]][order] + off
    start = np.maximum(raw, 0.0) + off
    is_open = np.r_[pd.isna(nxt), np.zeros(n_x, dtype=bool)][order]
    repeat = np.r_[stays["repeat"].to_numpy(), stays["repeat"].to_numpy()[to_exit]][order].astype(np.int64) + 1
    unix = float((epoch - pd.Timestamp("1970-01-01")).days)
    n_kids = int(child.max()) + 1 if len(child) else 0
    last = origin + pd.Timedelta(days=float(stays.attrs["horizon_days"]) - 1)  # the forecast's last day
    rows = Rows(
        epoch=epoch, last=last.normalize(), ci=child, st=st, start=start, end=end, is_open=is_open,
        is_exit=np.r_[np.zeros(n, dtype=bool), np.ones(n_x, dtype=bool)][order], repeat=repeat,
        team=np.full(len(child), -1, dtype=np.int64), mon=np.zeros(len(child), dtype=np.int64), rs=None,
        sday=np.floor(start + unix).astype(np.int64),
        eday=np.where(is_open, OPEN_DAY, np.floor(end + unix)).astype(np.int64), teams=[], sources=None,
        sex_labels=["U"], ethnicity_labels=[], child_ids=np.asarray([f"sim-{i}" for i in range(n_kids)]),
        sex=np.zeros(n_kids, dtype=np.int64), ethnicity=np.full(n_kids, -1, dtype=np.int64),
        bmon=np.full(n_kids, -1, dtype=np.int64), disability=np.full(n_kids, 2, dtype=np.int64),
        uasc=np.full(n_kids, 2, dtype=np.int64), la=np.full(n_kids, -1, dtype=np.int64), la_labels=[],
    )
    return rows, raw


def daily_counts(rows: Rows, raw_start: np.ndarray, first: int, n_days: int, n_stations: int) -> tuple[np.ndarray,
                                                                                                         np.ndarray]:
    """Per station and day ``first + j`` (days since the epoch): stays there that day (the map's rule: begun
    on or before it and open or ending after it, or begun that day) and stays begun in the 7 days to it
    (``raw_start`` > 0: stays open at the origin did not begin then)."""
    s = np.clip(np.floor(rows.start).astype(np.int64) - first, 0, n_days)
    e = np.where(rows.is_open, n_days, np.floor(rows.end).astype(np.int64) - first)
    e = np.clip(np.maximum(e, s + 1), 0, n_days)
    here = np.zeros((n_stations, n_days + 1), dtype=np.int64)
    np.add.at(here, (rows.st, s), 1)
    np.add.at(here, (rows.st, e), -1)
    new = raw_start > 0
    week = np.zeros((n_stations, n_days + 8), dtype=np.int64)
    np.add.at(week, (rows.st[new], s[new]), 1)
    np.add.at(week, (rows.st[new], s[new] + 7), -1)
    return np.cumsum(here, axis=1)[:, :n_days], np.cumsum(week, axis=1)[:, :n_days]


def real_arrivals(real: Rows, origin_unix: int, n_stations: int) -> np.ndarray:
    """Per station and day ``origin + j`` (j = 0..6): the real children with a stay there begun in the 7 days to the
    day and by the origin (the simulated run's week counts miss them: they arrived before it)."""
    out = np.zeros((n_stations, 7), dtype=np.int64)
    recent = (real.sday > origin_unix - 7) & (real.sday <= origin_unix) & (real.st < n_stations)
    st, ci, sday = real.st[recent], real.ci[recent], real.sday[recent]
    k = int(real.ci.max(initial=0)) + 1
    for j in range(7):
        m = sday > origin_unix + j - 7
        out[:, j] = np.bincount(np.unique(st[m] * k + ci[m]) // k, minlength=n_stations)[:n_stations]
    return out


def simulated_blob(st: WebState, convention: str, horizon: int, run: int, source: str, target: str, change: float,
                   arrivals: float) -> bytes:
    """The blob of ``/api/tracks/simulated`` (cached per workspace generation and parameters)."""
    prepared = _prepared(st)
    model = prepared.model
    if model is None:
        raise bad(f"no forecast to play on the map: {prepared.error}")
    wi = _what_if(prepared, source, target, change, arrivals)

    def compute() -> bytes:
        from cscflow.disclosure import suppress_value
        from cscflow.forecast.explore import label
        from cscflow.forecast.simulated_stays import simulate_stays
        from cscflow.journeys.track_rows import fetch_rows
        from cscflow.journeys.tracks import pack_blob, read_blob, tracks_of_rows

        stays = simulate_stays(model, horizon, seed=run, what_if=wi)
        real = fetch_rows(st.ws, st.pmap)
        epoch = real.epoch  # the real tracks' epoch: one time axis for both
        rows, raw = sim_rows(stays, st.pmap, epoch)
        head, arrays = read_blob(tracks_of_rows(rows, st.pmap, convention).to_bytes())
        head.pop("arrays")
        ids = st.pmap.station_ids
        origin = model.origin_.normalize()
        first = int((origin - epoch).days)
        n_days = int(np.ceil(stays.attrs["horizon_days"])) + 1
        here, week = daily_counts(rows, raw, first, n_days, len(ids))
        week[:, :7] += real_arrivals(real, first + int((epoch - pd.Timestamp("1970-01-01")).days), len(ids))[:, :n_days]
        at0 = stays[stays["start"] <= 0].groupby("station")["child"].nunique()
        what = label(wi) if wi is not None else ""

        def shown(a: np.ndarray) -> list[list[Any]]:
            return [[suppress_value(int(v)) for v in r] for r in a]

        head.update(
            simulated=True, origin=str(origin.date()), origin_day=first, run=run, replicate=int(stays.attrs["replicate"]),
            horizon=horizon, what_if=what, n_open=suppress_value(int(stays.attrs["n_open"])),
            at_origin={s: suppress_value(int(at0.get(s, 0))) for s in ids if s in at0.index},
            note=(f"Simulated: forecast from {origin.date():%d %B %Y}, one run of the fitted model, not real children"
                  + (f" (what-if: {what})" if what else "")),
            counts={"first_day": first, "stations": ids, "here": shown(here), "week": shown(week)},
        )
        return pack_blob(head, arrays)

    key = ("simulated-tracks", convention, horizon, run, source, target, change, arrivals)
    blob: bytes = st.cached(key, compute)
    return blob


@router.get("/tracks/simulated")
def simulated_tracks(
    request: Request,
    convention: str = Query("travel", pattern="^(travel|queue)$"),
    horizon: int = Query(12, ge=1, le=HORIZON_MAX),
    run: int = Query(1, ge=1, le=RUNS),
    source: str = Query("", pattern=_NAME),
    target: str = Query("", pattern=_NAME),
    change: float = Query(0.0, ge=-100, le=100),
    arrivals: float = Query(0.0, ge=-50, le=50),
) -> Response:
    """One simulated run of the forecast period as the map's tracks blob (see the module docstring)."""
    if cohort(request, {"convention", "horizon", "run", "source", "target", "change", "arrivals"}):
        raise bad("simulated children have no characteristics: the cohort filters apply to real children only")
    blob = simulated_blob(state(request), convention, horizon, run, source, target, change, arrivals)
    return Response(blob, media_type=BINARY, headers={"cache-control": "no-store"})


__all__ = ["router", "sim_rows"]
