"""Each source's reporting window, for the survival analyses' late entry.

A period of care that began before a source's window is in the data only because it was still
open when the window opened (length bias); :mod:`cscflow.analytics.ready` enters such periods
late, at the window start. The window of a source (where its reliable data start and end) is
:func:`cscflow.journeys.windows.source_windows`'s, the one the look-back measures' data start
is read from too: SSDA903 returns from 1 April of the first collection year loaded, Annex A from
its earliest contact, referral or assessment, an event log or any other source from its first
month of full coverage.

>>> import tempfile
>>> from cscflow import Workspace
>>> source_windows(Workspace(tempfile.mkdtemp(), la="886")).empty
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cscflow.journeys import windows as _windows

DAY = np.timedelta64(1, "D")
COLUMNS = ["source", "format", "start", "end", "basis"]


def source_windows(ws: Any) -> pd.DataFrame:
    """One row per source of ``episodes``: ``source``, ``format``, window ``start`` and ``end``
    (Timestamps, inclusive) and ``basis`` (how the window was found, in words), from
    :func:`cscflow.journeys.windows.source_windows`."""
    return _windows.source_windows(ws)[COLUMNS]


def describe(windows: pd.DataFrame) -> str:
    """The windows in words, one clause per distinct window: "2014-04-01 (start of the SSDA903
    returns 2014-15 to 2017-18)"."""
    if windows.empty:
        return "no source windows"
    seen = windows.drop_duplicates(["start", "basis"]).sort_values("start")
    return "; ".join(f"{s:%Y-%m-%d} (start of the {b})" if not (b.startswith("first") or "full coverage" in b) else
                     f"{s:%Y-%m-%d} ({b})" for s, b in zip(seen["start"], seen["basis"], strict=True))


def window_of(ws: Any, windows: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`source_windows` (or ``windows``, if already read) as a small table to join on
    ``source``: ``window_start``, ``window_end``."""
    w = source_windows(ws) if windows is None else windows
    return w[["source", "start", "end"]].rename(columns={"start": "window_start", "end": "window_end"})


__all__ = ["Observed", "describe", "observe", "source_windows", "window_of"]


@dataclass
class Observed:
    """What the survival fitters are given for a set of periods (or any stays with a start and end):
    the periods kept, days from start to leaving or censoring, whether they left, late entry (days
    from start to the window start, minus one: at risk from the window start inclusive; None when
    no period entered late) and counts for the method sentence."""

    periods: pd.DataFrame
    duration: np.ndarray
    event: np.ndarray
    entry: np.ndarray | None
    late: int
    unknown_origin: int
    censor: pd.Timestamp
    windows: str
    truncated: bool = True
    source_end: bool = False

    def clause(self) -> str:
        """Truncation and censoring in words, for a fitter's ``method_``."""
        parts = []
        if not self.truncated:
            parts.append("no late entry: periods begun before the data are timed from their first row in it, "
                         "which overstates time in care (length bias)")
        elif self.late:
            one = self.late == 1
            parts.append(f"{self.late:,} period{'' if one else 's'} of care begun before {self.windows} entered "
                         "the risk set late, at that date, timed from the true start")
        else:
            parts.append(f"no period began before the data ({self.windows}), so none entered late")
        if self.unknown_origin:
            one = self.unknown_origin == 1
            parts.append(f"{self.unknown_origin:,} period{'' if one else 's'} first seen part-way through (the "
                         "first episode in the data is not the start of a period, SSDA903 RNE other than S) "
                         f"{'is' if one else 'are'} left out, as the start is not known")
        parts.append(f"censored at {self.censor:%Y-%m-%d}" + (" (or at the end of the period's source, if earlier)"
                                                               if self.source_end else ""))
        return "; ".join(parts)


def observe(per: pd.DataFrame, as_of: pd.Timestamp, window_start: Any = None, truncate: bool = True,
            windows: pd.DataFrame | None = None, source_end: bool = True) -> Observed:
    """Survival inputs from :func:`cscflow.analytics.ready.periods_of_care` rows, seen as at ``as_of``.

    Periods begun after ``as_of`` are dropped and leaving after it is censored; with
    ``source_end`` (when no as-of date was given) each period is censored at the end of its
    source's window if that comes first. With ``truncate`` (the default) a period begun
    before its window start (``window_start`` column, or ``window_start`` given for all) enters
    late at that date, and one whose start is unknown (``origin_known`` False) is left out;
    ``truncate=False`` dates every period from its first row and enters none late (the old,
    length-biased default, kept for comparison)."""
    as_of = pd.Timestamp(as_of)
    per = per[per["start"] <= as_of]
    if not truncate:
        win = pd.Series(pd.NaT, index=per.index, dtype="datetime64[ns]")
    elif window_start is not None:
        win = pd.Series(pd.Timestamp(window_start), index=per.index)
    else:
        win = per["window_start"] if "window_start" in per else pd.Series(pd.NaT, index=per.index)
    unknown = np.zeros(len(per), dtype=bool)
    if truncate and "origin_known" in per.columns:
        unknown = ~per["origin_known"].fillna(True).to_numpy(bool) & (per["start"] <= win.fillna(per["start"])).to_numpy()
    wend = per["window_end"] if "window_end" in per else pd.Series(pd.NaT, index=per.index)
    censor = wend.where(wend.notna() & (wend < as_of) & source_end, as_of)
    left = per["end"].notna() & (per["end"] <= censor)
    end = per["end"].where(left, censor)
    begin = per["start"].where(win.isna() | (per["start"] >= win), win)
    keep = ~unknown & (end >= begin).to_numpy()
    per, end, begin, left = per[keep], end[keep], begin[keep], left[keep]
    dur = ((end - per["start"]) / DAY).to_numpy(float)
    entry = ((begin - per["start"]) / DAY).to_numpy(float) - 1.0
    late = int((entry >= 0).sum())
    used = windows if windows is not None else pd.DataFrame(columns=COLUMNS)
    if window_start is not None and truncate:
        text = f"{pd.Timestamp(window_start):%Y-%m-%d} (the window start given)"
    else:
        starts = per["window_start"].dropna().unique() if "window_start" in per else []
        text = describe(used[used["start"].isin(starts)]) if len(used) and len(starts) else "the data"
    return Observed(per, dur, left.to_numpy(bool), entry if late else None, late, int(unknown.sum()), as_of, text,
                    truncate, source_end and bool((censor < as_of).any()))
