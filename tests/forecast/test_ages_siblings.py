"""Known truths for the model's ages (care ended at 18, care leavers from care) and siblings (groups that move as one)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cscflow.forecast import fit
from cscflow.forecast.ages import BAND_EDGES
from cscflow.forecast.model import ForecastModel
from cscflow.forecast.siblings import design_effect
from cscflow.forecast.simulated_stays import simulate_stays
from cscflow.forecast.stays import load_stays, observation_start


def _grouped_stays(rng: np.random.Generator, mean_extra: float, days: int = 4 * 365) -> tuple[np.ndarray, ...]:
    """Stays at one station over ``days``: groups arrive by day (a weekday pattern and a busy or quiet day, gamma,
    times a Poisson count), 1 + geometric(mean ``mean_extra``) children each, sharing the group's days and next
    step. Few keys (0-3 days, three next steps), so that unrelated children share a key on most days."""
    weekday = np.array([1.3, 1.2, 1.1, 1.0, 1.2, 0.3, 0.2])
    rate = 6.0 * weekday[np.arange(days) % 7] * rng.gamma(4.0, 0.25, days)
    n = rng.poisson(rate / (1.0 + mean_extra))
    day = np.repeat(np.arange(days), n)
    size = rng.geometric(1.0 / (1.0 + mean_extra), len(day))
    g_days = rng.choice(4, len(day), p=[0.4, 0.3, 0.2, 0.1]).astype(float)
    g_next = rng.choice(3, len(day), p=[0.6, 0.3, 0.1])
    return np.repeat(day, size), np.repeat(g_days, size), np.repeat(g_next, size), size


@pytest.mark.parametrize("mean_extra", [0.0, 0.3, 0.6])
def test_design_effect_recovers_known_groups(mean_extra):
    """Groups of 1 + geometric(mu) children: d = 1 + 2 mu (1, 1.6, 2.2), recovered within 0.1 though most days
    hold unrelated children with one key (counting same-day pairs alone would read d near 3)."""
    rng = np.random.default_rng(7)
    day, days, nxt, size = _grouped_stays(rng, mean_extra)
    truth = float((size ** 2).sum() / size.sum())
    assert abs(truth - (1.0 + 2.0 * mean_extra)) < 0.1
    est = design_effect(day.astype(float), days, nxt)
    assert abs(est - truth) < 0.1, (est, truth)
    # the naive count of pairs with one day and key is far off: the chance pairs matter
    _, n = np.unique(np.stack([day, days.astype(int), nxt], 1), axis=0, return_counts=True)
    assert (n ** 2).sum() / n.sum() > truth + 1.0


@pytest.fixture(scope="module")
def county_model(county_and_ws):
    _, county, ws = county_and_ws
    stays, stations, exits = load_stays(ws)
    model = ForecastModel(n_boot=3).fit_stays(stays, stations, exits, observation_start(ws))
    return county, stays, model


def test_siblings_of_the_synthetic_county(county_model):
    """The synthetic county's families share their draws from the referral on: the design effect of the stays that
    began together, lasted as long and went on together, counted with the (hidden) family, is recovered from the
    stays alone within 0.15 at the stations of 1,000 stays or more; in care siblings' stays end apart (pi near 0),
    at the referral they move as one."""
    county, stays, model = county_model
    family = county.children.assign(child_id=county.children["child_id"].astype(str)).set_index("child_id")["family_id"]
    s = stays[stays["end"].notna() & (stays["start"] >= model.obs_start_) & ~stays["entry"]]
    s = s.assign(family=s["child_id"].map(family))
    checked = 0
    for k, station in enumerate(model.stations_):
        x = s[s["station"] == station]
        if len(x) < 1000:
            continue
        g = x.groupby(["family", "start", "end", "next"]).size()
        truth = float((g ** 2).sum() / g.sum())
        assert abs(model.sibling_d_[k] - truth) < 0.15, (station, model.sibling_d_[k], truth)
        checked += 1
    assert checked >= 5
    assert model.together_[model.stations_.index("referral")] > 0.8
    assert model.together_[model.stations_.index("looked_after")] < 0.2
    assert 1.3 < model.design_effect_ < 1.9  # the arrivals' groups: about the referral's 1.6


def test_simulated_groups_move_as_one(county_model):
    """Read back from one long run of the model: the design effect of the simulated referrals is the groups'."""
    _, _, model = county_model
    m = _copy(model)
    m.design_effect_, m.group_mean_ = 2.0, 1.5
    m.together_ = np.ones(len(m.stations_))
    m.open_ = m.open_.iloc[:0]  # the arrivals alone (the children open at the origin are grouped by their keys)
    runs = [simulate_stays(m, 24, seed=s) for s in range(3)]
    est = []
    for r in runs:
        x = r[(r["station"] == "referral") & (r["start"] > 0) & r["next"].notna() & (r["end"] < r.attrs["horizon_days"])]
        est.append(design_effect(x["start"].to_numpy(), (x["end"] - x["start"]).to_numpy(),
                                 pd.factorize(x["next"])[0]))
    assert 1.75 < np.mean(est) < 2.25, est
    m.design_effect_, m.group_mean_ = 1.0, 1.0
    x = simulate_stays(m, 24, seed=0)
    x = x[(x["station"] == "referral") & (x["start"] > 0) & x["next"].notna() & (x["end"] < x.attrs["horizon_days"])]
    assert design_effect(x["start"].to_numpy(), (x["end"] - x["start"]).to_numpy(), pd.factorize(x["next"])[0]) < 1.15


def _copy(model: ForecastModel) -> ForecastModel:
    m = ForecastModel.__new__(ForecastModel)
    m.__dict__.update({k: (v.copy() if hasattr(v, "copy") else v) for k, v in model.__dict__.items()})
    return m


def test_care_leaver_share_recovered(county_model):
    """Every child of the synthetic county who leaves care at 18 becomes a care leaver (share 1); with the care
    leavers' stays of a random 30% of them removed, the share read is 0.7 within sampling error; and those care
    leavers are not arrivals."""
    _, stays, model = county_model
    assert model.care_leaver_share_[0] == pytest.approx(1.0)
    leaver = model.stations_.index("care_leaver")
    assert model.entry_share_[0].reshape(len(model.stations_), -1)[leaver].sum() < 0.01
    kids = stays.loc[(stays["station"] == "care_leaver") & stays["entry"], "child_id"].unique()
    gone = set(np.random.default_rng(1).choice(kids, int(0.3 * len(kids)), replace=False))
    cut = stays[~((stays["station"] == "care_leaver") & stays["child_id"].isin(gone))].reset_index(drop=True)
    cut.attrs = stays.attrs
    m = ForecastModel(n_boot=1).fit_stays(cut, model.stations_, model.exits_, model.obs_start_)
    n = len(kids) * 0.5  # care leavers after care ended at 18 in the window: about half of them
    assert abs(m.care_leaver_share_[0] - 0.7) < 3 * np.sqrt(0.21 / n) + 0.02, (m.care_leaver_share_[0], n)


def test_care_at_18_becomes_care_leaving(county_model):
    """Children in care at the origin who turn 18 within the horizon, long in care (so that few leave earlier):
    each whose care lasts to its 18th birthday leaves care that day and, with share 1, becomes a care leaver then,
    until 21 at most; with share 0 none does; no other stay outlasts the 18th birthday."""
    _, _, model = county_model
    m = _copy(model)
    la = m.stations_.index("looked_after")
    n = 200
    to18 = np.linspace(20.0, 330.0, n)
    m.open_ = pd.DataFrame({"station": la, "cell": 2 * 2, "elapsed": 3000.0, "to_18": to18, "group": np.arange(n)})
    m.arrival_level_ = type(m.arrival_level_)(state=np.array([-30.0, 0.0]), cov=np.zeros((2, 2)),
                                              sigma2_level=0.0, sigma2_irregular=0.0, extra=0.0)  # no arrivals
    for share, want in [(1.0, 1.0), (0.0, 0.0)]:
        m.care_leaver_share_ = np.full(len(m.care_leaver_share_), share)
        s = simulate_stays(m, 12, seed=4)
        care = s[(s["station"] == "looked_after") & (s["child"] < n)]
        reach = care[np.isclose(care["end"], to18[care["child"]])]
        assert len(reach) > n // 2  # most long stays last to 18
        assert (care["end"] <= to18[care["child"]] + 1e-6).all()
        leavers = s[s["station"] == "care_leaver"]
        assert len(leavers) == round(want * len(reach))
        if not len(leavers):  # care ended at 18 leaves by the map's exit for it (drawn on the map's forecast)
            assert (reach["next"] == "left_care_18").all(), reach["next"].value_counts()
        if len(leavers):
            assert set(leavers["child"]) == set(reach["child"])
            assert np.allclose(leavers["start"].to_numpy(), to18[leavers["child"]])
            assert (leavers["end"] <= to18[leavers["child"]] + 3 * 365.25 + 1e-6).all()
            assert (reach["next"] == "care_leaver").all()


def test_a_plan_held_open_past_18_is_not_ended_at_the_origin(county_model):
    """CP plans the data hold open past the child's 18th birthday (a plan never closed: 52 of the demo county's 928
    at 2016-03) were ended at the origin by the cap at 18, while the caseload counted them on: the CP plan forecast
    began 53 below the last month seen. Now they end as CP plans of their elapsed days do, then leave ("other");
    plans within the birth month's 31 days of 18 (the birthday may not have come) end at the origin, as before."""
    _, _, model = county_model
    m = _copy(model)
    cp = m.stations_.index("cp_plan")
    n = 300
    to18 = np.where(np.arange(n) < n // 2, -400.0, -10.0)  # half long past 18, half within the birth month
    m.open_ = pd.DataFrame({"station": cp, "cell": 2 * 2, "elapsed": 200.0, "to_18": to18, "group": np.arange(n)})
    m.arrival_level_ = type(m.arrival_level_)(state=np.array([-30.0, 0.0]), cov=np.zeros((2, 2)),
                                              sigma2_level=0.0, sigma2_irregular=0.0, extra=0.0)  # no arrivals
    s = simulate_stays(m, 12, seed=5)
    plans = s[(s["station"] == "cp_plan") & (s["start"] < 0)].set_index("child")
    past, near = plans.loc[plans.index < n // 2], plans.loc[plans.index >= n // 2]
    assert (near["end"] <= 1e-9).all() and (near["next"] == "other").all()
    assert (past["end"] <= 1.0).mean() < 0.05  # before: every one at day 0
    ended = past[past["next"].notna()]
    assert 0.2 < len(ended) / len(past) < 0.95 and (ended["next"] == "other").all()  # they end over the year
    assert (s["child"] < n).sum() == len(plans)  # and nobody past 18 goes on to another stay


def test_arrivals_ages_within_their_band(county_model):
    """Simulated arrivals' ages are drawn from the entries' ages of their station and band (under 5: the unborn too,
    referred before birth; 16 plus: care leavers to 21)."""
    _, _, model = county_model
    n_a = len(BAND_EDGES)
    for row in range(len(model.age_q_)):
        lo, hi = BAND_EDGES[row % n_a]
        lo = -1.0 if lo == 0 else lo
        q = model.age_q_[row]
        assert (np.diff(q) >= 0).all()
        hi = 21.0 if hi == 18.0 else hi
        assert lo - 0.1 <= q[0] and q[-1] <= hi + 0.1 and lo <= q[len(q) // 2] <= hi, (row, q[0], q[-1])


def test_fit_writes_the_new_terms(county_and_ws, tmp_path):
    import yaml

    model = fit(county_and_ws[2], n_boot=2)
    d = yaml.safe_load(model.save(tmp_path / "m.yaml").read_text())
    assert d["care_leaver_share_after_care_at_18"] == pytest.approx(1.0)
    assert set(d["siblings"]) == {"arrivals_design_effect", "mean_group_size", "stations"}


def test_open_groups_kept_at_the_stations_sibling_rate():
    """Open stays grouped by their key: at a busy station most groups are coincidences (pairs of a stay 3 against a
    moved-together rate d - 1 = 0.3), so a group is kept with probability 0.1; at a quiet one (pairs 0.4, rate 0.6)
    always; in care (d = 1) never."""
    from cscflow.forecast.siblings import open_keep

    station = np.r_[np.zeros(40, int), np.ones(10, int), np.full(10, 2)]
    group = np.r_[np.repeat(np.arange(10), 4), 10, 10, 11, 11, np.arange(12, 18), np.repeat([18, 19], 5)]
    q = open_keep(station, group, np.array([1.3, 1.6, 1.0]))
    assert np.allclose(q, [0.1, 1.0, 0.0])
