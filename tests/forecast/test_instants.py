"""A child's timeline rows at one instant, tidied for the model (`cscflow.forecast.instants`), and the fit's
repeat look-back and arrival dispersion, each on a few hand-made rows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from cscflow.forecast.instants import drop_passed_exits, flow_order, instant_order, tidy
from cscflow.forecast.model import ForecastModel
from cscflow.forecast.simulate import simulate
from cscflow.forecast.stays import COLUMNS, cut
from cscflow.journeys import load_map

ENGLAND = load_map("england")
STATIONS = [s["id"] for s in ENGLAND.stations if s.get("zone") != "exit"]
EXITS = [s["id"] for s in ENGLAND.stations if s.get("zone") == "exit"]


def _rows(*rows: tuple[str, str, str | None, str]) -> pd.DataFrame:
    """Timeline rows of child "c" (station, start, end, kind), numbered in the order given."""
    return pd.DataFrame({"child_id": "c", "seq": range(1, len(rows) + 1), "station": [r[0] for r in rows],
                         "start": pd.to_datetime([r[1] for r in rows]), "end": pd.to_datetime([r[2] for r in rows]),
                         "kind": [r[3] for r in rows], "repeat": 1})


def test_flow_order_follows_the_lines():
    o = flow_order(ENGLAND)
    chain = ["contact", "referral", "assessment", "strategy_discussion", "s47", "icpc", "cp_plan",
             "pre_proceedings", "proceedings", "looked_after", "care_leaver"]
    assert [o[s] for s in chain] == sorted(o[s] for s in chain)
    assert o["assessment"] < o["cin_plan"] and o["contact"] < o["early_help"]


def test_zero_length_stays_at_one_instant_in_line_order_with_their_exits():
    # source order: the census's referral, then the event log's contact and an earlier contact's exit
    tl = _rows(("contact", "2016-01-04", "2016-01-04", "stay"), ("nfa", "2016-01-04", "2016-01-04", "exit"),
               ("referral", "2016-02-01", "2016-02-01", "stay"), ("contact", "2016-02-01", "2016-02-01", "stay"),
               ("assessment", "2016-02-01", "2016-03-01", "stay"))
    out = tidy(tl, ENGLAND)
    assert out["station"].tolist() == ["contact", "nfa", "contact", "referral", "assessment"]
    # an exit travels with its zero-length stay (then, passed through into the referral, it is dropped)
    tl = _rows(("referral", "2016-02-01", "2016-02-01", "stay"), ("nfa", "2016-02-01", "2016-02-01", "exit"),
               ("contact", "2016-02-01", "2016-02-01", "stay"), ("information_advice", "2016-02-01", "2016-02-01",
                                                                "exit"))
    ordered = instant_order(tl, flow_order(ENGLAND))
    assert ordered["station"].tolist() == ["contact", "information_advice", "referral", "nfa"]
    assert tidy(tl, ENGLAND)["station"].tolist() == ["contact", "referral", "nfa"]


def test_an_exit_passed_through_into_a_stay_the_same_day_is_dropped():
    tl = _rows(("assessment", "2016-01-04", "2016-02-01", "stay"), ("nfa", "2016-02-01", "2016-02-01", "exit"),
               ("cin_plan", "2016-02-01", "2016-06-01", "stay"), ("closed", "2016-06-01", "2016-06-01", "exit"),
               ("contact", "2016-06-09", "2016-06-09", "stay"))
    assert drop_passed_exits(tl)["station"].tolist() == ["assessment", "cin_plan", "closed", "contact"]
    kids = pd.DataFrame({"child_id": ["c"], "birth_month": [pd.Timestamp("2008-01-01")]})
    stays = cut(tl, kids, pd.Timestamp("2016-12-31"), ENGLAND)
    assert stays["next"].tolist() == ["cin_plan", "closed", "other"]
    assert stays["entry"].tolist() == [True, False, True]
    # a period of care split by an exit at a placement change is one stay
    tl = _rows(("looked_after", "2014-03-06", "2016-10-22", "stay"), ("closed", "2016-10-22", "2016-10-22", "exit"),
               ("looked_after", "2016-10-22", None, "stay"))
    stays = cut(tl, kids, pd.Timestamp("2017-03-31"), ENGLAND)
    assert len(stays) == 1 and stays["end"].isna().all()


def test_leaving_care_at_18_for_a_care_leaver_stays_an_exit():
    """The map draws left care at 18 -> care leaver as its own line: care leavers stay arrivals."""
    tl = _rows(("looked_after", "2012-01-01", "2016-05-01", "stay"),
               ("left_care_18", "2016-05-01", "2016-05-01", "exit"), ("care_leaver", "2016-05-01", None, "stay"))
    assert tidy(tl, ENGLAND)["station"].tolist() == ["looked_after", "left_care_18", "care_leaver"]


def _contacts(rng: np.random.Generator, months: pd.DatetimeIndex, per_month: np.ndarray,
              share: Callable[[pd.Timestamp], float]) -> pd.DataFrame:
    """Zero-length first-episode contacts, ``per_month`` a month, each going to a referral with
    ``share(month)`` (else an exit), and their one-day referrals."""
    rows = []
    i = 0
    for m, n in zip(months, per_month, strict=True):
        for _ in range(int(n)):
            day = m + pd.Timedelta(days=int(rng.integers(0, 28)))
            ref = rng.random() < share(m)
            rows.append((f"k{i}", "contact", day, day, "referral" if ref else "nfa", 0, True))
            if ref:
                rows.append((f"k{i}", "referral", day, day + pd.Timedelta(days=1), "nfa", 0, False))
            i += 1
    s = pd.DataFrame(rows, columns=["child_id", "station", "start", "end", "next", "repeat", "entry"])
    s["age"], s["age_years"], s["uasc"], s["start_known"] = np.int8(1), 8.0, False, True
    s["repeat"] = s["repeat"].astype(np.int8)
    return s[COLUMNS]


def test_cell_shares_skip_the_repeat_look_back():
    """Near the observation start earlier episodes are unseen, so first-episode cells there take repeat-like
    outcomes: the shares by cell are fitted from 24 months after it."""
    rng = np.random.default_rng(0)
    months = pd.date_range("2013-04-01", "2017-03-01", freq="MS")
    early = pd.Timestamp("2015-04-01")
    s = _contacts(rng, months, np.full(len(months), 40), lambda m: 0.6 if m < early else 0.2)
    s.attrs["origin"] = pd.Timestamp("2017-03-31")
    m = ForecastModel(n_boot=1).fit_stays(s, STATIONS, EXITS, pd.Timestamp("2013-04-01"))
    assert m.cells_from_ == early
    k, ref = STATIONS.index("contact"), m.targets_.index("referral")
    assert abs(m.trans_[0, k, 2, ref] - 0.2) < 0.05, m.trans_[0, k, 2, ref]  # age band 1, first episode
    whole = ForecastModel(n_boot=1, repeat_lookback=0, drift=False).fit_stays(s, STATIONS, EXITS, pd.Timestamp("2013-04-01"))
    assert whole.trans_[0, k, 2, ref] > 0.35  # the whole window pooled, as before the look-back
    # the shares' local level (drift on) follows the step from 0.6 to 0.2 over the whole window too
    level = ForecastModel(n_boot=1, repeat_lookback=0).fit_stays(s, STATIONS, EXITS, pd.Timestamp("2013-04-01"))
    assert abs(level.trans_[0, k, 2, ref] - 0.2) < 0.05, level.trans_[0, k, 2, ref]


@pytest.mark.parametrize("dispersed", [False, True])
def test_arrivals_vary_as_much_as_the_fitted_months(dispersed):
    rng = np.random.default_rng(1)
    months = pd.date_range("2013-04-01", "2017-03-01", freq="MS")
    mean = 200.0
    lam = mean * (rng.gamma(1 / 0.02, 0.02, len(months)) if dispersed else np.ones(len(months)))
    s = _contacts(rng, months, rng.poisson(lam), lambda m: 0.25)
    s.attrs["origin"] = pd.Timestamp("2017-03-31")
    m = ForecastModel(n_boot=1).fit_stays(s, STATIONS, EXITS, pd.Timestamp("2013-04-01"))
    # the gamma's variance 0.02 gives a dispersion of 1 + 0.02 * 200 = 5
    assert (3.0 < m.arrival_dispersion_ < 9.0) if dispersed else m.arrival_dispersion_ < 1.8, m.arrival_dispersion_
    sims = simulate(m, ["contact"], 12, n_sims=400, seed=3)["contact:starts"]
    ratio = sims.var(0).mean() / sims.mean()
    assert abs(ratio - m.arrival_dispersion_) < 0.35 * m.arrival_dispersion_ + 0.3, (ratio, m.arrival_dispersion_)
