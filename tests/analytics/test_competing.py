"""Aalen-Johansen cumulative incidence against a hand computation (1e-12), statsmodels'
CumIncidenceRight (exact with ties, independent code) and the product of transition matrices
(a different route to the same estimator) with late entry."""

from __future__ import annotations

from fractions import Fraction as Fr

import numpy as np
import pytest
from statsmodels.duration.survfunc import CumIncidenceRight

from cscflow.analytics.competing import CumulativeIncidence
from cscflow.analytics.survival import KaplanMeier
from cscflow.errors import AnalysisError


def test_hand_computation_with_ties_and_day_zero():
    # 8 children; two leave on day 0 (home, adoption); day 1: two home and one censored;
    # day 3: one SGO and one home; day 5 censored.
    t = [0, 0, 1, 1, 1, 3, 3, 5]
    r = ["home", "adoption", "home", "home", None, "sgo", "home", None]
    # by hand: n(0)=8 -> F_home=1/8, F_adopt=1/8, S=6/8
    #          n(1)=6 -> F_home += (6/8)(2/6) = 3/8, S = 6/8 * 4/6 = 1/2
    #          n(3)=3 -> F_home += (1/2)(1/3) = 13/24, F_sgo = (1/2)(1/3) = 1/6, S = 1/6
    expect = {
        0: {"home": Fr(1, 8), "adoption": Fr(1, 8), "sgo": Fr(0)},
        1: {"home": Fr(3, 8), "adoption": Fr(1, 8), "sgo": Fr(0)},
        3: {"home": Fr(13, 24), "adoption": Fr(1, 8), "sgo": Fr(1, 6)},
        5: {"home": Fr(13, 24), "adoption": Fr(1, 8), "sgo": Fr(1, 6)},
    }
    ci = CumulativeIncidence().fit(t, r)
    for day, vals in expect.items():
        got = ci.at(day)
        for route, v in vals.items():
            assert abs(got[route] - float(v)) < 1e-12, (day, route)
    assert abs(ci.survival_.loc[3.0] - 1 / 6) < 1e-12
    assert ci.event_table_.loc[1.0, "censored"] == 1 and ci.event_table_.loc[0.0, "at_risk"] == 8


def _tied(seed, n=500):
    rng = np.random.default_rng(seed)
    t = np.floor(rng.exponential(200, n))
    t[:20] = 0  # day-0 leavers
    routes = rng.choice(["home", "sgo", "adoption", "18+", "other", None], n, p=[0.35, 0.15, 0.1, 0.1, 0.1, 0.2])
    return t, routes, rng


def test_equals_statsmodels_cumincidence_with_ties_and_day_zero():
    t, routes, _ = _tied(1)
    ci = CumulativeIncidence().fit(t, routes)
    codes = np.array([0 if r is None else 1 + ci.causes_.index(r) for r in routes])
    sm = CumIncidenceRight(t, codes)
    assert len(set(t)) < len(t)
    for j, name in enumerate(ci.causes_):
        ours = ci.at(sm.times)[name].to_numpy()
        assert np.max(np.abs(ours - sm.cinc[j])) < 1e-12
        se = ci.standard_error_[name].reindex(sm.times).to_numpy()
        ok = np.isfinite(sm.cinc_se[j])
        assert np.max(np.abs(se[ok] - sm.cinc_se[j][ok])) < 1e-9


def _transition_matrix_route(t, codes, entry, k):
    """Aalen-Johansen as the product of (I + dA(u)) over event times (multi-state form)."""
    p = np.zeros(k + 1)
    p[0] = 1.0
    out = {}
    for u in np.unique(t[codes > 0]):
        n = np.sum((entry < u) & (u <= t))
        da = np.zeros((k + 1, k + 1))
        for j in range(1, k + 1):
            da[0, j] = np.sum((t == u) & (codes == j) & (entry < u)) / n
        da[0, 0] = -da[0, 1:].sum()
        p = p @ (np.eye(k + 1) + da)
        out[u] = p[1:].copy()
    return out


def test_late_entry_equals_transition_matrix_product():
    t, routes, rng = _tied(2, n=300)
    entry = np.floor(rng.uniform(0, 0.6, len(t)) * t) - 0.5  # day-level, before exit
    ci = CumulativeIncidence().fit(t, routes, entry=entry)
    codes = np.array([0 if r is None else 1 + ci.causes_.index(r) for r in routes])
    ref = _transition_matrix_route(t, codes, entry, len(ci.causes_))
    for u, vals in ref.items():
        assert np.max(np.abs(ci.at(u).to_numpy() - vals)) < 1e-12


def test_routes_sum_to_one_minus_all_cause_kaplan_meier():
    t, routes, _ = _tied(3)
    ci = CumulativeIncidence().fit(t, routes)
    left = np.array([r is not None for r in routes])
    km = KaplanMeier().fit(t, left)
    total = ci.cumulative_incidence_.sum(axis=1).to_numpy()
    assert np.max(np.abs(total - (1 - km.survival_at(ci.cumulative_incidence_.index.to_numpy())))) < 1e-12


def test_intervals_summary_and_plot():
    t, routes, _ = _tied(4)
    ci = CumulativeIncidence().fit(t, routes)
    lo, hi = ci.confidence_interval_["lower"], ci.confidence_interval_["upper"]
    est = ci.cumulative_incidence_
    assert ((lo <= est + 1e-12) & (est <= hi + 1e-12)).all().all()
    assert ci.summary["leavers"].sum() == sum(r is not None for r in routes)
    assert len(ci.plot().data) == 3 * len(ci.causes_)
    assert set(ci.curves()["route"]) == set(ci.causes_)


def test_errors():
    with pytest.raises(AnalysisError, match="no child left"):
        CumulativeIncidence().fit([1, 2], [None, None])
    with pytest.raises(AnalysisError, match="not among the causes"):
        CumulativeIncidence().fit([1, 2], ["home", "x"], causes=["home"])


def _naive_cif_with_entry(t, codes, entry, k):
    """Aalen-Johansen written out longhand: at risk at u when entry < u <= t (delayed entry)."""
    s, cif, out = 1.0, np.zeros(k), {}
    for u in np.unique(t[codes > 0]):
        n = ((entry < u) & (u <= t)).sum()
        here = (t == u) & (entry < u)
        for j in range(k):
            cif[j] += s * (here & (codes == j + 1)).sum() / n
        s *= 1 - (here & (codes > 0)).sum() / n
        out[u] = cif.copy()
    return out


def test_delayed_entry_equals_a_naive_reference_and_lifelines():
    """Day-level times with ties and entries tying exits against the longhand reference; continuous
    times (no ties) against lifelines' AalenJohansenFitter with entry=, route by route."""
    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(11)
    n = 400
    t = np.floor(rng.exponential(300, n)) + 1
    entry = np.where(rng.random(n) < 0.4, np.floor(rng.uniform(0, 1, n) * t), -1.0)
    codes = np.where(rng.random(n) < 0.2, 0, rng.integers(1, 4, n))
    names = np.array([None, "home", "sgo", "18+"], dtype=object)[codes]
    ci = CumulativeIncidence().fit(t, names, entry=entry, causes=["home", "sgo", "18+"])
    ref = _naive_cif_with_entry(t, codes, entry, 3)
    worst = max(abs(ci.at(u).to_numpy() - v).max() for u, v in ref.items())
    assert worst < 1e-12
    assert ci.event_table_["at_risk"].max() < n  # late entrants are not at risk from day 0
    assert "entered the risk set late" in ci.method_

    tc = rng.exponential(300, n) + 1
    ec = np.where(rng.random(n) < 0.4, rng.uniform(0, 0.9, n) * tc, 0.0)
    mine = CumulativeIncidence().fit(tc, names, entry=ec, causes=["home", "sgo", "18+"])
    grid = np.quantile(tc, [0.1, 0.3, 0.5, 0.7, 0.9])
    for j, route in enumerate(["home", "sgo", "18+"], start=1):
        aj = AalenJohansenFitter(calculate_variance=False).fit(tc, codes, event_of_interest=j, entry=ec)
        lf = aj.cumulative_density_.iloc[:, 0]
        want = lf.reindex(lf.index.union(grid)).ffill().loc[grid].to_numpy()
        assert np.allclose(mine.at(grid)[route].to_numpy(), want, atol=1e-9), route
    # without delayed entry the late entrants would count as at risk from 0: a different curve
    naive = CumulativeIncidence().fit(tc, names, causes=["home", "sgo", "18+"])
    assert abs(naive.at(grid[2])["home"] - mine.at(grid[2])["home"]) > 1e-3
