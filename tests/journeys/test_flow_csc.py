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
from cscflow.journeys.flow_durations import km_quantiles


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
    rows = _referral_rows(5)
    ws = write_episodes(rows)
    df = episodes_frame(rows)
    r = df[df.stage == "referral"].sort_values(["child_id", "start"])
    prev = r.groupby("child_id")["start"].shift(1)
    w12 = [pd.notna(p) and p >= s - pd.DateOffset(months=12) for p, s in zip(prev, r.start, strict=True)]
    w36 = [pd.notna(p) and p >= s - pd.DateOffset(months=36) for p, s in zip(prev, r.start, strict=True)]
    got = flow.rereferrals(ws, "england")
    total = got[got.year == "all"].iloc[0]
    assert total.referrals == len(r) and total.within_12 == sum(w12) and total.within_36 == sum(w36)
    assert 0 < sum(w12) < sum(w36) < len(r)
    fy = [s.year if s.month >= 4 else s.year - 1 for s in r.start]
    by_year = pd.Series(w12).groupby(fy).sum()
    assert got[got.year != "all"].within_12.tolist() == by_year.tolist()


def test_nfa_by_prior_referrals(write_episodes):
    rows = _referral_rows(6)
    ws = write_episodes(rows)
    df = episodes_frame(rows)
    r = df[df.stage == "referral"].sort_values(["child_id", "start"])
    r["prior"] = r.groupby("child_id").cumcount()
    a = df[df.stage == "assessment"].merge(r[["need_id", "prior"]], on="need_id")
    a["bucket"] = a.prior.clip(upper=3).map(lambda b: "3+" if b >= 3 else str(b))
    want = a.groupby("bucket").agg(assessments=("prior", "size"), nfa=("outcome", lambda o: (o == "nfa").sum()))
    got = flow.nfa_by_prior(ws, "england", cap=3).set_index("previous_referrals")
    assert got[["assessments", "nfa"]].to_dict() == want.to_dict()


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
    rows = json.loads(res.output)
    assert {"source", "target", "transitions", "cases", "mean_days", "median_days"} <= set(rows[0])
    out = tmp_path / "s.csv"
    res = runner.invoke(cli, ["flow", path, "stations", "--map", "front_door", "--from", "2019-04-01",
                              "--to", "2020-03-31", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out).station.tolist()[:2] == ["contact", "referral"]
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
