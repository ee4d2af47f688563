"""A known truth for the routes by duration: an s47 enquiry still open after many days goes on as the enquiries
that lasted as long went on (a conference comes sooner than a decision of no further action)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import lognorm

from cscflow.forecast.model import ForecastModel
from cscflow.forecast.simulate import WhatIf, run, simulate

#: the truth: 40% of enquiries go to a conference after lognormal days (median 12, sigma 0.3), the rest end in no
#: further action after lognormal days (median 30, sigma 0.4); a conference lasts 5 days
P_ICPC, ICPC_DAYS, NFA_DAYS = 0.4, (12.0, 0.3), (30.0, 0.4)
ORIGIN_DAY = 4 * 365


def _days(rng: np.random.Generator, median_sigma: tuple[float, float], n: int) -> np.ndarray:
    median, sigma = median_sigma
    return np.maximum(np.round(median * np.exp(sigma * rng.standard_normal(n))), 1.0)


def _survival(median_sigma: tuple[float, float], e: np.ndarray) -> np.ndarray:
    """P(whole days > e) of :func:`_days` (days rounded: the continuous days beyond e + 0.5)."""
    median, sigma = median_sigma
    out: np.ndarray = lognorm.sf(e + 0.5, s=sigma, scale=median)
    return out


@pytest.fixture(scope="module")
def enquiries() -> tuple[ForecastModel, pd.DataFrame]:
    rng = np.random.default_rng(5)
    start_day = np.repeat(np.arange(ORIGIN_DAY + 1), rng.poisson(8.0, ORIGIN_DAY + 1))
    n = len(start_day)
    icpc = rng.random(n) < P_ICPC
    days = np.where(icpc, _days(rng, ICPC_DAYS, n), _days(rng, NFA_DAYS, n))
    t0 = pd.Timestamp("2012-04-01")
    s47 = pd.DataFrame({"child_id": [f"C{i}" for i in range(n)], "station": "s47",
                        "start": t0 + pd.to_timedelta(start_day, unit="D"),
                        "end": t0 + pd.to_timedelta(start_day + days, unit="D"),
                        "next": np.where(icpc, "icpc", "nfa"), "entry": True})
    conf = s47[icpc].assign(station="icpc", start=lambda d: d["end"], end=lambda d: d["end"] + pd.Timedelta(days=5),
                            next="nfa", entry=False)
    stays = pd.concat([s47, conf], ignore_index=True)
    origin = t0 + pd.Timedelta(days=ORIGIN_DAY)
    stays = stays[stays["start"] <= origin].copy()
    late = stays["end"] > origin
    stays.loc[late, "end"] = pd.NaT
    stays.loc[late, "next"] = None
    stays = stays.assign(age=1, age_years=8.0, repeat=0, uasc=False).sort_values(["child_id", "start"])
    stays.attrs["origin"] = origin
    model = ForecastModel(n_boot=4, seed=2, uasc=False).fit_stays(stays.reset_index(drop=True), ["s47", "icpc"],
                                                                   ["nfa"], t0)
    return model, stays


def _open_to_icpc(model: ForecastModel, n_sims: int = 200) -> float:
    """The mean number of the enquiries open at the origin that the model sends to a conference."""
    icpc, n_open, got = model.stations_.index("icpc"), len(model.open_), []

    def record(r):
        _, child, st, start, _, nxt, _ = r
        first = (child < n_open) & (start <= 0) & (st == model.stations_.index("s47"))
        got.append(int(((nxt == icpc) & first).sum()))

    run(model, 3, n_sims, np.random.default_rng(1), WhatIf(), record)
    return sum(got) / n_sims


def test_open_enquiries_go_on_as_enquiries_of_their_days_did(enquiries):
    """Open at the origin after e days, an enquiry goes to a conference with probability
    p S_icpc(e) / (p S_icpc(e) + (1 - p) S_nfa(e)): about 0.31 after 10 days and 0.02 after 20, against 0.4 for
    every enquiry. The model's expected count of the open enquiries going to a conference is within 12% of that
    truth; read without routes by duration (every enquiry's shares) it is more than 50% too high."""
    model, _ = enquiries
    e = model.open_.loc[model.open_["station"] == model.stations_.index("s47"), "elapsed"].to_numpy()
    a, b = P_ICPC * _survival(ICPC_DAYS, e), (1 - P_ICPC) * _survival(NFA_DAYS, e)
    truth = float(np.sum(a / (a + b)))
    got = _open_to_icpc(model)
    assert abs(got - truth) <= 0.12 * truth, (got, truth, len(e))
    ratio = model.route_ratio_
    try:
        model.route_ratio_ = np.ones_like(ratio)
        without = _open_to_icpc(model)
    finally:
        model.route_ratio_ = ratio
    assert without > 1.5 * truth, (without, truth)


def test_new_enquiries_keep_their_share_and_days(enquiries):
    """Routes by duration move the next steps along the curve, not their share: of the enquiries begun in the
    forecast's first year, 40% (within 2 points) go to a conference, and those that do end sooner (median within a
    day of 12) than those that do not (median within 2 days of 30)."""
    model, _ = enquiries
    moves: list[np.ndarray] = []
    simulate(model, ["s47"], horizon=24, n_sims=40, seed=3, moves=moves)
    m = np.concatenate(moves)
    s47, icpc = model.stations_.index("s47"), model.targets_.index("icpc")
    m = m[m[:, 0] == s47]
    to_icpc = m[:, 1] == icpc
    assert abs(to_icpc.mean() - P_ICPC) < 0.02, to_icpc.mean()
    assert abs(np.median(m[to_icpc, 2]) - ICPC_DAYS[0]) <= 1.0
    assert abs(np.median(m[~to_icpc, 2]) - NFA_DAYS[0]) <= 2.0



def test_the_fit_writes_the_shares_by_fifth_of_days(enquiries):
    """``model fit``'s YAML: the share to a conference falls from the shortest fifth of the enquiries to the
    longest, about the 40% of all of them."""
    model, _ = enquiries
    by = model.to_dict()["stations"]["s47"]["outcomes_by_fifth_of_days"]
    assert set(by) == {"icpc", "nfa"}
    assert np.all(np.diff(by["icpc"]) < 0) and by["icpc"][0] > 0.8 and by["icpc"][-1] < 0.05, by
    assert np.allclose(np.add(by["icpc"], by["nfa"]), 1.0, atol=1e-3)
