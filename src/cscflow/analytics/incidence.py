"""Cumulative incidence by birth cohort: the share of children born in a year who had a first
referral, first CP plan or first entry to care by ages 1, 5, 10 and 18 (Gilbert: "one child in
30 by 18").

Numerator: children in the workspace born in the cohort year whose first such stay began before
the given birthday. Denominator: the cohort's size - by default the ONS mid-year population aged
0-17 of the LA (bundled) in the year after the cohort's birth year, divided by 18 (the ONS table
gives 0-17 only, so one year of age is taken as an eighteenth), or ``cohort_sizes`` when given
(e.g. births). A cohort-age cell is shown only when the data cover the whole span from birth to
that birthday (``data_start`` to ``as_of``); otherwise it is missing, not understated.

>>> cohort_size_from_population("886", 2015) > 15000
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cscflow import reference
from cscflow.errors import AnalysisError

AGES = (1, 5, 10, 18)
EVENTS = {"referral": "referral", "cp_plan": "cp_plan", "care": "looked_after"}


def cohort_size_from_population(la: str, birth_year: int) -> float:
    """One eighteenth of the LA's ONS 0-17 population at mid-year ``birth_year + 1`` (or the nearest
    year bundled)."""
    pop = reference.population()
    code = reference.la_code(la)
    rows = pop[(pop["level"] == "la") & (pop["code"] == code)]
    if rows.empty:
        raise AnalysisError(f"no ONS population for LA {la}", hint="pass cohort_sizes={year: births}")
    year = min(max(birth_year + 1, rows["year"].min()), rows["year"].max())
    return float(rows.loc[rows["year"] == year, "population_0_17"].iloc[0]) / 18


def cumulative_incidence_by_cohort(
    ws: Any,
    event: str = "care",
    ages: tuple[int, ...] = AGES,
    cohort_sizes: dict[int, float] | None = None,
    data_start: Any = None,
    as_of: Any = None,
) -> pd.DataFrame:
    """Columns: birth_year, age, children (with the event by that age), cohort_size, incidence
    (share), per_1000; NaN incidence where the data do not cover the cohort to that age."""
    if event not in EVENTS:
        raise AnalysisError(f"unknown event {event!r}", hint=f"use one of {', '.join(EVENTS)}")
    ep, ch = ws.table("episodes"), ws.table("children")
    first = ep.filter(ep.stage == EVENTS[event]).group_by("child_id").aggregate(first=ep.start.min())
    joined = first.join(ch.select("child_id", "birth_month"), "child_id")
    df = ws.execute(joined)
    span = ws.execute(ep.aggregate(a=ep.start.min(), b=ep.start.max(), c=ep.end.max())).iloc[0]
    data_start = pd.Timestamp(data_start) if data_start is not None else pd.Timestamp(span["a"])
    ends = [v for v in (span["b"], span["c"]) if pd.notna(v)]
    if as_of is None and not ends:
        raise AnalysisError(f"no episodes in workspace {ws.path}", hint="load data first")
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(max(ends))
    df["birth"] = pd.to_datetime(df["birth_month"])
    df["first"] = pd.to_datetime(df["first"])
    df = df.dropna(subset=["birth"])
    df["birth_year"] = df["birth"].dt.year
    years = range(data_start.year + (0 if data_start <= pd.Timestamp(data_start.year, 1, 1) else 1),
                  as_of.year + 1)
    rows = []
    for y in years:
        size = (cohort_sizes or {}).get(y) or cohort_size_from_population(ws.la or "", y)
        kids = df[df["birth_year"] == y]
        for a in ages:
            covered = pd.Timestamp(y + a, 12, 31) <= as_of
            # before the a-th birthday (birth_month is the 1st of the month)
            n = int((kids["first"] < kids["birth"] + pd.DateOffset(years=a)).sum()) if len(kids) else 0
            rows.append({"birth_year": y, "age": a, "children": n if covered else np.nan, "cohort_size": size,
                         "incidence": n / size if covered else np.nan})
    out = pd.DataFrame(rows)
    out["per_1000"] = 1000 * out["incidence"]
    return out


def incidence_figure(table: pd.DataFrame, title: str = "") -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    for a, g in table.dropna(subset=["incidence"]).groupby("age"):
        fig.add_trace(go.Scatter(x=g["birth_year"], y=g["per_1000"], mode="lines+markers", name=f"by age {a}"))
    fig.update_layout(title=title, xaxis_title="birth cohort", yaxis_title="per 1,000 children",
                      template="plotly_white")
    return fig


__all__ = ["cohort_size_from_population", "cumulative_incidence_by_cohort", "incidence_figure"]
