"""Recovery of the synthetic county's truth and parameters by the analytics, on a real workspace.

The county preset is simulated once (``cscflow.synth.simulate``); its true stays are written by
the synth events writer (``events.frame``, the stages the analyses read) to ``events.parquet``
and loaded with ``cscflow.sources.load`` into a DuckDB workspace. An event log carries no dates
of birth, so the children's birth months are added from the truth as an LA's demographic
extract would (the 1st of the month of birth, as the loader stores them).

Two kinds of reference:

* the truth itself, computed naively in the test (pandas on ``county.journeys``): exact;
* what the parameters imply (``test_recovery_model``, derived from ``county.parameters`` with
  scipy): within 4 standard errors of the estimate (Greenwood for survival, the delta method
  for cumulative incidence).

Periods of care that began before the history the county keeps (``history_years`` before
``start``) are in the data only because they lasted (length bias), so the recovery of the
parameters uses the periods that began from then on: their follow-up is complete up to ``end``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_recovery_model import ROUTES, implied_cif

from cscflow.analytics import CumulativeIncidence, KaplanMeier, ready, run
from cscflow.analytics.incidence import cohort_size_from_population, cumulative_incidence_by_cohort

pytestmark = pytest.mark.slow
SEED = 2024  # the seed of tests/synth/test_recovery.py
Z = 4.0  # tolerance in standard errors
STAGES = ["referral", "assessment", "cp_plan", "looked_after"]
DAY = np.timedelta64(1, "D")


@pytest.fixture(scope="module")
def county():
    from cscflow.synth import simulate

    return simulate("county", seed=SEED)


@pytest.fixture(scope="module")
def ws_path(county, tmp_path_factory):
    from cscflow import Workspace
    from cscflow.sources import load
    from cscflow.synth.truth import write_parquet
    from cscflow.synth.writers import events

    out = tmp_path_factory.mktemp("county")
    log = events.frame(county)
    write_parquet(log[log["stage"].isin(STAGES)], out / "events.parquet")
    path = out / "ws"
    with Workspace(path, la=county.la) as ws:
        report = load(ws, [out / "events.parquet"])[0]
        assert report.rows_quarantined == 0
        kids = ws.execute(ws.table("children"))
        truth = county.children
        birth = pd.Series(pd.to_datetime(truth["birth_date"]).dt.to_period("M").dt.start_time.dt.date.to_numpy(),
                          index=ws.pseudonymise(truth["child_id"]))
        kids["birth_month"] = kids["child_id"].map(birth)
        ws.write("children", kids, mode="replace")
    return path


@pytest.fixture(scope="module")
def ws(ws_path):
    from cscflow import Workspace

    with Workspace(ws_path, read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def window(county):
    p = county.parameters
    start = pd.Timestamp(p["start"])
    return start - pd.Timedelta(days=int(p["history_years"] * 365.25)), pd.Timestamp(p["end"])


@pytest.fixture(scope="module")
def truth_periods(county):
    """Periods of care from the truth: consecutive looked_after stays until an RNE 'S'."""
    j = county.journeys
    la = j[j["stage"] == "looked_after"].copy()
    attrs = la["attrs"].map(json.loads)
    for key in ("rne", "legal_status", "rec"):
        la[key] = attrs.map(lambda d, k=key: d.get(k))
    la = la.sort_values(["child_id", "start"], kind="stable")
    la["period"] = (la["rne"] == "S").groupby(la["child_id"]).cumsum()
    g = la.groupby(["child_id", "period"], sort=False)
    per = pd.DataFrame({"start": g["start"].first(), "end": g["end"].nth(-1).to_numpy(),
                        "rec": g["rec"].nth(-1).to_numpy(), "outcome": g["outcome"].nth(-1).to_numpy(),
                        "entry_status": g["legal_status"].first()}).reset_index()
    kids = county.children.set_index("child_id")
    per["uasc"] = kids.loc[per["child_id"], "uasc"].to_numpy(bool)
    per["birth"] = pd.to_datetime(kids.loc[per["child_id"], "birth_date"]).to_numpy()
    return per


def _naive_km(durations: np.ndarray, left: np.ndarray, entry: np.ndarray | None = None) -> pd.Series:
    """Product-limit estimate at each distinct duration, written out longhand (at risk at t:
    entry < t <= duration; no entry: from day 0 inclusive)."""
    entry = np.full(len(durations), -1.0) if entry is None else entry
    out, s = {}, 1.0
    for t in np.unique(durations):
        at_risk = ((entry < t) & (durations >= t)).sum()
        d = (left & (durations == t) & (entry < t)).sum()
        if at_risk:
            s *= 1 - d / at_risk
        out[t] = s
    return pd.Series(out)


def _log_window(ws, window) -> pd.Timestamp:
    """The event log's window start (the one data start, journeys.windows): the month of the
    county's history cut, not the first date of the thin tail of periods that lasted from before."""
    history, _ = window
    first = pd.Timestamp(ready.source_windows(ws)["start"].iloc[0])
    assert abs(first - history) <= pd.Timedelta(days=31), (first, history)
    return first


def _durations(per: pd.DataFrame, as_of: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    left = (per["end"].notna() & (per["end"] <= as_of)).to_numpy()
    end = per["end"].where(left, as_of)
    return ((end - per["start"]) / DAY).to_numpy(float), left


# -- (1) time in care ------------------------------------------------------------------------

def test_leaving_care_curve_equals_the_truth(ws, truth_periods, window):
    """The default curve from the event log = a longhand product-limit on the truth's periods, those
    begun before the log's window entering late at its start (left truncation)."""
    _, end = window
    km = ready.leaving_care(ws, as_of=end)
    _, dur, left, entry = _late_entry_truth(truth_periods, _log_window(ws, window), end)
    ref = _naive_km(dur, left, entry)
    assert np.allclose(km.survival_at(ref.index.to_numpy()), ref.to_numpy(), rtol=0, atol=1e-12)
    median = float(ref.index[np.argmax(ref.to_numpy() <= 0.5)])
    assert km.median_ == median


def _cohort(truth_periods, window):
    first, end = window
    per = truth_periods[truth_periods["start"] >= first]
    kind = np.where(per["uasc"], "uasc", np.where(per["entry_status"] == "C1", "court",
                                                   np.where(per["entry_status"] == "L2", "L2", "s20")))
    # every period ends on the 18th birthday: dob + int(18 * 365.25) days in the simulation
    to18 = ((per["birth"] + pd.Timedelta(days=int(18 * 365.25)) - per["start"].dt.normalize()) / DAY).to_numpy(int)
    return per, kind, to18


def test_median_time_in_care_recovers_the_parameters(ws, county, truth_periods, window):
    first, end = window
    per = ready.periods_of_care(ws)
    per = per[per["start"] >= first]
    dur, left = _durations(per, end)
    km = KaplanMeier().fit(dur, left)
    tp, kind, to18 = _cohort(truth_periods, window)
    assert len(tp) == len(per)
    grid = np.arange(0, 3000)
    implied = 1 - sum(implied_cif(county.parameters, kind, to18, grid).values())
    m = int(grid[np.argmax(implied <= 0.5)])
    # standard error of the median: Greenwood's se of S at the median over the density there
    density = (implied[m - 30] - implied[m + 30]) / 60
    var = km.variance_.reindex(km.variance_.index.union([float(m)])).ffill().loc[float(m)]
    se = float(np.sqrt(var)) / density
    msg = f"median time in care {km.median_} days, parameters imply {m} ± {Z * se:.1f} (n={len(per)})"
    print(msg)
    assert abs(km.median_ - m) <= Z * se, msg
    for t in (90, 365, 730, 1460):
        s, v = km.survival_at(t)[0], km.variance_.reindex(km.variance_.index.union([float(t)])).ffill().loc[float(t)]
        assert abs(s - implied[t]) <= Z * np.sqrt(v), f"S({t}) = {s:.4f}, implied {implied[t]:.4f}"


# -- (1b) the default leaving-care curve from the SSDA903 returns alone ----------------------------------

@pytest.fixture(scope="module")
def ws903(county, tmp_path_factory):
    """The county's SSDA903 returns (one folder per collection year), loaded alone."""
    from cscflow import Workspace
    from cscflow.sources import load
    from cscflow.synth.writers import ssda903

    out = tmp_path_factory.mktemp("county903")
    ssda903.write(county, out, np.random.default_rng([SEED, 903]))
    with Workspace(out / "ws", la=county.la) as w:
        load(w, [out / "ssda903"])
    with Workspace(out / "ws", read_only=True) as w:
        yield w


def _late_entry_truth(truth_periods, first, end):
    """The truth's periods as the returns see them: those open at some time from ``first`` (the
    first return's 1 April) to ``end``, timed from their true start, entering late at ``first``."""
    per = truth_periods[(truth_periods["start"] <= end) & (truth_periods["end"].isna()
                                                            | (truth_periods["end"] >= first))]
    dur, left = _durations(per, end)
    entry = ((per["start"].clip(lower=first) - per["start"]) / DAY).to_numpy(float) - 1  # in view from `first`
    return per, dur, left, entry


def test_default_leaving_care_from_the_returns_is_the_truths(ws903, county, truth_periods):
    from lifelines import KaplanMeierFitter

    years = county.census_years()
    first, end = pd.Timestamp(years[0] - 1, 4, 1), pd.Timestamp(years[-1], 3, 31)
    _, dur, left, entry = _late_entry_truth(truth_periods, first, end)
    truth = KaplanMeierFitter().fit(dur, left, entry=np.maximum(entry, 0)).median_survival_time_
    km = ready.leaving_care(ws903)  # the default: no option
    old = ready.leaving_care(ws903, truncate=False).median_
    print(f"median time in care: {km.median_} days by default, {old} without late entry, truth {truth}")
    assert abs(km.median_ - truth) <= 0.10 * truth, (km.median_, truth)
    assert abs(old - truth) > 0.10 * truth  # the length bias the default removes
    assert f"{first:%Y-%m-%d} (start of the SSDA903 returns" in km.method_ and f"censored at {end:%Y-%m-%d}" in km.method_


def test_default_routes_from_the_returns_are_the_truths(ws903, county, truth_periods):
    """Aalen-Johansen with delayed entry on the returns against a longhand computation on the truth's
    periods (the same late entry): within 4 standard errors at 1, 2 and 4 years, route by route."""
    years = county.census_years()
    first, end = pd.Timestamp(years[0] - 1, 4, 1), pd.Timestamp(years[-1], 3, 31)
    per, dur, left, entry = _late_entry_truth(truth_periods, first, end)
    route = (per["rec"].map(ready.ROUTE_OF_REC).fillna(per["outcome"].map(ready.ROUTE_OF_OUTCOME))
             .fillna("other").to_numpy(object))
    ci = ready.routes_out_of_care(ws903)
    s, cif, at = 1.0, dict.fromkeys(ci.causes_, 0.0), {}
    for t in np.unique(dur[left]):
        n = ((entry < t) & (t <= dur)).sum()
        here = left & (dur == t) & (entry < t)
        for r in ci.causes_:
            cif[r] += s * (here & (route == r)).sum() / n
        s *= 1 - here.sum() / n
        at[t] = dict(cif)
    times = np.array(sorted(at))
    for day in (365, 730, 1460):
        want = at[times[times <= day].max()]
        got = ci.at(day)
        for r in ci.causes_:
            se = float(ci.standard_error_[r].loc[:day].iloc[-1])
            assert abs(got[r] - want[r]) <= Z * max(se, 1e-3), (day, r, got[r], want[r], se)


# -- (2) routes out of care ----------------------------------------------------------------------

def _routes_fit(ws, window):
    first, end = window
    per = ready.periods_of_care(ws)
    per = per[per["start"] >= first]
    dur, left = _durations(per, end)
    routes = per["route"].where(left, None).to_numpy(object)
    return CumulativeIncidence().fit(dur, routes, causes=ROUTES), dur


def test_routes_out_of_care_equal_the_truth(ws, truth_periods, window):
    """Aalen-Johansen from the workspace = a longhand computation on the truth periods, with the
    route read from the DfE REC code (SGO codes E41, E45-E48; 18+: E5-E7, E17; else the outcome)."""
    _, end = window
    ci = ready.routes_out_of_care(ws, as_of=end)
    truth_periods, dur, left, entry = _late_entry_truth(truth_periods, _log_window(ws, window), end)
    code = {"E4A": "home", "E4B": "home", "E13": "home", "E11": "adoption", "E12": "adoption",
            "E41": "sgo/cao", "E45": "sgo/cao", "E46": "sgo/cao", "E47": "sgo/cao", "E48": "sgo/cao",
            "E5": "18+", "E6": "18+", "E7": "18+", "E17": "18+"}
    by_outcome = {"returned_home": "home", "permanence": "sgo/cao", "left_care_18": "18+"}
    route = np.array([code.get(r) or by_outcome.get(o) or "other" for r, o in
                      zip(truth_periods["rec"], truth_periods["outcome"], strict=True)], dtype=object)
    s, cif = 1.0, dict.fromkeys(ci.causes_, 0.0)
    for t in np.unique(dur[left]):
        n = ((entry < t) & (dur >= t)).sum()
        here = left & (dur == t) & (entry < t)
        for r in ci.causes_:
            cif[r] += s * (here & (route == r)).sum() / n
        s *= 1 - here.sum() / n
    got = ci.cumulative_incidence_.iloc[-1]
    for r in ci.causes_:
        assert abs(got[r] - cif[r]) < 1e-12, (r, got[r], cif[r])


def _check_route(ci, implied, r, t):
    got = float(ci.at(t)[r])
    se = float(ci.standard_error_[r].reindex(ci.standard_error_.index.union([float(t)])).ffill().loc[float(t)])
    return got, se, abs(got - implied) <= Z * max(se, 1e-3)


def test_route_shares_recover_the_parameters(ws, county, truth_periods, window):
    """Home, adoption and other at 1, 2 years and the end of follow-up; 18+ and SGO/CAO together
    (see the next test for why they are not apart)."""
    ci, dur = _routes_fit(ws, window)
    _, kind, to18 = _cohort(truth_periods, window)
    t_end = int(dur.max())
    times = np.array([365, 730, t_end])
    imp = implied_cif(county.parameters, kind, to18, times)
    rows = []
    for i, t in enumerate(times):
        for r in ("home", "adoption", "other"):
            got, se, ok = _check_route(ci, imp[r][i], r, t)
            rows.append((r, t, got, imp[r][i], se, ok))
        both = float(ci.at(t)["18+"] + ci.at(t)["sgo/cao"])
        se = float(np.hypot(*[ci.standard_error_[r].loc[:t].iloc[-1] for r in ("18+", "sgo/cao")]))
        want = imp["18+"][i] + imp["sgo/cao"][i]
        rows.append(("18+ or sgo/cao", t, both, want, se, abs(both - want) <= Z * np.sqrt(2) * se))
    table = pd.DataFrame(rows, columns=["route", "day", "measured", "implied", "se", "ok"])
    print(table.to_string(index=False))
    assert table["ok"].all(), table[~table["ok"]].to_string(index=False)


def test_sgo_and_18_plus_apart_recover_the_parameters(ws, county, truth_periods, window):
    ci, dur = _routes_fit(ws, window)
    _, kind, to18 = _cohort(truth_periods, window)
    t = int(dur.max())
    imp = implied_cif(county.parameters, kind, to18, np.array([t]))
    for r in ("sgo/cao", "18+"):
        got, se, ok = _check_route(ci, imp[r][0], r, t)
        assert ok, f"{r} by day {t}: measured {got:.4f}, implied {imp[r][0]:.4f} ± {Z * se:.4f}"


# -- (3) cumulative incidence by birth cohort -------------------------------------------------------

@pytest.mark.parametrize("event, stage", [("referral", "referral"), ("cp_plan", "cp_plan"),
                                          ("care", "looked_after")])
def test_incidence_by_birth_cohort_equals_a_direct_count(ws, county, window, event, stage):
    first, end = window
    t = cumulative_incidence_by_cohort(ws, event, data_start=first, as_of=end)
    j = county.journeys
    firsts = j[j["stage"] == stage].groupby("child_id")["start"].min()
    kids = county.children.set_index("child_id")
    birth = pd.to_datetime(kids.loc[firsts.index, "birth_date"])
    month = birth.dt.to_period("M").dt.start_time
    shown = t.dropna(subset=["incidence"])
    assert len(shown) >= 4  # cohorts from the history start, to ages 1 and 5
    worst = 0
    for _, row in shown.iterrows():
        y, a = int(row["birth_year"]), int(row["age"])
        cohort = (birth.dt.year == y).to_numpy()
        n = int((firsts[cohort] < month[cohort] + pd.DateOffset(years=a)).sum())
        exact = int((firsts[cohort] < birth[cohort] + pd.DateOffset(years=a)).sum())
        size = cohort_size_from_population(county.la, y)
        assert row["children"] == n and row["cohort_size"] == size
        assert row["incidence"] == pytest.approx(n / size, rel=1e-12)
        # the 1st of the birth month stands in for the birthday, so only children whose first stay
        # began between the two are left out: few in each cohort
        assert 0 <= exact - n <= 0.06 * exact + 3, (y, a, n, exact)
        worst = max(worst, exact - n)
    print(f"{event}: at most {worst} children a cohort-age cell between birth month and birthday")


# -- (4) funnel plot of the county's teams -----------------------------------------------------------

def test_team_funnel_equals_a_naive_count(ws, county):
    from cscflow.workspace.calendar import bank_holidays

    j = county.journeys
    year = 2017
    lo, hi = pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year, 4, 1)
    a = j[(j["stage"] == "assessment") & j["end"].notna() & (j["end"] >= lo) & (j["end"] < hi)]
    # assessment-45wd is the practices rule: from the latest referral of the same episode of need on or
    # before the assessment (the assessment's own start when there is none) to its authorisation
    ref = j.loc[j["stage"] == "referral", ["need_id", "start"]].rename(columns={"start": "ref"})
    ref["ref"] = ref["ref"].dt.normalize()
    pairs = a.reset_index()[["index", "need_id", "start"]].merge(ref, on="need_id", how="left")
    pairs = pairs[pairs["ref"] <= pairs["start"].dt.normalize()]
    referral = pairs.groupby("index")["ref"].max().reindex(a.index).fillna(a["start"].dt.normalize())
    hol = np.array(bank_holidays(), dtype="datetime64[D]")
    wd = np.busday_count(referral.to_numpy("datetime64[D]") + 1, a["end"].to_numpy("datetime64[D]") + 1,
                         holidays=hol)
    want = {"assessment-45wd": (wd <= 45), "assessment-nfa": (a["outcome"] == "nfa").to_numpy()}
    for measure, hit in want.items():
        fp = ready.team_funnel(ws, measure, year=year)
        naive = pd.DataFrame({"team": a["team"].to_numpy(), "hit": hit}).groupby("team")["hit"].agg(["sum", "size"])
        got = fp.summary.set_index("label")
        assert got["numerator"].to_dict() == naive["sum"].astype(float).to_dict()
        assert got["denominator"].to_dict() == naive["size"].astype(float).to_dict()
        assert fp.target_ == pytest.approx(naive["sum"].sum() / naive["size"].sum(), rel=1e-12)
    # second or later CP plans started in the year, by the plan's team
    cp = j[j["stage"] == "cp_plan"].sort_values(["child_id", "start"], kind="stable")
    cp = cp.assign(k=cp.groupby("child_id").cumcount())
    cp = cp[(cp["start"] >= lo) & (cp["start"] < hi)]
    naive = cp.assign(hit=cp["k"] > 0).groupby("team")["hit"].agg(["sum", "size"])
    got = ready.team_funnel(ws, "cp-repeat", year=year).summary.set_index("label")
    assert got["numerator"].to_dict() == naive["sum"].astype(float).to_dict()
    assert got["denominator"].to_dict() == naive["size"].astype(float).to_dict()
    # the districts share every parameter: none is outside the 99.8% limits on the NFA share
    nfa = ready.team_funnel(ws, "assessment-nfa", year=year)
    assert len(nfa.summary) == len(county.parameters["population"]["districts"])
    assert nfa.outliers_.empty, nfa.outliers_


# -- (5) cscflow stats end to end ------------------------------------------------------------------

def test_stats_cli_csv_matches_the_python_api(ws, ws_path, window, tmp_path):
    from cscflow.cli import cli

    _, end = window
    for analysis, args in (("leaving-care", ["--as-of", str(end.date())]),
                           ("routes", ["--as-of", str(end.date())]),
                           ("teams", ["--measure", "assessment-nfa", "--year", "2017"])):
        out = tmp_path / f"{analysis}.csv"
        r = CliRunner().invoke(cli, ["stats", str(ws_path), analysis, *args, "--out", str(out), "--no-suppress"])
        assert r.exit_code == 0, r.output
        got = pd.read_csv(out, comment="#")  # the method and disclosure header
        opts = {"as_of": str(end.date())} if analysis != "teams" else {"measure": "assessment-nfa", "year": 2017}
        want = run(ws, analysis, **opts).table
        assert list(got.columns) == [str(c) for c in want.columns]
        assert len(got) == len(want)
        for c in want.columns:
            if pd.api.types.is_numeric_dtype(want[c]) and not pd.api.types.is_bool_dtype(want[c]):
                assert np.allclose(got[c].to_numpy(float), want[c].to_numpy(float), rtol=1e-12, equal_nan=True), c
    km = ready.leaving_care(ws, as_of=end)
    curve = pd.read_csv(tmp_path / "leaving-care.csv", comment="#")
    assert curve.loc[curve["survival"] <= 0.5, "time"].min() == km.median_


def test_stats_api_serves_the_team_funnel(ws, ws_path):
    from fastapi.testclient import TestClient

    from cscflow.web import create_app

    with TestClient(create_app(ws_path), base_url="http://127.0.0.1") as client:
        names = {a["name"] for a in client.get("/api/stats").json()["analyses"]}
        assert "teams" in names
        body = client.get("/api/stats/teams", params={"measure": "cp-repeat", "year": "2017"}).json()
        want = ready.team_funnel(ws, "cp-repeat", year=2017).summary
        got = pd.DataFrame(body["rows"])
        assert got["label"].tolist() == want["label"].tolist()
        assert np.allclose(got["value"].astype(float), want["value"], rtol=1e-12)
        assert client.get("/api/stats/teams", params={"measure": "nonsense"}).status_code == 422
