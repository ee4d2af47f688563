"""Where the data start, for measures that look back in time (re-referrals within 12 or 36 months,
second or subsequent CP plans, previous referrals).

A referral is only visible from the date its source starts holding every referral. Before that
date a source holds only the stays that lasted (episodes of need still open at the cut): a thin,
length-biased tail. So the *data start* of a stage is not its earliest date but the start of its
sources' windows (:mod:`cscflow.journeys.windows`, the one definition the survival analyses read
too): an Annex A list from its earliest contact, referral or assessment, SSDA903 returns from 1
April of their first year, an event log or CIN census from the first month from which its monthly
count of stays reaches 60% of its level in the source's fullest year (the highest median month of any 12 running months), three months in a row (a
source with fewer than 30 stays in a typical month starts at its first month); see
:func:`source_starts`. The stage's data start is the earliest over its sources
(:func:`visible_from`); an explicit ``data_start`` (argument, or the workspace setting
``data_start``) overrides the estimate.

A measure whose look-back window (``start - months``) reaches before the data start is
*incomplete*: it can only be too low (:func:`lookback_complete`).

>>> lookback_complete(pd.Series(pd.to_datetime(["2015-03-31", "2015-04-01"])), 12,
...                   pd.Timestamp("2014-04-01")).tolist()
[False, True]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from cscflow.errors import AnalysisError
from cscflow.journeys.windows import LEVEL, MIN_TYPICAL, source_windows

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike


def source_starts(ws: WorkspaceLike, stage: str | None = None) -> pd.DataFrame:
    """Per source (of the sources holding ``stage``, or all): source, first (earliest start of any
    stay), start (where its reliable data start: its window's start,
    :func:`cscflow.journeys.windows.source_windows`, a source's window does not depend on the
    stage), last (latest start), stays."""
    return source_windows(ws, stage)[["source", "first", "start", "last", "stays"]]


def visible_from(ws: WorkspaceLike, stage: str = "referral", data_start: Any = None) -> pd.Timestamp:
    """The data start of ``stage``: ``data_start`` when given, else the workspace setting
    ``data_start`` (a date, or a mapping stage -> date), else the earliest full-coverage start
    of the sources holding the stage."""
    given = data_start if data_start is not None else ws.settings.get("data_start")
    if isinstance(given, dict):
        given = given.get(stage)
    if given is not None:
        try:
            return pd.Timestamp(given)
        except (TypeError, ValueError) as exc:
            raise AnalysisError(f"data start {given!r} is not a date", hint="give it as YYYY-MM-DD") from exc
    starts = source_starts(ws, stage)
    if starts.empty:
        raise AnalysisError(f"no {stage} stays in workspace {ws.path}", hint="load data that hold them first")
    return pd.Timestamp(starts["start"].min())


def lookback_complete(starts: pd.Series, months: int | None, since: pd.Timestamp,
                      birth: pd.Series | None = None) -> pd.Series:
    """True where the window ``[start - months, start)`` lies inside the data (begins on or after
    ``since``). ``months=None`` is a look-back over the child's whole life: complete only for
    children born on or after ``since`` (``birth``; unknown birth: incomplete)."""
    starts = pd.to_datetime(starts)
    if months is None:
        if birth is None:
            return pd.Series(False, index=starts.index)
        return (pd.to_datetime(birth) >= since).fillna(False).astype(bool)
    back = starts.dt.normalize() - pd.DateOffset(months=months)
    return (back >= since).astype(bool)


def year_complete(fy_start: int, months: int | None, since: pd.Timestamp) -> bool:
    """Whether every start in the financial year beginning 1 April ``fy_start`` has a complete
    ``months`` look-back (whole-life look-backs, ``None``, are never complete by year)."""
    if months is None:
        return False
    return bool(pd.Timestamp(fy_start, 4, 1) - pd.DateOffset(months=months) >= since)


def method_note(stage: str, since: pd.Timestamp, what: str = "") -> str:
    """One sentence naming the data start behind a look-back measure."""
    lead = f"{what}: " if what else ""
    return (f"{lead}{stage} stays are taken to be held in full from {since.date()} (the data start); "
            "rows whose look-back reaches before it are marked incomplete (complete = False) and left "
            "out of totals and trends, since earlier stays cannot be seen and the rate is too low.")


__all__ = ["LEVEL", "MIN_TYPICAL", "lookback_complete", "method_note", "source_starts", "visible_from", "year_complete"]
