"""Vectorised random draws for the simulation: durations, branches, days with seasonality.

Dates inside the simulation are integer days since 1970-01-01 (numpy ``datetime64[D]`` as int64).

>>> rng = np.random.default_rng(1)
>>> branch(rng.random(5), {"a": 1.0, "b": 0.0}).tolist()
[0, 0, 0, 0, 0]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from dateutil.easter import easter

from cscflow.model.calendar import bank_holidays


def day(d: dt.date) -> int:
    """Days since 1970-01-01 of a date."""
    return int(np.datetime64(d, "D").astype(np.int64))


def birthday(dob: np.ndarray, years: int) -> np.ndarray:
    """Day numbers (since 1970-01-01) of the ``years``-th birthday of children born on days ``dob``, by the
    calendar (29 February -> 28 February in common years, as ``pandas.DateOffset`` and the readers count).

    >>> birthday(np.array([day(dt.date(2004, 2, 29)), day(dt.date(2005, 7, 31))]), 18).astype("datetime64[D]")
    array(['2022-02-28', '2023-07-31'], dtype='datetime64[D]')
    """
    d = np.asarray(dob, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    into = d - month.astype("datetime64[D]")                                   # days into the month
    target = month + np.timedelta64(12 * years, "M")
    length = (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")
    last = length - np.timedelta64(1, "D")
    days: np.ndarray = (target.astype("datetime64[D]") + np.minimum(into, last)).astype(np.int64)
    return days


def lognormal_days(rng: np.random.Generator, n: int, spec: dict[str, Any], z: np.ndarray | None = None) -> np.ndarray:
    """Durations in whole days (>= 0) from ``{median, sigma[, max]}``; ``z`` shares normal draws."""
    if z is None:
        z = rng.standard_normal(n)
    out = float(spec["median"]) * np.exp(float(spec["sigma"]) * z)
    if "max" in spec:
        out = np.minimum(out, float(spec["max"]))
    return np.rint(out).astype(np.int64)


def categorical(rng: np.random.Generator, n: int, probs: dict[str, Any]) -> np.ndarray:
    """Indices into ``list(probs)`` drawn with the given (renormalised) probabilities."""
    p = np.asarray(list(probs.values()), dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def branch(u: np.ndarray, probs: dict[str, Any], factors: np.ndarray | None = None) -> np.ndarray:
    """Outcome index per row from uniforms ``u`` and branch ``probs`` (a dict outcome -> p).

    ``factors`` (rows x outcomes) multiplies each row's probabilities before renormalising, so a
    characteristic or a dated event can shift one outcome.
    """
    p = np.asarray(list(probs.values()), dtype=float)
    if factors is None:
        cum = np.cumsum(p / p.sum())
        return np.minimum(np.searchsorted(cum, u, side="right"), len(p) - 1)
    w = factors * p[None, :]
    cum = np.cumsum(w, axis=1)
    cum /= cum[:, -1:]
    picked: np.ndarray = np.minimum((cum <= u[:, None]).sum(axis=1), len(p) - 1)
    return picked


def school_holidays(years: range) -> np.ndarray:
    """Approximate England school holiday days (int days) for the given calendar years."""
    spans: list[tuple[dt.date, dt.date]] = []
    for y in years:
        e = easter(y)
        oct_last = dt.date(y, 10, 31)
        oct_monday = oct_last - dt.timedelta(days=(oct_last.weekday()) % 7)
        may_last = dt.date(y, 5, 31)
        may_monday = may_last - dt.timedelta(days=may_last.weekday())
        feb_monday = dt.date(y, 2, 15) - dt.timedelta(days=dt.date(y, 2, 15).weekday())
        spans += [
            (dt.date(y, 1, 1), dt.date(y, 1, 3)),
            (feb_monday, feb_monday + dt.timedelta(days=6)),
            (e - dt.timedelta(days=9), e + dt.timedelta(days=6)),
            (may_monday, may_monday + dt.timedelta(days=6)),
            (dt.date(y, 7, 22), dt.date(y, 9, 3)),
            (oct_monday, oct_monday + dt.timedelta(days=6)),
            (dt.date(y, 12, 21), dt.date(y, 12, 31)),
        ]
    days = [np.arange(day(a), day(b) + 1) for a, b in spans]
    return np.unique(np.concatenate(days))


def day_weights(first: int, last: int, fd: dict[str, Any]) -> np.ndarray:
    """Relative contact intensity for each day from ``first`` to ``last`` (weekday, holidays, term)."""
    days = np.arange(first, last + 1)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
    w = np.ones(len(days))
    w[weekday >= 5] = fd["weekend_factor"]
    y0 = int(str(np.datetime64(int(first), "D"))[:4])
    y1 = int(str(np.datetime64(int(last), "D"))[:4])
    hol = np.array([day(d) for d in bank_holidays(min(y0, 1990), max(y1, 2040))], dtype=np.int64)
    w[np.isin(days, hol)] = fd["bank_holiday_factor"]
    school = school_holidays(range(y0, y1 + 1))
    w[np.isin(days, school) & (weekday < 5)] *= fd["school_holiday_factor"]
    return w


def snap_to_weekday(rng: np.random.Generator, days: np.ndarray, fd: dict[str, Any]) -> np.ndarray:
    """Move most weekend dates to the Monday after (the out-of-hours share stays; bank holidays are
    thinned by :func:`day_weights` instead)."""
    days = days.copy()
    weekday = (days + 3) % 7
    weekend = weekday >= 5
    move = weekend & (rng.random(len(days)) >= fd["weekend_factor"])
    days[move] += 7 - weekday[move]
    return days


def events_factor(dates: np.ndarray, events: list[dict[str, Any]], branch_name: str, outcome: str) -> np.ndarray:
    """Multiplier on one branch outcome at each date from the dated events (1 outside them)."""
    f = np.ones(len(dates))
    for ev in events:
        if ev.get("branch") == branch_name and ev.get("outcome") == outcome:
            a = day(ev["date"])
            f[(dates >= a) & (dates < a + int(ev["days"]))] *= float(ev["factor"])
    return f
