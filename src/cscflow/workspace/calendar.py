"""England working days: bank holidays from the maintained ``holidays`` package.

Working days between two dates count the working days after the first date up
to and including the second: from Monday to Tuesday is 1, from Friday to the
next Monday is 1, from a Saturday to the Monday after is 1. Statutory timescales
("ICPC within 15 working days of the strategy discussion") are read this way.

Two forms: :func:`working_days` (numpy, vectorised) and :func:`calendar_frame` /
:func:`with_working_days` (a calendar table joined inside any Ibis engine).
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache

import holidays as _holidays
import ibis
import numpy as np
import pandas as pd

#: The span the calendar table covers by default.
FIRST_YEAR, LAST_YEAR = 1990, 2040


@lru_cache(maxsize=8)
def bank_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> tuple[_dt.date, ...]:
    """England and Wales bank holidays (substitute days included), sorted.

    >>> _dt.date(2022, 9, 19) in bank_holidays(2022, 2022)  # State funeral of Queen Elizabeth II
    True
    """
    days = _holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return tuple(sorted(days))


def _as_day(values: object) -> np.ndarray:
    return pd.to_datetime(pd.Series(np.atleast_1d(values))).to_numpy(dtype="datetime64[D]")


def working_days(start: object, end: object) -> np.ndarray:
    """Working days from ``start`` to ``end`` (arrays or scalars of dates), vectorised.

    Negative when ``end`` is before ``start``.

    >>> working_days(["2024-12-24"], ["2024-12-27"]).tolist()  # Christmas and Boxing Day skipped
    [1]
    """
    s, e = _as_day(start), _as_day(end)
    hol = np.array(bank_holidays(), dtype="datetime64[D]")
    one = np.timedelta64(1, "D")
    return np.busday_count(s + one, e + one, holidays=hol)


def add_working_days(start: object, n: int) -> np.ndarray:
    """The date ``n`` (>= 1) working days after ``start`` (e.g. a 15-working-day deadline).

    >>> str(add_working_days("2024-12-24", 1)[0])
    '2024-12-27'
    """
    hol = np.array(bank_holidays(), dtype="datetime64[D]")
    # Rolling a non-working start back to the working day before keeps the convention
    # of working_days(): one working day after a Saturday is the Monday.
    return np.busday_offset(_as_day(start), n, roll="backward", holidays=hol)


def calendar_frame(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> pd.DataFrame:
    """One row per day: ``date``, ``is_working_day`` and ``wd_index``.

    ``wd_index`` counts working days up to and including ``date``, so working
    days from a to b are ``wd_index[b] - wd_index[a]``.
    """
    days = pd.date_range(f"{first_year}-01-01", f"{last_year}-12-31", freq="D")
    hol = pd.DatetimeIndex(pd.to_datetime(list(bank_holidays(first_year, last_year))))
    working = (days.dayofweek < 5) & ~days.isin(hol)
    return pd.DataFrame(
        {"date": days.date, "is_working_day": working, "wd_index": np.cumsum(working).astype("int64")}
    )


def with_working_days(
    table: ibis.Table, calendar: ibis.Table, start: str, end: str, name: str = "working_days"
) -> ibis.Table:
    """Add a column of working days from column ``start`` to column ``end``, computed in the engine.

    ``calendar`` is the workspace's calendar table (``Workspace.calendar()``).
    Rows whose ``end`` is null get null.
    """
    a = calendar.select(_wd_a_date=calendar.date, _wd_a=calendar.wd_index)
    b = calendar.select(_wd_b_date=calendar.date, _wd_b=calendar.wd_index)
    t = table.left_join(a, table[start].cast("date") == a._wd_a_date)
    t = t.left_join(b, t[end].cast("date") == b._wd_b_date)
    t = t.mutate(**{name: t._wd_b - t._wd_a})
    return t.drop("_wd_a_date", "_wd_a", "_wd_b_date", "_wd_b")
