"""The fidelity report of fitted synthetic data: the original and the synthetic, side by side.

Both sides are read the same way, from their stays on the map (:func:`cscflow.forecast.stays.load_stays`:
a child's consecutive rows at one station are one stay) over the same period: conversion (where the stays
begun in the period went next), median days at each station (Kaplan-Meier, open stays censored),
re-referral within 12 and 36 months (:func:`cscflow.journeys.flow.rereferrals`, the pooled row), the
caseload at each station on each 31 March of the period, and characteristics (sex; age band at entry).

Columns: check, station, target, original_n, original, synthetic_n, synthetic, difference. ``*_n`` are
counts (stays, children, referrals); the values are percentages (conversion, re-referral, shares), days
(durations) or children (caseload); ``difference`` = synthetic - original (points for percentages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from cscflow.forecast.stays import AGE_BANDS

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

COLUMNS = ["check", "station", "target", "original_n", "original", "synthetic_n", "synthetic", "difference"]


def _in(stays: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    return stays[(stays["start"] >= start) & (stays["start"] <= end)]


def conversion(stays: pd.DataFrame) -> pd.DataFrame:
    """station, target, n, of, rate (%) of the stays (target ``(open)`` while open)."""
    t = stays.assign(target=stays["next"].fillna("(open)")).groupby(["station", "target"]).size().rename("n")
    out = t.reset_index()
    out["of"] = out.groupby("station")["n"].transform("sum")
    out["rate"] = 100.0 * out["n"] / out["of"]
    return out


def _medians(stays: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    from cscflow.journeys.flow import km_quantiles

    rows = []
    for st, g in stays.groupby("station", sort=False):
        days = ((g["end"].fillna(origin) - g["start"]) / pd.Timedelta(days=1)).to_numpy()
        rows.append({"station": st, "n": len(g), "value": km_quantiles(days, g["end"].notna().to_numpy(),
                                                                       qs=(0.5,))[0]})
    return pd.DataFrame(rows, columns=["station", "n", "value"])


def _caseload(stays: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    rows = []
    for year in range(start.year, end.year + 1):
        day = pd.Timestamp(year=year, month=3, day=31)
        if not start < day <= end:
            continue
        here = stays[(stays["start"] <= day) & (stays["end"].isna() | (stays["end"] > day))]
        for st, n in here["station"].value_counts().items():
            rows.append({"station": st, "target": str(day.date()), "n": int(n), "value": float(n)})
    return pd.DataFrame(rows, columns=["station", "target", "n", "value"])


def _characteristics(stays: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    entries = stays[stays["entry"]]
    kids = children[children["child_id"].isin(set(stays["child_id"]))]
    rows = []
    sex = kids["sex"].fillna("unknown").astype(str).value_counts()
    rows += [{"station": "sex", "target": k, "n": int(v), "value": 100.0 * v / max(sex.sum(), 1)}
             for k, v in sex.items()]
    age = entries.loc[entries["age_years"].notna(), "age"].map(dict(enumerate(AGE_BANDS))).value_counts()
    rows += [{"station": "age at entry", "target": str(k), "n": int(v), "value": 100.0 * v / max(age.sum(), 1)}
             for k, v in age.items()]
    return pd.DataFrame(rows, columns=["station", "target", "n", "value"])


def _rereferral(ws: WorkspaceLike, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    from cscflow.journeys.flow import rereferrals

    r = rereferrals(ws, start=start, end=end)
    allrow = r[r["year"] == "all"]
    if allrow.empty or not allrow["referrals"].iloc[0]:
        return pd.DataFrame(columns=["station", "target", "n", "value"])
    a = allrow.iloc[0]
    return pd.DataFrame([{"station": "referral", "target": f"within {m} months", "n": int(a["referrals"]),
                          "value": 100.0 * float(a[f"rate_{m}"])} for m in (12, 36)])


def _side_by_side(check: str, o: pd.DataFrame, s: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    m = o.merge(s, on=keys, how="outer", suffixes=("_o", "_s"))
    out = pd.DataFrame({"check": check, "station": m["station"], "target": m["target"],
                        "original_n": m["n_o"].fillna(0).astype("int64"), "original": m["value_o"],
                        "synthetic_n": m["n_s"].fillna(0).astype("int64"), "synthetic": m["value_s"]})
    if check in ("conversion", "characteristics"):  # a share that does not occur on one side is 0%
        out["original"] = out["original"].fillna(0.0)
        out["synthetic"] = out["synthetic"].fillna(0.0)
    out["difference"] = out["synthetic"] - out["original"]
    return out


def fidelity(original: tuple[WorkspaceLike, pd.DataFrame, pd.DataFrame],
             synthetic: tuple[WorkspaceLike, pd.DataFrame, pd.DataFrame],
             start: Any, end: Any) -> pd.DataFrame:
    """The report (:data:`COLUMNS`) of ``original`` against ``synthetic``, each (workspace, stays, children),
    over the stays begun from ``start`` to ``end``."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    (ows, ost, okids), (sws, sst, skids) = original, synthetic
    o_in, s_in = _in(ost, start, end), _in(sst, start, end)
    parts = []
    co, cs = conversion(o_in), conversion(s_in)
    parts.append(_side_by_side("conversion", co.rename(columns={"rate": "value"}),
                               cs.rename(columns={"rate": "value"}), ["station", "target"]))
    parts.append(_side_by_side("median days", _medians(o_in, end).assign(target=""),
                               _medians(s_in, end).assign(target=""), ["station", "target"]))
    parts.append(_side_by_side("re-referral", _rereferral(ows, start, end), _rereferral(sws, start, end),
                               ["station", "target"]))
    parts.append(_side_by_side("caseload", _caseload(ost, start, end), _caseload(sst, start, end),
                               ["station", "target"]))
    parts.append(_side_by_side("characteristics", _characteristics(o_in, okids), _characteristics(s_in, skids),
                               ["station", "target"]))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    for c in ("original", "synthetic", "difference"):
        out[c] = out[c].astype(float).round(2)
    return out[COLUMNS]


__all__ = ["COLUMNS", "conversion", "fidelity"]
