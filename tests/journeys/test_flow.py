"""Map-based flow tables against plain pandas computations on the same timelines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from jdata import episodes_frame, random_episodes

from cscflow.journeys import flow, load_map, timelines
from cscflow.journeys.timeline import data_end, data_start


@pytest.fixture
def county_like(write_episodes):
    df = random_episodes(21, 60)
    ids = sorted(df.child_id.unique())
    kids = pd.DataFrame({"child_id": ids, "sex": ["F" if i % 2 else "M" for i in range(len(ids))],
                         "birth_month": pd.Timestamp("2012-06-01")})
    ws = write_episodes(df, kids)
    tl = ws.execute(timelines(ws, "england")).sort_values(["child_id", "seq"]).reset_index(drop=True)
    return ws, tl


def pairs(tl: pd.DataFrame) -> pd.DataFrame:
    t = tl.copy()
    t["target"] = t.groupby("child_id")["station"].shift(-1)
    t["t_start"] = t.groupby("child_id")["start"].shift(-1)
    t = t[t.target.notna()].copy()
    t["days"] = (t.t_start - t.start) / pd.Timedelta(days=1)
    return t


def test_dfg_equals_pandas(county_like):
    ws, tl = county_like
    got = flow.dfg(ws, "england")
    p = pairs(tl)
    want = p.groupby(["station", "target"]).agg(transitions=("days", "size"), cases=("child_id", "nunique"),
                                                 mean_days=("days", "mean"), median_days=("days", "median"))
    want = want.reset_index().rename(columns={"station": "source"})
    m = got.merge(want, on=["source", "target"], suffixes=("", "_w"), how="outer", indicator=True)
    assert (m["_merge"] == "both").all() and len(got) > 20
    for c in ("transitions", "cases", "mean_days", "median_days"):
        assert np.allclose(m[c], m[c + "_w"]), c
    assert list(got.columns) == ["source", "target", "transitions", "cases", "mean_days", "median_days"]


def test_dfg_period_and_cohort(county_like):
    ws, tl = county_like
    got = flow.dfg(ws, "england", start="2024-02-20", end="2024-03-10", where={"sex": "F"})
    kids = ws.execute(ws.table("children"))
    girls = tl[tl.child_id.isin(kids[kids.sex == "F"].child_id)]
    p = pairs(girls)
    p = p[(p.t_start >= "2024-02-20") & (p.t_start < "2024-03-11")]
    assert got.transitions.sum() == len(p)
    want = p.groupby(["station", "target"]).size().sort_index()
    assert got.set_index(["source", "target"])["transitions"].sort_index().to_dict() == want.to_dict()


def test_variants_equal_pandas(county_like):
    ws, tl = county_like
    got = flow.variants(ws, "england")
    paths = tl.groupby("child_id")["station"].agg(" > ".join)
    want = paths.value_counts()
    assert dict(zip(got.variant, got.cases, strict=True)) == want.to_dict()
    assert np.isclose(got.share.sum(), 1.0) and got["rank"].tolist() == list(range(1, len(got) + 1))
    assert (np.diff(got.cases) <= 0).all()
    assert flow.variants(ws, "england", top=3).shape[0] == 3


@pytest.mark.parametrize("period, where", [
    (("2024-02-01", "2024-03-15"), None),       # paths cut by the period start at different positions
    ((None, None), {"repeat": 2}),              # rows of later episodes of need only
    (("2024-02-01", None), {"sex": "M"}),
])
def test_variants_with_a_period_or_cohort_equal_pandas(county_like, period, where):
    """The same path reached at different positions of children's timelines is one variant."""
    ws, tl = county_like
    got = flow.variants(ws, "england", start=period[0], end=period[1], where=where)
    t = tl
    if period[0]:
        t = t[t.start >= period[0]]
    if period[1]:
        t = t[t.start < pd.Timestamp(period[1]) + pd.Timedelta(days=1)]
    if where and "repeat" in where:
        t = t[t["repeat"] == where["repeat"]]
    if where and "sex" in where:
        kids = ws.execute(ws.table("children"))
        t = t[t.child_id.isin(kids[kids.sex == where["sex"]].child_id)]
    want = t.groupby("child_id")["station"].agg(" > ".join).value_counts()
    assert len(want) > 5
    assert dict(zip(got.variant, got.cases, strict=True)) == want.to_dict()
    assert got.length.tolist() == [v.count(" > ") + 1 for v in got.variant]


def test_variants_put_together_outside_the_engine_equal_the_sql(county_like):
    """The path text of engines without ordered string aggregates (Spark) is put together in pandas: the same
    table as DuckDB's own."""
    from cscflow.journeys.flow.graph import _fetched_variants, _hashed_variants_expr

    ws, _ = county_like
    tl = timelines(ws, "england")
    for period in ((None, None), ("2024-02-01", "2024-03-15")):
        a = _fetched_variants(ws, tl, *period).groupby(["variant", "length"])["cases"].sum()
        b = ws.execute(_hashed_variants_expr(tl, *period)).groupby(["variant", "length"])["cases"].sum()
        assert len(a) > 5 and a.sort_index().to_dict() == b.sort_index().to_dict()


def test_stations_on_and_caseload_agree_with_a_day_scan(county_like):
    ws, tl = county_like
    first, last = data_start(ws).normalize(), data_end(ws).normalize()
    cl = flow.caseload(ws, "england")
    assert cl.date.min() == first.date() and cl.date.max() == last.date()
    s_day, e_day = tl.start.dt.normalize(), tl.end.dt.normalize()
    for d in pd.date_range(first, last, freq="7D"):
        here = (s_day <= d) & (tl.end.isna() | (e_day > d) | (s_day == d))
        want = tl[here].groupby("station")["child_id"].nunique()
        want = want[want > 0].to_dict()
        got = flow.stations_on(ws, "england", d)
        assert dict(zip(got.station, got.children, strict=True)) == want, d
        day = cl[cl.date == d.date()]
        assert {s: n for s, n in zip(day.station, day.children, strict=True) if n} == want, d


def test_stations_counts(county_like):
    ws, tl = county_like
    got = flow.stations(ws, "england", start="2024-02-10", end="2024-03-15").set_index("station")
    in_p = tl[(tl.start >= "2024-02-10") & (tl.start < "2024-03-16")]
    assert got["entered"].to_dict() == {s: int((in_p.station == s).sum()) for s in got.index}
    left = tl[tl.end.notna() & (tl.end >= "2024-02-10") & (tl.end < "2024-03-16")]
    assert got["left"].to_dict() == {s: int((left.station == s).sum()) for s in got.index}
    on = flow.stations_on(ws, "england", "2024-03-15")
    assert {s: got.loc[s, "open"] for s in on.station} == dict(zip(on.station, on.children, strict=True))


def test_conversion_rates(county_like):
    ws, tl = county_like
    got = flow.conversion(ws, "england")
    t = tl.copy()
    t["target"] = t.groupby("child_id")["station"].shift(-1)
    t = t[t.kind == "stay"]
    t["target"] = t["target"].where(t.target.notna(), np.where(t.end.isna(), "(open)", "(none)"))
    want = t.groupby(["station", "target"]).size()
    assert got.set_index(["source", "target"])["n"].sort_index().to_dict() == want.sort_index().to_dict()
    assert np.allclose(got.groupby("source")["rate"].sum(), 1.0)


def test_same_day_steps_show_in_the_dfg(write_episodes):
    ws = write_episodes(episodes_frame([
        (f"c{i}", "contact", "2024-03-01", "2024-03-01", "referral", None) for i in range(5)
    ] + [
        (f"c{i}", "referral", "2024-03-01", "2024-03-05", "assessment", f"n{i}") for i in range(5)
    ]))
    got = flow.dfg(ws, "england")
    row = got[(got.source == "contact") & (got.target == "referral")].iloc[0]
    assert row.transitions == 5 and row.cases == 5 and row.mean_days == 0.0


def test_unknown_filter_and_bad_date_are_refused(county_like):
    from cscflow.errors import AnalysisError

    ws, _ = county_like
    with pytest.raises(AnalysisError, match="cannot filter on 'colour'"):
        flow.dfg(ws, "england", where={"colour": "red"})
    with pytest.raises(AnalysisError, match="not a date"):
        flow.dfg(ws, "england", start="31/02/2024x")


def test_front_door_map_counts_only_its_stations(county_like):
    ws, _ = county_like
    st = flow.stations(ws, load_map("front_door"))
    assert set(st.station) == set(load_map("front_door").station_ids)
