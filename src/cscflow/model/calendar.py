"""The England working-day calendar: the one rule for synth, sources, journeys and analytics.

Bank holidays come from the maintained ``holidays`` package (England, substitute days included).
The start date is day 0, whatever day of the week it is; each working day after it counts one,
up to and including the end date. So from Monday to Tuesday is 1, from Friday to the next Monday
is 1, and from a Saturday (or a bank holiday) to the next working day is 1, as the DfE counts
"within 45 working days of the referral start date" in the CIN census.
:func:`add_working_days` is its inverse: ``working_days(d, add_working_days(d, n)) == n`` for
every day ``d`` (a weekend or bank-holiday start rolls back to the working day before, so the
Monday after a Saturday is one working day on).

Pure numpy and pandas (no engine): :mod:`cscflow.workspace.calendar` joins :func:`calendar_frame`
inside an Ibis engine.

>>> int(working_days("2024-02-03", "2024-02-05")[0]), str(add_working_days("2024-02-03", 1)[0])
(1, '2024-02-05')
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache

import numpy as np
import pandas as pd

#: The span the calendar covers by default.
FIRST_YEAR, LAST_YEAR = 1990, 2040


@lru_cache(maxsize=8)
def bank_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> tuple[_dt.date, ...]:
    """England and Wales bank holidays (substitute days included), sorted.

    >>> _dt.date(2022, 9, 19) in bank_holidays(2022, 2022)  # State funeral of Queen Elizabeth II
    True
    """
    import holidays as _holidays

    days = _holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return tuple(sorted(days))


@lru_cache(maxsize=1)
def _holiday_days() -> np.ndarray:
    return np.array(bank_holidays(), dtype="datetime64[D]")


def _as_day(values: object) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values))
    if arr.dtype.kind in "iu":  # day numbers since 1970-01-01 (the simulation's dates)
        return arr.astype("datetime64[D]")
    days: np.ndarray = pd.to_datetime(pd.Series(arr)).to_numpy(dtype="datetime64[D]")
    return days


def is_working_day(days: object) -> np.ndarray:
    """True for the days (dates, or day numbers since 1970-01-01) that are neither weekend nor bank holiday.

    >>> is_working_day(["2024-12-24", "2024-12-25", "2024-12-28"]).tolist()
    [True, False, False]
    """
    return np.is_busday(_as_day(days), holidays=_holiday_days())


def working_days(start: object, end: object) -> np.ndarray:
    """Working days from ``start`` to ``end`` (arrays or scalars of dates or day numbers), vectorised.

    Negative when ``end`` is before ``start``.

    >>> working_days(["2024-12-24"], ["2024-12-27"]).tolist()  # Christmas and Boxing Day skipped
    [1]
    """
    s, e = _as_day(start), _as_day(end)
    one = np.timedelta64(1, "D")
    return np.busday_count(s + one, e + one, holidays=_holiday_days())


def add_working_days(start: object, n: int | np.ndarray) -> np.ndarray:
    """The day ``n`` (>= 1) working days after ``start`` (e.g. a 15-working-day deadline), as
    ``datetime64[D]``; day numbers in give day numbers (int64) out.

    >>> str(add_working_days("2024-12-24", 1)[0])
    '2024-12-27'
    >>> add_working_days(np.array([19756]), 1).tolist()  # Saturday 3 Feb 2024 -> Monday 5 Feb
    [19758]
    """
    raw = np.atleast_1d(np.asarray(start))
    out = np.busday_offset(_as_day(start), n, roll="backward", holidays=_holiday_days())
    return out.astype(np.int64) if raw.dtype.kind in "iu" else out


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


__all__ = ["add_working_days", "bank_holidays", "calendar_frame", "is_working_day", "working_days"]
