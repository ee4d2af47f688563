"""England working days inside an engine: the calendar table joined in Ibis.

The rule (bank holidays, how working days are counted) is :mod:`cscflow.model.calendar`'s, the
one calendar of synth, sources, journeys and analytics; it is re-exported here. Two forms:
:func:`working_days` (numpy, vectorised) and :func:`calendar_frame` / :func:`with_working_days`
(a calendar table joined inside any Ibis engine).
"""

from __future__ import annotations

import ibis

from cscflow.model.calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    add_working_days,
    bank_holidays,
    calendar_frame,
    is_working_day,
    working_days,
)

__all__ = ["FIRST_YEAR", "LAST_YEAR", "add_working_days", "bank_holidays", "calendar_frame", "is_working_day",
           "with_working_days", "working_days"]


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
