"""Bundled official statistics: DfE LA-level children's social care tables, ONS 0-17 population,
statistical neighbours and LA names and regions (sources in reference/README.md; OGL v3).

>>> row = series("cla_31march", level="england", year=2025).iloc[0]
>>> int(row["count"]), int(row["denominator"])
(81770, 12183016)
>>> la_name("886"), region_of("886")
('Kent', 'E12000008')
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from cscflow.errors import AnalysisError

HERE = Path(__file__).parent
ENGLAND = "E92000001"
LONDON = "E12000007"

#: measure -> (label, denominator: "population" (rate per 10,000) or "count" (a proportion))
MEASURES: dict[str, tuple[str, str]] = {
    "cla_31march": ("Children looked after at 31 March, per 10,000 children", "population"),
    "cla_started": ("Children starting to be looked after, per 10,000", "population"),
    "cla_ceased": ("Children ceasing to be looked after, per 10,000", "population"),
    "cin_31march": ("Children in need at 31 March, per 10,000 children", "population"),
    "cin_started": ("CIN episodes started, per 10,000 children", "population"),
    "referrals": ("Referrals, per 10,000 children", "population"),
    "rereferrals": ("Re-referrals within 12 months, share of referrals", "count"),
    "cp_plans_started": ("CP plans started, per 10,000 children", "population"),
    "cp_subsequent": ("Second or subsequent CP plans, share of plans started", "count"),
}


@cache
def _series() -> pd.DataFrame:
    df = pd.read_csv(HERE / "series.csv.gz", dtype={"code": str, "status": str}, keep_default_na=False,
                     na_values={"count": [""], "denominator": [""]})
    return df


@cache
def population() -> pd.DataFrame:
    """ONS mid-year estimates of children aged 0-17: year, level (england/region/la), code, population_0_17."""
    return pd.read_csv(HERE / "population.csv.gz", dtype={"code": str})


@cache
def las() -> pd.DataFrame:
    """LAs: la (3-digit DfE code), new_la_code, la_name, region_code, region_name, region9_code."""
    df = pd.read_csv(HERE / "las.csv", dtype=str)
    df["region9_code"] = df["region_code"].where(~df["region_code"].str.startswith("E13"), LONDON)
    return df


@cache
def regions() -> pd.DataFrame:
    return pd.read_csv(HERE / "regions.csv", dtype=str)


def _la_row(la: str) -> pd.Series:
    t = las()
    hit = t[(t["la"] == str(la)) | (t["la_name"].str.lower() == str(la).lower()) | (t["new_la_code"] == str(la))]
    if hit.empty:
        raise AnalysisError(f"no LA {la!r} in the bundled DfE tables", hint="use a 3-digit DfE code such as 886")
    return hit.iloc[0]


def la_code(la: str) -> str:
    """The 3-digit DfE code of an LA given by code, ONS code or name."""
    return str(_la_row(la)["la"])


def la_name(la: str) -> str:
    return str(_la_row(la)["la_name"])


def region_of(la: str) -> str:
    """The LA's region (one of the nine; Inner and Outer London count as London)."""
    return str(_la_row(la)["region9_code"])


@cache
def _neighbours() -> pd.DataFrame:
    return pd.read_csv(HERE / "statistical_neighbours.csv", dtype=str)


def statistical_neighbours(la: str) -> list[str]:
    """The DfE 2025 model's ten statistical neighbours of ``la``, closest first."""
    code = la_code(la)
    t = _neighbours()
    return [str(n) for n in t[t["la"] == code].sort_values("rank", key=lambda s: s.astype(int))["neighbour"]]


def series(
    measure: str, level: str | None = None, year: int | None = None, code: str | None = None
) -> pd.DataFrame:
    """Rows of a DfE measure: year, level, code, count, denominator (population or count), status.

    For measures per 10,000 the denominator is the 0-17 population as DfE uses it (CLA: its own
    table; others: the ONS mid-year estimate of the year before the March the year ends in)."""
    if measure not in MEASURES:
        raise AnalysisError(f"no bundled measure {measure!r}", hint=f"use one of {', '.join(MEASURES)}")
    df = _series()
    df = df[df["measure"] == measure].copy()
    if MEASURES[measure][1] == "population" and df["denominator"].isna().all():
        pop = population().assign(year=lambda p: p["year"] + 1)
        df = df.drop(columns="denominator").merge(
            pop.rename(columns={"population_0_17": "denominator"}), on=["year", "level", "code"], how="left"
        )
    if level is not None:
        df = df[df["level"] == level]
    if year is not None:
        df = df[df["year"] == int(year)]
    if code is not None:
        df = df[df["code"] == str(code)]
    return df.reset_index(drop=True)
