"""Durations (Kaplan-Meier, working days), re-referrals, NFA by previous referrals, S47 outcomes,
before/after tests, and the ``cscflow flow`` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from jdata import episodes_frame

from cscflow.cli import cli
from cscflow.journeys import flow
from cscflow.journeys.flow.durations import km_quantiles


def _kaplan_meier(durations, observed):
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter().fit(durations, observed)
    sf = km.survival_function_.iloc[:, 0]

    def q(p):
        hit = sf[sf <= 1 - p + 1e-9]  # S(t) = 0.75 exactly must count despite rounding
        return float(hit.index[0]) if len(hit) else float("nan")

    return [q(0.25), q(0.5), q(0.75)]


def test_km_quantiles_match_lifelines():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 40, 300).astype(float)
    e = rng.random(300) < 0.7
    assert np.allclose(km_quantiles(t, e), _kaplan_meier(t, e), equal_nan=True)
    # counted rows (weights) give the rows' answer; a duration not known (NaN) is nobody at risk
    pairs = sorted(set(zip(t, e, strict=True)))
    ut, ue = (np.array(v) for v in zip(*pairs, strict=True))
    n = np.array([int(((t == a) & (e == b)).sum()) for a, b in zip(ut, ue, strict=True)])
    assert km_quantiles(ut, ue, n) == km_quantiles(t, e)
    assert km_quantiles(np.r_[t, np.nan, np.nan], np.r_[e, True, False]) == km_quantiles(t, e)


def test_durations_censor_open_stays(write_episodes):
    rng = np.random.default_rng(8)
    rows = []
    for i in range(120):
        start = pd.Timestamp("2023-01-02") + pd.Timedelta(days=int(rng.integers(0, 300)))
        length = int(rng.integers(1, 90))
        end = start + pd.Timedelta(days=length)
        open_ = end > pd.Timestamp("2023-11-30") or rng.random() < 0.15
        rows.append((f"c{i}", "assessment", start, None if open_ else end, None if open_ else "cin_plan", f"n{i}"))
    rows.append(("z", "contact", "2023-12-31", "2023-12-31", "nfa", None))  # the data end
    ws = write_episodes(rows)
    got = flow.durations(ws, "england")
    row = got[(got.kind == "in") & (got.source == "assessment") & (got.unit == "calendar")].iloc[0]
    df = episodes_frame(rows)
    a = df[df.stage == "assessment"]
    until = a.end.fillna(pd.Timestamp("2023-12-31"))
    days = ((until - a.start) / pd.Timedelta(days=1)).to_numpy()
    assert row.n == len(a) and row.open == a.end.isna().sum() > 10
    assert [row.q1, row["median"], row.q3] == pytest.approx(_kaplan_meier(days, a.end.notna().to_numpy()), nan_ok=True)
    # dropping the open stays would understate the median
    assert row["median"] > np.median(days[a.end.notna().to_numpy()])
    wrow = got[(got.kind == "in") & (got.source == "assessment") & (got.unit == "working")].iloc[0]
    from cscflow.workspace import working_days

    wd = working_days(a.start.to_numpy(), until.to_numpy()).astype(float)
    assert [wrow.q1, wrow["median"], wrow.q3] == pytest.approx(_kaplan_meier(wd, a.end.notna().to_numpy()), nan_ok=True)


def test_leap_day_and_bank_holidays_in_durations(write_episodes):
    ws = write_episodes([
        # across 29 February 2024: 2 calendar days, 2 working days (Thu 29, Fri 1)
        ("c1", "assessment", "2024-02-28", "2024-03-01", "nfa", "n1"),
        # Friday 20 December 2024 to Friday 27 December: Christmas and Boxing Day are bank holidays
        ("c2", "assessment", "2024-12-20", "2024-12-27", "nfa", "n2"),
        # over Easter 2024 (Good Friday 29 March, Easter Monday 1 April)
        ("c3", "assessment", "2024-03-28", "2024-04-02", "nfa", "n3"),
    ])
    got = flow.durations(ws, "england")
    between = got[(got.kind == "between") & (got.source == "assessment") & (got.target == "nfa")]
    assert between.set_index("unit")["n"].to_dict() == {"calendar": 3, "working": 3}
    inn = got[(got.kind == "in") & (got.source == "assessment")].set_index("unit")
    # calendar: 2, 7, 5 days; working: 2, 3 (23, 24, 27 Dec), 1 (2 April)
    assert (inn.loc["calendar", "q1"], inn.loc["calendar", "median"], inn.loc["calendar", "q3"]) == (2, 5, 7)
    assert (inn.loc["working", "q1"], inn.loc["working", "median"], inn.loc["working", "q3"]) == (1, 2, 3)


def _referral_rows(seed):
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(50):
        day = pd.Timestamp("2019-01-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
        for k in range(int(rng.integers(1, 6))):
            need = f"c{c}n{k}"
            rows.append((f"c{c}", "referral", day, day + pd.Timedelta(days=1), "assessment", need))
            outcome = ["nfa", "cin_plan", "strategy_discussion"][rng.integers(3)]
            rows.append((f"c{c}", "assessment", day + pd.Timedelta(days=1), day + pd.Timedelta(days=30), outcome, need))
            if rng.random() < 0.5:
                sd = day + pd.Timedelta(days=int(rng.integers(1, 20)))
                s47 = rng.random() < 0.7
                rows.append((f"c{c}", "strategy_discussion", sd, sd, "s47" if s47 else "nfa", need))
                if s47:
                    out = ["nfa", "icpc", "cin_plan"][rng.integers(3)]
                    rows.append((f"c{c}", "s47", sd, sd + pd.Timedelta(days=10), out, need))
                    if out == "icpc":
                        rows.append((f"c{c}", "icpc", sd + pd.Timedelta(days=10), sd + pd.Timedelta(days=10),
                                     ["cp_plan", "nfa"][rng.integers(2)], need))
            # the gap to the next referral straddles the 12 and 36 month lines, leap years included
            day = day + pd.DateOffset(months=int(rng.choice([6, 11, 12, 13, 30, 36, 37])))
            day = day + pd.Timedelta(days=int(rng.choice([-1, 0, 0, 1])))
    return rows


def test_rereferrals_equal_a_plain_count(write_episodes):
    """Per financial year: counts equal a plain count; a year is complete for a look-back of m months
    when its 1 April minus m months is on or after the data start; the "all" row pools the years
    complete for both look-backs only."""
    rows = _referral_rows(5)
    ws = write_episodes(rows)
    df = episodes_frame(rows)
    r = df[df.stage == "referral"].sort_values(["child_id", "start"])
    prev = r.groupby("child_id")["start"].shift(1)
    w12 = pd.Series([pd.notna(p) and p >= s - pd.DateOffset(months=12) for p, s in zip(prev, r.start, strict=True)])
    w36 = pd.Series([pd.notna(p) and p >= s - pd.DateOffset(months=36) for p, s in zip(prev, r.start, strict=True)])
    assert 0 < w12.sum() < w36.sum() < len(r)
    since = pd.Timestamp("2019-01-01")
    got = flow.rereferrals(ws, "england", data_start=since)
    fy = pd.Series([s.year if s.month >= 4 else s.year - 1 for s in r.start])
    years = got[got.year != "all"]
    assert years.within_12.tolist() == w12.groupby(fy).sum().tolist()
    assert years.within_36.tolist() == w36.groupby(fy).sum().tolist()
    assert years.referrals.tolist() == fy.value_counts().sort_index().tolist()
    starts = [pd.Timestamp(y, 4, 1) for y in sorted(fy.unique())]
    assert years.complete_12.tolist() == [s - pd.DateOffset(months=12) >= since for s in starts]
    assert years.complete_36.tolist() == [s - pd.DateOffset(months=36) >= since for s in starts]
    assert years.complete.tolist() == (years.complete_12 & years.complete_36).tolist()
    assert not years.complete.iloc[:4].any() and years.complete.iloc[4:].all()  # 2018-19 to 2021-22: too early
    total = got[got.year == "all"].iloc[0]
    keep = fy.map(lambda y: pd.Timestamp(y, 4, 1) - pd.DateOffset(months=36) >= since).to_numpy()
    assert total.referrals == keep.sum() and total.within_12 == w12[keep].sum() and total.within_36 == w36[keep].sum()
    assert total.complete and total.rate_12 == pytest.approx(w12[keep].mean())
    assert "2011" not in got.attrs["method"] and "2019-01-01" in got.attrs["method"]
    # without a data start given, it is read from the data: the first full month, January 2019
    assert flow.rereferrals(ws, "england").attrs["data_start"] == since


def test_rereferral_flags_mark_incomplete_look_backs(write_episodes):
    """A referral's 12-month look-back is complete when the same day a year before is on or after the
    data start; its flag can only be too low before then."""
    rows = [("a", "referral", "2020-01-15", "2020-01-16", "nfa", "n1"),
            ("a", "referral", "2020-12-01", "2020-12-02", "nfa", "n2"),
            ("a", "referral", "2021-01-15", "2021-01-16", "nfa", "n3"),
            ("a", "referral", "2021-01-14", "2021-01-14", "nfa", "n4")]
    ws = write_episodes(rows)
    f = ws.execute(flow.referral_flags(ws, data_start="2020-01-15")).sort_values("start")
    assert f.complete_12.tolist() == [False, False, False, True]
    assert f.within_12.tolist() == [False, True, True, True]
    assert not f.complete_36.any()


def test_nfa_by_prior_referrals(write_episodes):
    rows = _referral_rows(6)
    df = episodes_frame(rows)
    r = df[df.stage == "referral"].sort_values(["child_id", "start"])
    kids = pd.DataFrame({"child_id": sorted(r.child_id.unique()), "la": "886"})
    # half the children born after the data start (whole-life look-back complete), half before
    kids["birth_month"] = [pd.Timestamp("2019-02-01" if i % 2 else "2010-02-01").date() for i in range(len(kids))]
    ws = write_episodes(rows, children=kids)
    r["prior"] = r.groupby("child_id").cumcount()
    a = df[df.stage == "assessment"].merge(r[["need_id", "prior"]], on="need_id")
    a["bucket"] = a.prior.clip(upper=3).map(lambda b: "3+" if b >= 3 else str(b))
    a["complete"] = a.child_id.map(kids.set_index("child_id").birth_month.astype(str) >= "2019-01-01")
    want = a.groupby(["bucket", "complete"]).agg(assessments=("prior", "size"),
                                                 nfa=("outcome", lambda o: (o == "nfa").sum()))
    got = flow.nfa_by_prior(ws, "england", cap=3, data_start="2019-01-01")
    assert got.complete.iloc[0] and not got.complete.iloc[-1]  # complete rows first
    got = got.set_index(["previous_referrals", "complete"])
    assert got[["assessments", "nfa"]].sort_index().to_dict() == want.sort_index().to_dict()
    # previous referrals within 12 months: complete from a year after the data start
    r["back"] = r.start - pd.DateOffset(months=12)
    r["prior12"] = [int(((r.child_id == c) & (r.start < s) & (r.start >= b)).sum())
                    for c, s, b in zip(r.child_id, r.start, r.back, strict=True)]
    a = df[df.stage == "assessment"].merge(r[["need_id", "prior12", "back"]], on="need_id")
    a["bucket"] = a.prior12.clip(upper=3).map(lambda b: "3+" if b >= 3 else str(b))
    a["complete"] = a.back >= pd.Timestamp("2019-01-01")
    want = a.groupby(["bucket", "complete"]).agg(assessments=("prior12", "size"),
                                                 nfa=("outcome", lambda o: (o == "nfa").sum()))
    got = flow.nfa_by_prior(ws, "england", cap=3, lookback_months=12, data_start="2019-01-01")
    got = got.set_index(["previous_referrals", "complete"])
    assert got[["assessments", "nfa"]].sort_index().to_dict() == want.sort_index().to_dict()


def test_s47_outcomes(write_episodes):
    rows = _referral_rows(7)
    ws = write_episodes(rows)
    df = episodes_frame(rows)
    sd = df[df.stage == "strategy_discussion"]
    s47 = df[df.stage == "s47"].set_index("need_id")
    icpc = df[df.stage == "icpc"].set_index("need_id")
    got = flow.s47_outcomes(ws, "england")
    step = {s: g.set_index("outcome")["n"].to_dict() for s, g in got.groupby("step")}
    assert step["strategy_discussion"] == sd.need_id.isin(s47.index).map({True: "s47", False: "nfa"}).value_counts().to_dict()
    assert step["s47"] == s47.outcome.value_counts().to_dict()
    assert step["icpc"] == icpc.outcome.value_counts().to_dict()
    final = [icpc.outcome[n] if n in icpc.index else s47.outcome[n] if n in s47.index else "nfa" for n in sd.need_id]
    assert step["final"] == pd.Series(final).value_counts().to_dict()


def test_before_after_z_and_fisher(write_episodes):
    rows = []
    rng = np.random.default_rng(2)
    for i in range(400):
        day = pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(rng.integers(0, 730)))
        p = 0.5 if day < pd.Timestamp("2023-01-01") else 0.3
        rows.append((f"c{i}", "assessment", day, day + pd.Timedelta(days=20), "nfa" if rng.random() < p else "cin_plan",
                     f"n{i}"))
    ws = write_episodes(rows)
    got = flow.before_after(ws, "england", at="2023-01-01").set_index("period")
    df = episodes_frame(rows)
    before = df[df.start < "2023-01-01"]
    after = df[df.start >= "2023-01-01"]
    k = [(before.outcome == "nfa").sum(), (after.outcome == "nfa").sum()]
    n = [len(before), len(after)]
    assert got.loc["before", "converted"] == k[0] and got.loc["after", "stays"] == n[1]
    from scipy.stats import hypergeom
    from statsmodels.stats.proportion import proportions_ztest

    z, p = proportions_ztest([k[1], k[0]], [n[1], n[0]])
    assert got.loc["after", "z"] == pytest.approx(z) and got.loc["after", "p_z"] == pytest.approx(p)
    # Fisher's exact two-sided p: the tables as or less likely than the one seen
    dist = hypergeom(sum(n), sum(k), n[0])
    probs = dist.pmf(np.arange(0, min(n[0], sum(k)) + 1))
    p_fisher = probs[probs <= dist.pmf(k[0]) * (1 + 1e-7)].sum()
    assert got.loc["after", "p_fisher"] == pytest.approx(p_fisher, rel=1e-6)
    assert got.loc["after", "difference"] < 0


def test_cli_flow_tables(write_episodes, tmp_path):
    ws = write_episodes(_referral_rows(9))
    path = str(ws.path)
    ws.close()
    runner = CliRunner()
    res = runner.invoke(cli, ["flow", path, "dfg", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)["rows"]
    assert {"source", "target", "transitions", "cases", "mean_days", "median_days"} <= set(rows[0])
    out = tmp_path / "s.csv"
    res = runner.invoke(cli, ["flow", path, "stations", "--map", "front_door", "--from", "2019-04-01",
                              "--to", "2020-03-31", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out, comment="#").station.tolist()[:2] == ["contact", "referral"]
    for table in ("conversion", "durations", "variants", "caseload", "rereferrals", "nfa-by-prior", "s47-outcomes"):
        res = runner.invoke(cli, ["flow", path, table, "--where", "repeat=1"])
        assert res.exit_code == 0 and res.output.strip(), (table, res.output)
    res = runner.invoke(cli, ["flow", path, "before-after", "--at", "2021-01-01"])
    assert res.exit_code == 0 and "before" in res.output
    bad_map = tmp_path / "bad.yaml"
    bad_map.write_text("stations:\n  - {id: a, x: one}\n")
    for args, words in (
        (["--map", str(bad_map)], "line 2"),
        (["--where", "colour=red"], "cannot filter on 'colour'"),
        (["--from", "yesterday-ish"], "not a date"),
    ):
        res = runner.invoke(cli, ["flow", path, "dfg", *args])
        assert res.exit_code == 1 and words in res.output and "Traceback" not in res.output, res.output


def test_rereferral_is_counted_by_day_in_the_table_and_the_teams_statistic(write_episodes):
    """A referral at 09:00 a year to the day after one at 08:00 is within 12 months (the look-back
    counts days, not hours): the flow table and the teams' statistic, reading one set of flags,
    both count it; a referral one day over the year is not a re-referral in either."""
    from cscflow.analytics.ready import team_counts

    rows = [("a", "referral", "2020-06-01 08:00", "2020-06-01 09:00", "nfa", "n1", "North"),
            ("a", "referral", "2021-06-01 09:00", "2021-06-01 10:00", "nfa", "n2", "North"),
            ("b", "referral", "2020-06-01 08:00", "2020-06-01 09:00", "nfa", "m1", "South"),
            ("b", "referral", "2021-06-02 07:00", "2021-06-02 08:00", "nfa", "m2", "South")]
    ws = write_episodes(rows)
    table = flow.rereferrals(ws, data_start="2019-01-01").set_index("year")
    assert table.loc["2021-22", "referrals"] == 2 and table.loc["2021-22", "within_12"] == 1
    teams = team_counts(ws, "rereferral", 2022).set_index("team")
    assert teams["numerator"].to_dict() == {"North": 1, "South": 0}
    assert teams["denominator"].to_dict() == {"North": 1, "South": 1}
