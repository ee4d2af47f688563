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


def test_each_simulation_draws_its_own_split_between_the_groups():
    """The UASC's share of the entries varies as a Beta about the mix's (variance P (1 - P) rho); within a group the
    cells keep their proportions."""
    from types import SimpleNamespace

    from cscflow.forecast.simulate import vary_groups

    share = np.array([0.5, 0.3, 0.15, 0.05])  # one station, 2 groups of 2 cells
    model = SimpleNamespace(n_groups_=2, group_rho_=0.01, trans_=np.zeros((1, 1, 4, 3)), entry_share_=share[None, :])
    mix = np.tile(share, (20000, 1))
    out = vary_groups(model, mix, np.random.default_rng(0))
    uasc = out[:, 2:].sum(1)
    assert np.allclose(out.sum(1), 1.0)
    assert uasc.mean() == pytest.approx(0.2, abs=0.002)
    assert uasc.var() == pytest.approx(0.2 * 0.8 * 0.01, rel=0.05)
    assert np.allclose(out[:, 2] / uasc, 0.75) and np.allclose(out[:, 0] / out[:, :2].sum(1), 0.5 / 0.8)
    model.group_rho_ = 0.0
    assert vary_groups(model, mix, np.random.default_rng(0)) is mix
