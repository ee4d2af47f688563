"""Unaccompanied asylum-seeking children as a group of their own in the fitted model (cells by group, age band and
repeat; durations by group and age band; a cell shrunk to its group's shares), on hand-made rows and on the
30,000-child synthetic county, whose UASC (145 children aged 14-17, a surge from July 2015) all go from their
assessment into care and stay there to 18 or 21."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cscflow.forecast import estimate as est
from cscflow.forecast.model import ForecastModel
from cscflow.forecast.stays import cut


def test_a_cell_is_shrunk_to_its_groups_shares():
    # station 0, two groups of 2 cells: group 0 (cells 0, 1) 100 stays to target 0; group 1 (cells 2, 3): cell 2 has
    # 40 stays, all to target 1, cell 3 only 2 of them
    cell = np.r_[np.zeros(100, int), np.full(40, 2), np.full(2, 3)]
    target = np.r_[np.zeros(100, int), np.ones(42, int)]
    n = len(cell)
    args = (np.zeros(n, int), cell, target, np.ones(n), np.full(n, 1e6), np.ones(n), 1, 4, 2)
    one = est.transitions(*args)
    two = est.transitions(*args, n_groups=2)
    pooled_1 = 42 / 142
    assert one[0, 3, 1] == pytest.approx((2 + 10 * pooled_1) / 12)  # to the station's pooled shares
    group_1 = (42 + 10 * pooled_1) / 52
    assert two[0, 3, 1] == pytest.approx((2 + 10 * group_1) / 12)  # to its group's, themselves shrunk
    assert two[0, 3, 1] > 0.85 > 0.5 > one[0, 3, 1]
    assert two[0, 0, 0] > one[0, 0, 0] > 0.97  # the other group, shrunk to its own shares too
    # one group: the station's pooled shares, as before
    assert np.allclose(est.transitions(*args, n_groups=1), one)


def test_stays_carry_the_uasc_flag_unknown_is_not():
    tl = pd.DataFrame({"child_id": ["a", "b", "c"], "seq": 1, "station": "contact",
                       "start": pd.to_datetime(["2016-01-04"] * 3), "end": pd.to_datetime(["2016-01-04"] * 3),
                       "kind": "stay", "repeat": 1})
    kids = pd.DataFrame({"child_id": ["a", "b", "c"], "birth_month": pd.Timestamp("2000-01-01"),
                         "uasc": [True, False, None]})
    s = cut(tl, kids, pd.Timestamp("2016-12-31"))
    assert s.set_index("child_id")["uasc"].to_dict() == {"a": True, "b": False, "c": False}
    assert not cut(tl, kids.drop(columns="uasc"), pd.Timestamp("2016-12-31"))["uasc"].any()


@pytest.fixture(scope="module")
def both(county_and_ws):
    ws = county_and_ws[2]
    return ForecastModel(n_boot=12, seed=1).fit(ws), ForecastModel(n_boot=12, seed=1, uasc=False).fit(ws)


def test_uasc_go_into_care_and_the_other_older_children_do_not(county_and_ws, both):
    """Every UASC's assessment ends in care; the other children's rarely do (3% over all ages). Without the group
    the 16-plus first episodes read 18-26% into care (the surge's), the 11-15s 9-12%."""
    grouped, pooled = both
    assert grouped.n_groups_ == 2 and pooled.n_groups_ == 1
    k, care = grouped.stations_.index("assessment"), grouped.targets_.index("looked_after")
    uasc_cells = [(1 * 4 + 2) * 2, (1 * 4 + 3) * 2]  # group 1, ages 11-15 and 16 plus, first episode
    assert (grouped.trans_[:, k, uasc_cells, care] > 0.9).all()
    # the other children: their own share, from the county's journeys (the truth of the synthetic county)
    params, county, _ = county_and_ws
    j = county.journeys
    uasc = set(county.children.loc[county.children["uasc"], "child_id"])
    a = j[(j["stage"] == "assessment") & j["end"].notna() & (j["start"] >= grouped.cells_from_)
          & ~j["child_id"].isin(uasc)]
    truth = float((a["outcome"] == "looked_after").mean())
    older = grouped.trans_[:, k, [(0 * 4 + 2) * 2, (0 * 4 + 3) * 2], care]
    assert older.max() < 3 * truth + 0.02, (older, truth)
    assert pooled.trans_[0, k, (0 * 4 + 3) * 2, care] > 0.15  # the surge read as the older children's demand


def test_uasc_stay_in_care_to_18(both):
    """The UASC's periods of care last to 18 (their ends at 18 censored): the group's durations are read apart."""
    grouped, pooled = both
    c = grouped.stations_.index("looked_after")
    n_d = grouped.dur_q_.shape[1] // len(grouped.stations_)
    median = grouped.dur_q_[0, c * n_d:(c + 1) * n_d, 100]
    assert median[4 + 3] > 700 and median[3] < 400, median  # UASC 16 plus against the others of 16 plus
    assert pooled.dur_q_[0, c * 4 + 3, 100] > 2 * median[3]  # pooled, the UASC lengthen the others' stays


def test_uasc_arrivals_are_a_level_of_their_own():
    """A surge of UASC arrivals (20 a month for 9 months after two years at 2) is forgotten at the pace the series
    shows: the level after it returns towards 2 a month, where a share of the entry mix carries it for a year; a
    steady series keeps its mean (discount 1)."""
    from cscflow.forecast.level import fit_count_level

    rng = np.random.default_rng(5)
    surge = np.r_[rng.poisson(2, 24), rng.poisson(20, 9), rng.poisson(2, 9)].astype(float)
    lvl = fit_count_level(surge)
    assert lvl.discount < 0.9 and 1.0 < lvl.mean < 4.0, lvl
    assert lvl.mean < surge.mean() / 2  # the mean of the window (what a share of it carries) is 6
    y = rng.poisson(5, 48).astype(float)
    steady = fit_count_level(y)
    assert steady.discount == 1.0 and steady.mean == pytest.approx(y.mean(), rel=1e-9)


def test_each_simulation_draws_uasc_at_their_own_level(both):
    """The simulated arrivals: UASC one by one at each simulation's draw of their level (mean the fitted level), in
    the UASC's own cells; the other children in theirs; a what-if on arrivals scales both."""
    from cscflow.forecast.simulate import WhatIf, _arrivals

    grouped, _ = both
    months = pd.period_range(grouped.origin_.to_period("M") + 1, periods=12, freq="M")
    n_sims = 400
    rep = np.random.default_rng(0).integers(1, grouped.trans_.shape[0], n_sims)
    n_c = grouped.trans_.shape[2]

    def uasc_a_month(scale: float) -> tuple[float, np.ndarray]:
        g_sim, g_mon, k, size = _arrivals(grouped, months, rep, np.random.default_rng(1), WhatIf(arrivals=scale))
        assert np.all(np.diff(g_sim) >= 0)  # in simulation order
        is_uasc = (k % n_c) >= n_c // 2
        assert (size[is_uasc] == 1).all()
        return float(is_uasc.sum()) / (n_sims * 12), g_sim

    mean, _ = uasc_a_month(1.0)
    assert mean == pytest.approx(grouped.uasc_level_.mean, rel=0.1), (mean, grouped.uasc_level_)
    assert uasc_a_month(2.0)[0] == pytest.approx(2 * grouped.uasc_level_.mean, rel=0.1)
    # the UASC's own what-if: their arrivals only (the CLI's "uasc=-50%")
    from cscflow.cli.forecast import parse_what_if

    wi = parse_what_if(("uasc=-50%",))
    assert (wi.uasc, wi.arrivals) == (0.5, 1.0)
    g_sim, _, k, size = _arrivals(grouped, months, rep, np.random.default_rng(1), wi)
    is_uasc = (k % n_c) >= n_c // 2
    assert is_uasc.sum() / (n_sims * 12) == pytest.approx(0.5 * grouped.uasc_level_.mean, rel=0.1)
    _, _, k_all, size_all = _arrivals(grouped, months, rep, np.random.default_rng(1), WhatIf())
    other = size[~is_uasc].sum() / size_all[(k_all % n_c) < n_c // 2].sum()
    assert other == pytest.approx(1.0, rel=0.03)  # the other children's arrivals as they were
