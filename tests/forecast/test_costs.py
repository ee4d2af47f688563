"""Spend of a forecast: per simulation, then quantiles; recounted from the simulated paths by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from cscflow.errors import AnalysisError
from cscflow.forecast.costs import (
    EXAMPLE_LABEL,
    load_costs,
    placement_type,
    spend_by_simulation,
    spend_forecast,
    spend_table,
)
from cscflow.forecast.model import ForecastModel
from cscflow.forecast.simulate import WhatIf, simulate
from cscflow.forecast.stays import COLUMNS

STATIONS = ["referral", "assessment", "s47", "cp_plan", "proceedings", "looked_after"]
EXITS = ["nfa", "closed"]
ORIGIN = pd.Timestamp("2023-03-31")
COSTS = {"status": "local", "currency": "GBP", "price_year": "2024-25",
         "unit_costs": {"looked_after_day": {"foster_in_house": 100.0, "residential": 700.0},
                        "assessment": 2000.0, "s47": 3000.0, "cp_plan_month": 500.0, "proceedings": 20000.0},
         "mix": {"foster_in_house": 0.75, "residential": 0.25}}


def small_stays(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """``n`` children through referral -> assessment -> (s47 -> cp_plan -> proceedings ->) care, cut at ORIGIN."""
    rng = np.random.default_rng(seed)
    rows = []
    route = {"referral": [("assessment", 0.8), ("nfa", 0.2)], "assessment": [("s47", 0.3), ("closed", 0.7)],
             "s47": [("cp_plan", 0.6), ("closed", 0.4)], "cp_plan": [("proceedings", 0.3), ("closed", 0.7)],
             "proceedings": [("looked_after", 0.8), ("closed", 0.2)], "looked_after": [("closed", 1.0)]}
    days = {"referral": 3, "assessment": 35, "s47": 15, "cp_plan": 200, "proceedings": 180, "looked_after": 400}
    for i in range(n):
        t = pd.Timestamp("2020-04-01") + pd.Timedelta(days=int(rng.integers(0, 1090)))
        age = float(rng.uniform(0, 17))
        station, first = "referral", True
        while station in days:
            end = t + pd.Timedelta(days=int(rng.exponential(days[station])))
            targets, p = zip(*route[station], strict=True)
            nxt = str(rng.choice(targets, p=p))
            is_open = end > ORIGIN
            rows.append({"child_id": f"c{i}", "station": station, "start": t, "end": pd.NaT if is_open else end,
                         "next": None if is_open else nxt, "age": int(np.searchsorted([5, 11, 16], age, "right")),
                         "age_years": age, "repeat": 0, "entry": first})
            if is_open:
                break
            t, station, first = end, nxt, False
    stays = pd.DataFrame(rows, columns=COLUMNS)
    stays = stays[stays["start"] <= ORIGIN].reset_index(drop=True)
    stays.attrs["origin"] = ORIGIN
    return stays


@pytest.fixture(scope="module")
def model() -> ForecastModel:
    return ForecastModel(n_boot=5, seed=2).fit_stays(small_stays(), STATIONS, EXITS, pd.Timestamp("2020-04-01"))


@pytest.fixture
def costs_file(tmp_path):
    p = tmp_path / "costs.yaml"
    p.write_text(yaml.safe_dump(COSTS))
    return p


def by_hand(paths: dict, n_sims: int, edges: np.ndarray, unit: dict[str, float]) -> np.ndarray:
    """Spend (n_sims, months) recounted stay by stay from the simulated paths, in plain Python."""
    horizon = len(edges) - 1
    out = np.zeros((n_sims, horizon))
    for station, (sim, start, end) in paths.items():
        for s, a, b in zip(sim.tolist(), start.tolist(), end.tolist(), strict=True):
            for j in range(horizon):
                lo, hi = edges[j], edges[j + 1]
                if station in ("looked_after", "cp_plan"):
                    days = max(0.0, min(b, hi) - max(a, lo))
                    out[s, j] += days * unit[station]
                elif lo < a <= hi:
                    out[s, j] += unit[station]
    return out


def test_spend_equals_a_recount_of_the_simulated_paths(model, costs_file):
    costs = load_costs(costs_file)
    horizon, n_sims = 6, 40
    paths: dict = {}
    stations = ["assessment", "cp_plan", "looked_after", "proceedings", "s47"]
    sims = simulate(model, stations, horizon, n_sims=n_sims, seed=5, paths=paths)
    items = ["looked_after_day", "assessment", "s47", "cp_plan_month", "proceedings"]
    spend, activity = spend_by_simulation(sims, costs, items, costs.mix)
    months = pd.period_range(ORIGIN.to_period("M") + 1, periods=horizon, freq="M")
    table = spend_table(spend, activity, months, costs.label)
    edges = np.r_[0.0, [(m.end_time.normalize() - ORIGIN).days for m in months]].astype(float)
    unit = {"looked_after": 0.75 * 100 + 0.25 * 700, "cp_plan": 500 / (365.25 / 12), "assessment": 2000.0,
            "s47": 3000.0, "proceedings": 20000.0}
    want = by_hand(paths, n_sims, edges, unit)
    assert want.sum() > 0
    np.testing.assert_allclose(np.sum(list(spend.values()), axis=0), want, rtol=1e-9)
    # quantiles of each simulation's spend (not the quantiles of each item summed)
    got = table[table["item"] == "all"].set_index("month")
    total = want.sum(1)
    assert got.loc["total", "forecast"] == pytest.approx(np.percentile(total, 50))
    assert got.loc["total", "lower80"] == pytest.approx(np.percentile(total, 10))
    assert got.loc["total", "upper95"] == pytest.approx(np.percentile(total, 97.5))
    for j, m in enumerate(months):
        assert got.loc[str(m), "upper80"] == pytest.approx(np.percentile(want[:, j], 90))
    assert (table["costs"] == "local unit costs (GBP, 2024-25 prices) from costs.yaml").all()


def test_a_what_if_that_lowers_care_lowers_its_spend(model, costs_file):
    costs = load_costs(costs_file)
    base = spend_forecast(model, costs, horizon=12, n_sims=200, seed=1)
    alt = spend_forecast(model, costs, horizon=12, n_sims=200, seed=1,
                         what_if=WhatIf(share={("proceedings", "looked_after"): 0.2}))

    def care(t):
        return t[(t["item"] == "looked_after_day") & (t["month"] == "total")]["forecast"].item()

    assert care(alt) < care(base)
    assert (base["lower95"] <= base["forecast"]).all() and (base["forecast"] <= base["upper95"]).all()


def test_the_example_is_labelled_and_placeholders_force_the_label(tmp_path):
    ex = load_costs("example")
    assert ex.example and ex.label == EXAMPLE_LABEL
    assert set(ex.values.values()) == {1.0} and set(ex.placement.values()) == {1.0}  # no invented figures
    doc = dict(COSTS, unit_costs=dict(COSTS["unit_costs"], s47={"value": 1, "placeholder": True}))
    p = tmp_path / "half.yaml"
    p.write_text(yaml.safe_dump(doc))
    assert load_costs(p).label == EXAMPLE_LABEL


@pytest.mark.parametrize("change, message", [
    ({"unit_costs": {"assessment": "lots"}}, "not a cost"),
    ({"unit_costs": {"assessments": 1.0}}, "unknown unit cost"),
    ({"mix": {"foster_in_house": 0.5}}, "adds up to"),
    ({"unit_costs": {"looked_after_day": {"hotel": 5.0}}}, "unknown placement type"),
])
def test_bad_costs_files_are_refused_clearly(tmp_path, change, message):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump({**COSTS, **change}))
    with pytest.raises(AnalysisError, match=message):
        load_costs(p)
    with pytest.raises(AnalysisError, match="no costs file"):
        load_costs(tmp_path / "missing.yaml")


def test_placement_types_from_903_codes():
    assert placement_type("U1", "PR1") == "foster_in_house"
    assert placement_type("u5", "PR5") == "foster_agency"
    assert placement_type("H5", "PR4") == "supported_living"
    assert placement_type("Z1", None) == "other"


def test_cli_costs_label_example_figures_and_refuse_bad_files(county_and_ws, county_writer, tmp_path):
    from click.testing import CliRunner

    from cscflow.cli import cli

    county_writer(tmp_path / "ws", county_and_ws[1]).close()
    args = ["forecast", str(tmp_path / "ws"), "--horizon", "3", "--simulations", "20", "--bootstrap", "2"]
    r = CliRunner().invoke(cli, [*args, "--costs", "example", "--out", str(tmp_path / "s.csv")])
    assert r.exit_code == 0, r.output
    text = (tmp_path / "s.csv").read_text()
    assert "EXAMPLE COSTS, NOT PUBLISHED FIGURES" in text
    t = pd.read_csv(tmp_path / "s.csv", comment="#")
    assert (t["costs"] == EXAMPLE_LABEL).all() and {"all", "looked_after_day", "assessment"} <= set(t["item"])
    r = CliRunner().invoke(cli, [*args, "--costs", str(tmp_path / "none.yaml")])
    assert r.exit_code == 1 and "Error: no costs file" in r.output
