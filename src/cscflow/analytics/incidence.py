"""Cumulative incidence by birth cohort: the share of children born in a year who had a first
referral, first CP plan or first entry to care by ages 1, 5, 10 and 18 (Gilbert: "one child in
30 by 18").

Numerator: children in the workspace born in the cohort year whose first such stay began before
the given birthday. Denominator, the cohort's size, best first:

1. ``cohort_sizes`` given (e.g. births);
2. a population file (``population=``, ``cscflow stats ... --population FILE``, read by
   :func:`read_population`): live births in the cohort year, or the mid-year population by single
   year of age, ``(P(y+1, age 0) + P(y+1, age 1)) / 2`` for children born in calendar year ``y``
   (at 30 June ``y+1`` those born July-December ``y`` are 0, those born January-June are 1);
3. the bundled approximation: one eighteenth of the LA's ONS mid-year population aged 0-17 in
   ``y+1``. A single year of age differs from the 0-17 average by about -17% to +9% nationally,
   more where migration by age is strong, so this can draw a false trend across cohorts; the
   table's ``denominator`` column and ``.attrs["method"]`` say so on every output.

A cohort-age cell is shown only when the data cover the whole span from birth to that birthday
(the stage's data start, :func:`cscflow.journeys.lookback.visible_from`, to ``as_of``); otherwise
it is missing, not understated. Stays after ``as_of`` are not seen.

>>> cohort_size_from_population("886", 2015) > 15000
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cscflow import reference
from cscflow.errors import AnalysisError, SourceError

AGES = (1, 5, 10, 18)
EVENTS = {"referral": "referral", "cp_plan": "cp_plan", "care": "looked_after"}
APPROXIMATION = "1/18 of ONS 0-17 (approximation, likely bias -17% to +9% nationally)"
BASIS = {"births": "live births", "age": "ONS-style single year of age", "given": "cohort sizes given"}
#: the two layouts a population file may take (``la`` optional in both)
LAYOUTS = {"births": ("birth_year", "births"), "age": ("year", "age", "population")}


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


def _bad(path: str, row: int, column: str, value: Any, want: str) -> SourceError:
    return SourceError(f"{path}, data row {row} (line {row + 1}), column {column!r}: {value!r} is not {want}",
                       hint="fix that cell (columns: la, year, age, population; or la, birth_year, births)")


def read_population(path: str | Path, la: str | None = None) -> pd.DataFrame:
    """A population CSV as a tidy table: ``layout`` ("births" or "age") in ``.attrs`` and columns
    birth_year, births (births layout) or year, age, population (single-year-of-age layout).

    Columns (header names, any case): ``la`` (3-digit DfE code, optional: rows of other LAs than
    ``la`` are skipped), then either ``birth_year, births`` (live births in the calendar year) or
    ``year, age, population`` (mid-year estimate at 30 June ``year`` of children aged ``age``).
    Bad rows raise :class:`~cscflow.errors.SourceError` naming the file, row (1 = the first data
    row), column and value."""
    path = str(path)
    if not path.lower().endswith(".csv"):  # also keeps the web app's option values (no dots) from reading files
        raise SourceError(f"population file {path} is not a .csv file", hint="save it as CSV with a .csv name")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise SourceError(f"no population file {path}", hint="give the path of a CSV") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"cannot read population file {path}: {str(exc).splitlines()[0]}",
                          hint="save it as a CSV with a header row") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    layout = next((k for k, cols in LAYOUTS.items() if set(cols) <= set(raw.columns)), None)
    if layout is None:
        raise SourceError(f"population file {path} has columns {', '.join(raw.columns) or '(none)'}",
                          hint="use la, year, age, population (single year of age) or la, birth_year, births")
    cols = LAYOUTS[layout]
    out = {}
    for c in cols:
        values = raw[c].str.strip().str.replace(",", "", regex=False)
        num = pd.to_numeric(values, errors="coerce")
        integer = c != cols[-1]
        bad = num.isna() | (num < 0) | (integer & (num != num.round()))
        if c == "age":
            bad |= num > 25
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise _bad(path, i + 1, c, raw[c].iloc[i], "a whole number of years" if integer else
                       "a number of children (0 or more)")
        out[c] = num.astype("int64") if integer else num.astype(float)
    df = pd.DataFrame(out)
    if "la" in raw.columns:
        df.insert(0, "la", raw["la"].str.strip())
        if la:
            df = df[df["la"] == str(la)]
        elif df["la"].nunique() > 1:
            raise SourceError(f"population file {path} holds several LAs ({', '.join(sorted(df['la'].unique())[:5])})"
                              " and the workspace names none", hint="load with --la CODE, or keep one LA's rows")
    key = list(cols[:-1]) + (["la"] if "la" in df.columns else [])
    dup = df.duplicated(key)
    if dup.any():
        i = int(np.argmax(dup.to_numpy()))
        raise SourceError(f"{path}, data row {df.index[i] + 1} (line {df.index[i] + 2}): a second row for "
                          + ", ".join(f"{k} {df[k].iloc[i]}" for k in key), hint="keep one row per key")
    if df.empty:
        raise SourceError(f"population file {path} has no rows" + (f" for LA {la}" if la else ""),
                          hint="check the la column holds the workspace's 3-digit DfE code")
    df = df.reset_index(drop=True)
    df.attrs["layout"] = layout
    df.attrs["path"] = path
    return df


def cohort_sizes_from_file(pop: pd.DataFrame, years: Any) -> dict[int, float]:
    """Cohort sizes for birth ``years`` from :func:`read_population`'s table (years it cannot give
    are left out)."""
    out: dict[int, float] = {}
    if pop.attrs.get("layout") == "births":
        births = pop.groupby("birth_year")["births"].sum()
        return {int(y): float(births[y]) for y in years if y in births.index}
    p = pop.groupby(["year", "age"])["population"].sum()
    for y in years:
        if (y + 1, 0) in p.index and (y + 1, 1) in p.index:
            out[int(y)] = (float(p[(y + 1, 0)]) + float(p[(y + 1, 1)])) / 2
    return out


def cumulative_incidence_by_cohort(
    ws: Any,
    event: str = "care",
    ages: tuple[int, ...] = AGES,
    cohort_sizes: dict[int, float] | None = None,
    data_start: Any = None,
    as_of: Any = None,
    population: str | Path | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Columns: birth_year, age, children (with the event by that age), cohort_size, denominator
    (where the cohort size came from), incidence (share), per_1000; NaN incidence where the data
    do not cover the cohort to that age. ``.attrs["method"]``: the method in words (the
    denominator, and the approximation's likely bias when it was used)."""
    from cscflow.journeys.lookback import visible_from

    if event not in EVENTS:
        raise AnalysisError(f"unknown event {event!r}", hint=f"use one of {', '.join(EVENTS)}")
    ep, ch = ws.table("episodes"), ws.table("children")
    span = ws.execute(ep.aggregate(b=ep.start.max(), c=ep.end.max())).iloc[0]
    ends = [v for v in (span["b"], span["c"]) if pd.notna(v)]
    if as_of is None and not ends:
        raise AnalysisError(f"no episodes in workspace {ws.path}", hint="load data first")
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(max(ends))
    stays = ep.filter((ep.stage == EVENTS[event]) & (ep.start.cast("date") <= as_of.date()))
    first = stays.group_by("child_id").aggregate(first=stays.start.min())
    df = ws.execute(first.join(ch.select("child_id", "birth_month"), "child_id"))
    data_start = visible_from(ws, EVENTS[event], data_start)
    df["birth"] = pd.to_datetime(df["birth_month"])
    df["first"] = pd.to_datetime(df["first"])
    df = df.dropna(subset=["birth"])
    df["birth_year"] = df["birth"].dt.year
    years = list(range(data_start.year + (0 if data_start <= pd.Timestamp(data_start.year, 1, 1) else 1),
                       as_of.year + 1))
    sizes: dict[int, tuple[float, str]] = {y: (float(v), BASIS["given"]) for y, v in (cohort_sizes or {}).items()}
    source = ""
    if population is not None:
        pop = population if isinstance(population, pd.DataFrame) else read_population(population, ws.la or None)
        basis = BASIS[pop.attrs.get("layout", "age")]
        source = f" from {Path(pop.attrs['path']).name}" if pop.attrs.get("path") else ""
        for y, v in cohort_sizes_from_file(pop, years).items():
            sizes.setdefault(y, (v, basis))
    rows = []
    for y in years:
        size, basis = sizes.get(y) or (cohort_size_from_population(ws.la or "", y), APPROXIMATION)
        kids = df[df["birth_year"] == y]
        for a in ages:
            covered = pd.Timestamp(y + a, 12, 31) <= as_of
            # before the a-th birthday (birth_month is the 1st of the month)
            n = int((kids["first"] < kids["birth"] + pd.DateOffset(years=a)).sum()) if len(kids) else 0
            rows.append({"birth_year": y, "age": a, "children": n if covered else np.nan, "cohort_size": size,
                         "denominator": basis, "incidence": n / size if covered else np.nan})
    out = pd.DataFrame(rows, columns=["birth_year", "age", "children", "cohort_size", "denominator", "incidence"])
    out["per_1000"] = 1000 * out["incidence"]
    out.attrs["method"] = _method(out, event, data_start, as_of, source)
    return out


def _method(out: pd.DataFrame, event: str, data_start: pd.Timestamp, as_of: pd.Timestamp, source: str) -> str:
    what = {"referral": "a first referral", "cp_plan": "a first CP plan", "care": "a first entry to care"}[event]
    used = [b for b in dict.fromkeys(out["denominator"]) if b]
    text = (f"Cumulative incidence of {what} by birth cohort: children born in the year whose first such stay "
            f"began before the birthday, over the cohort's size; cells shown only where the data cover birth to "
            f"that birthday ({data_start:%Y-%m-%d}, the data start, to {as_of:%Y-%m-%d}). Cohort size: ")
    parts = []
    for b in used:
        yrs = out.loc[out["denominator"] == b, "birth_year"].unique()
        span = f"{yrs.min()}" if len(yrs) == 1 else f"{yrs.min()}-{yrs.max()}"
        if b == APPROXIMATION:
            parts.append(f"one eighteenth of the LA's ONS mid-year population aged 0-17 in the year after birth "
                         f"(cohorts {span}): an approximation, as a single year of age differs from the 0-17 "
                         "average by about -17% to +9% nationally and more where migration by age is strong, "
                         "which can also draw a false trend across cohorts; give --population FILE (births or "
                         "single year of age) for an exact denominator")
        elif b == BASIS["age"]:
            parts.append(f"mid-year population by single year of age{source}, (P(y+1, 0) + P(y+1, 1)) / 2 for "
                         f"cohort y (cohorts {span})")
        else:
            parts.append(f"{b}{source if b != BASIS['given'] else ''} (cohorts {span})")
    return text + "; ".join(parts or ["none"]) + "."


def incidence_figure(table: pd.DataFrame, title: str = "") -> Any:
    """Lines per age across birth cohorts; a note under the chart when the approximate denominator
    was used."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for a, g in table.dropna(subset=["incidence"]).groupby("age"):
        fig.add_trace(go.Scatter(x=g["birth_year"], y=g["per_1000"], mode="lines+markers", name=f"by age {a}"))
    fig.update_layout(title=title, xaxis_title="birth cohort", yaxis_title="per 1,000 children",
                      template="plotly_white")
    if "denominator" in table.columns and (table["denominator"] == APPROXIMATION).any():
        fig.add_annotation(text="Denominator: 1/18 of ONS 0-17, an approximation (about -17% to +9% nationally); "
                                "give --population for births or single year of age",
                           xref="paper", yref="paper", x=0, y=-0.22, showarrow=False, align="left",
                           font={"size": 11, "color": "#555"})
        fig.update_layout(margin={"b": 110})
    return fig


__all__ = ["APPROXIMATION", "cohort_size_from_population", "cohort_sizes_from_file", "cumulative_incidence_by_cohort",
           "incidence_figure", "read_population"]
