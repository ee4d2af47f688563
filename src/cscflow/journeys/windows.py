"""Each source's data window: the one place that says where a source's reliable data start and end.

Both the survival analyses (late entry at the window start, :mod:`cscflow.analytics.windows`) and
the look-back measures (the data start, :mod:`cscflow.journeys.lookback`) read it. A source's
window **starts** on the first day from which it holds every stay that began or was open (before
it, a source holds only the stays that lasted: a thin, length-biased tail) and **ends** on its
last date. By the source's format (``_sources.format``):

- SSDA903 (``903``): 1 April of the first collection year loaded to 31 March of the last (a return
  holds every episode open in its year; every 903 file shares one window, since the reader merges
  an episode reported in two years into one row of either file);
- Annex A (``annex-a``): from its earliest contact, referral or assessment (Lists 1, 3 and 4 hold
  what began in the period the inspection asked for) to its latest date;
- a CIN census (``cin``): 1 April to 31 March of its collection year (the year ending 31 March that holds
  its latest date; a census holds every child in need at any point of its year), so several censuses
  give several windows, the earliest opening first;
- an event log or any other source: the first month that opens three months in a row
  each holding at least :data:`LEVEL` of a typical month of the source's fullest year (its stays of
  every stage counted by month of start), to its latest date; a source with fewer than
  :data:`MIN_TYPICAL` stays in a typical month is too thin to tell a tail from chance and starts on
  the 1st of its first month.

>>> import tempfile
>>> from cscflow import Workspace
>>> source_windows(Workspace(tempfile.mkdtemp(), la="886")).empty
True
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

#: a month opens a source's full coverage when it and the next two months each hold at least this
#: share of a typical month of the source's fullest year (a demand trend of 4% a year leaves a month
#: seven years back at 0.76 of it)
LEVEL = 0.6
#: below this many stays in a typical month the first month is taken (a month of a Poisson count
#: of 30 falls under 60% of it about once in a hundred)
MIN_TYPICAL = 30
COLUMNS = ["source", "format", "first", "start", "end", "last", "stays", "basis"]
_BEGUN_IN_PERIOD = ("contact", "referral", "assessment")
_NAMES = {"903": "SSDA903 returns", "annex-a": "Annex A", "events": "event log", "cin": "CIN census"}


def coverage_start(months: pd.Series) -> pd.Timestamp:
    """The first month (index: month starts, values: counts, gaps filled with 0) that opens three
    months in a row each holding at least ``LEVEL`` of a typical month of the source's fullest year
    (the highest median month over any 12 running months: not simply its latest year, which is thin
    where a source loaded before it already holds its recent stays); the first month when the source
    is too thin to tell.

    >>> m = pd.Series([1, 0, 2, 50, 55, 60] + [60] * 12, index=pd.date_range("2011-01-01", periods=18, freq="MS"))
    >>> coverage_start(m).date()
    datetime.date(2011, 4, 1)
    """
    typical = float(months.rolling(12, min_periods=min(12, len(months))).median().max())
    if typical < MIN_TYPICAL:  # too few stays a month to tell a thin tail from chance: the first month
        return pd.Timestamp(months.index[0])
    ok = (months >= LEVEL * typical).astype(float)
    run = ok[::-1].rolling(3, min_periods=1).min()[::-1]
    return pd.Timestamp(months.index[int(np.argmax(run.to_numpy() > 0))])


def _monthly(ws: WorkspaceLike) -> dict[Any, pd.Series]:
    ep = ws.table("episodes")
    df = ws.execute(ep.group_by([ep.source, ep.start.truncate("M").name("month")]).aggregate(n=ep.count()))
    out = {}
    for src, g in df.groupby("source", dropna=False):
        counts = g.set_index(pd.to_datetime(g["month"]))["n"].sort_index()
        out[None if pd.isna(src) else src] = counts.reindex(pd.date_range(counts.index.min(), counts.index.max(), freq="MS"), fill_value=0)
    return out


def source_windows(ws: WorkspaceLike, stage: str | None = None) -> pd.DataFrame:
    """One row per source of ``episodes`` (of the sources holding ``stage``, or all): ``source``,
    ``format``, ``first`` (earliest start of any stay), window ``start`` and ``end`` (Timestamps,
    inclusive; see the module's docstring), ``last`` (latest start), ``stays`` and ``basis`` (how the
    window was found, in words). A source's window does not depend on the stage. Remembered on the workspace
    until its next write (the observation window, the look-backs and each table's header ask for it), and kept
    in the workspace file for later processes (:mod:`cscflow.journeys.stored_facts`)."""
    from cscflow.journeys.stored_facts import remembered

    df = ws.cached("source-windows", None, lambda: remembered(ws, "source-windows", lambda: _source_windows(ws),
                                                              _dump, _load), size=1)
    if stage is not None:
        df = df[df["stages"].map(lambda held: stage in held.split("|"))]
    return df[COLUMNS].reset_index(drop=True)


_TIMES = ("first", "start", "end", "last")


def _dump(df: pd.DataFrame) -> str:
    out = df.astype(object).where(df.notna(), None)
    for c in _TIMES:
        out[c] = [None if v is None else pd.Timestamp(v).isoformat() for v in out[c]]
    return json.dumps({"columns": list(out.columns), "rows": out.to_numpy().tolist()})


def _load(text: str) -> pd.DataFrame:
    got = json.loads(text)
    df = pd.DataFrame(got["rows"], columns=got["columns"])
    return df.astype({"stays": "int64", **{c: "datetime64[us]" for c in _TIMES}})


def _source_windows(ws: WorkspaceLike) -> pd.DataFrame:
    """Every source's window (the columns of :data:`COLUMNS` and ``stages``, the stages it holds joined by |)."""
    ep = ws.table("episodes")
    q = ep.group_by(["source", "stage"]).aggregate(first=ep.start.min(), last_start=ep.start.max(),
                                                   last_end=ep.end.max(), stays=ep.count())
    if ws.has_table("_sources"):
        src = ws.table("_sources").select("source", "format")
        q = q.left_join(src, "source").select(*q.columns, "format")
        la = ep.filter((ep.stage == "looked_after") & ep.source.isin(src.filter(src.format == "903").source))
        year = la.attrs.cast("json")["return_year"].unwrap_as("int64")
        years = la.group_by("source").aggregate(year_lo=year.min(), year_hi=year.max())
        q = q.left_join(years, "source").select(*q.columns, "year_lo", "year_hi")
    else:
        q = q.mutate(format=ibis.null("string"), year_lo=ibis.null("int64"), year_hi=ibis.null("int64"))
    by_stage = ws.execute(q)
    if by_stage.empty:
        return pd.DataFrame(columns=[*COLUMNS, "stages"])
    for c in ("first", "last_start", "last_end"):
        by_stage[c] = pd.to_datetime(by_stage[c])
    by_stage["begun"] = by_stage["first"].where(by_stage["stage"].isin(_BEGUN_IN_PERIOD))
    g = by_stage.groupby("source", sort=True, dropna=False)
    df = g.agg(first=("first", "min"), last_start=("last_start", "max"), last_end=("last_end", "max"),
               stays=("stays", "sum"), begun=("begun", "min"), format=("format", "first"),
               year_lo=("year_lo", "min"), year_hi=("year_hi", "max")).reset_index()
    df["stages"] = g["stage"].agg(lambda s: "|".join(sorted(s.dropna()))).to_numpy()
    df["source"] = df["source"].astype(object).where(df["source"].notna(), None)  # a source not named
    df["format"] = df["format"].fillna("events")
    df["end"] = df[["last_start", "last_end"]].max(axis=1)
    df["last"] = df["last_start"]
    df["basis"] = "first month to last date of the " + df["format"].map(_NAMES).fillna(df["format"])
    df["start"] = df["first"].dt.to_period("M").dt.to_timestamp()
    by_count = ~df["format"].isin(["903", "annex-a", "cin"])
    if by_count.any():
        months = _monthly(ws)
        for i in df.index[by_count]:
            full = coverage_start(months[df.at[i, "source"]])
            df.at[i, "start"] = full
            if full > df.at[i, "first"].to_period("M").to_timestamp():
                df.at[i, "basis"] = (f"{_NAMES.get(df.at[i, 'format'], df.at[i, 'format'])}, from its first month "
                                     "of full coverage (earlier stays are the tail of those that lasted)")
    annex = (df["format"] == "annex-a") & df["begun"].notna()
    df.loc[annex, "start"] = df.loc[annex, "begun"]
    df.loc[annex, "basis"] = "Annex A, from its earliest contact, referral or assessment"
    cin = df["format"] == "cin"
    if cin.any():
        year = df.loc[cin, "end"].dt.year + (df.loc[cin, "end"].dt.month >= 4).astype(int)
        df.loc[cin, "start"] = [pd.Timestamp(y - 1, 4, 1) for y in year]
        df.loc[cin, "end"] = [max(e, pd.Timestamp(y, 3, 31)) for e, y in zip(df.loc[cin, "end"], year, strict=True)]
        df.loc[cin, "basis"] = [f"CIN census {y - 1}-{str(y)[2:]}" for y in year]
    r903 = df["format"] == "903"
    if df.loc[r903, "year_lo"].notna().any():
        lo, hi = int(df.loc[r903, "year_lo"].min()), int(df.loc[r903, "year_hi"].max())
        years = {int(y) for y in pd.concat([df.loc[r903, "year_lo"], df.loc[r903, "year_hi"]]).dropna()}
        span = f"{lo - 1}-{str(lo)[2:]}" if lo == hi else f"{lo - 1}-{str(lo)[2:]} to {hi - 1}-{str(hi)[2:]}"
        df.loc[r903, "start"] = pd.Timestamp(lo - 1, 4, 1)
        df.loc[r903, "end"] = pd.Timestamp(hi, 3, 31)
        df.loc[r903, "basis"] = f"SSDA903 returns {span}"
        missing = sorted(set(range(lo, hi + 1)) - set(years))
        if missing:  # a year not loaded: stays begun and ended within it are not seen
            df.loc[r903, "basis"] += " (" + ", ".join(f"{y - 1}-{str(y)[2:]}" for y in missing) + " not loaded)"
    df = df.astype({"stays": "int64", **{c: "datetime64[us]" for c in _TIMES}})
    return df[[*COLUMNS, "stages"]].sort_values("source").reset_index(drop=True)


#: Sources holding less than this share of the stays do not open the observation window (a census of a few
#: thousand stays whose coverage cannot be told from chance would otherwise open it decades early).
WINDOW_SHARE = 0.1


def observation_window(ws: WorkspaceLike) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """(first, last) day of the data's observation window, None without stays: from the earliest window start
    (:func:`source_windows`) of the SSDA903 returns and of the sources that hold at least :data:`WINDOW_SHARE` of
    the stays, to the latest end of any.

    The one rule for where the data's reliable period begins: the map opens there, and the flow tables, the
    report and the Analytics page count from there unless given an earlier ``--from`` (before it, the sources
    hold only the stays that lasted, so counts are incomplete)."""
    windows = source_windows(ws)
    if windows.empty:
        return None
    stays = windows["stays"].to_numpy()
    keep = (stays >= WINDOW_SHARE * max(stays.sum(), 1)) | (windows["format"] == "903").to_numpy()
    starts = windows["start"][keep] if keep.any() else windows["start"]
    return pd.Timestamp(starts.min()).normalize(), pd.Timestamp(windows["end"].max()).normalize()


def data_window(ws: WorkspaceLike) -> tuple[tuple[pd.Timestamp, pd.Timestamp] | None, pd.Timestamp | None]:
    """((first, last) day of any stay, first day of the :func:`observation_window`), or (None, None) when the
    workspace holds no stays: what every flow table's header says of its data (the CLI, the web app and the
    report ask here; remembered on the workspace until its next write)."""
    from cscflow.errors import CscflowError
    from cscflow.journeys.timeline import data_end, data_start

    def compute() -> tuple[tuple[pd.Timestamp, pd.Timestamp] | None, pd.Timestamp | None]:
        try:
            span = (data_start(ws), data_end(ws))
        except CscflowError:
            return None, None
        window = observation_window(ws)
        return span, (window[0] if window else None)

    return ws.cached("data-window", None, compute, size=1)


__all__ = ["COLUMNS", "LEVEL", "MIN_TYPICAL", "WINDOW_SHARE", "coverage_start", "data_window", "observation_window",
           "source_windows"]
