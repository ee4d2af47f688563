"""Bundled DfE tables against the raw published files and their own published rates; LA funnels
and comparisons against naive computations; legal-order trends on a real DuckDB workspace."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cscflow import reference
from cscflow.analytics.benchmarking import compare, la_funnel, legal_order_trends

RAW = "dfe-csc-outcomes-enablers"


def test_england_2025_cla_published_numbers():
    # DfE CLA 2025 (via PROVENANCE.md): 81,770 children on 12,183,016 aged 0-17, rate 67 per 10,000
    row = reference.series("cla_31march", level="england", year=2025).iloc[0]
    assert (row["count"], row["denominator"]) == (81770, 12183016)
    t = compare("886", "cla_31march")
    eng = t[(t["comparator"] == "England") & (t["year"] == 2025)].iloc[0]
    assert round(eng["value"]) == 67


def test_bundled_cla_rates_round_to_dfe_published_rates(shared_data):
    raw = pd.read_csv(shared_data / RAW / "cla_number_and_rate_per_10k_children.csv", dtype=str,
                      encoding="utf-8-sig")
    raw = raw[(raw["geographic_level"] == "Local authority")
              & (raw["population_type"] == "Children looked after on 31 March each year")]
    raw = raw[pd.to_numeric(raw["children_count"], errors="coerce").notna()]
    ours = reference.series("cla_31march", level="la").dropna(subset=["count"])
    m = ours.merge(raw, left_on=[ours["year"].astype(str), "code"], right_on=["time_period", "old_la_code"])
    assert len(m) == len(raw) > 700
    assert (np.round(m["count"] / m["denominator"] * 10000) == m["rate_per_10000"].astype(float)).all()


def test_population_join_matches_dfe_convention(shared_data):
    # DfE's CLA denominator for the year ending March Y is the ONS mid-year estimate of year Y-1
    cla = reference.series("cla_31march", level="la", year=2024).set_index("code")["denominator"]
    pop = reference.population()
    ons = pop[(pop["level"] == "la") & (pop["year"] == 2023)].set_index("code")["population_0_17"]
    common = cla.index.intersection(ons.index)
    assert len(common) > 140 and (cla[common] == ons[common]).mean() > 0.95
    cin = reference.series("cin_31march", level="la", year=2024).set_index("code")["denominator"]
    assert (cin[common] == ons[common]).all()


def test_statistical_neighbours_pooled_value_equals_raw_sum(shared_data):
    raw = pd.read_csv(shared_data / RAW / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
                      dtype=str)
    sn = pd.read_csv(shared_data / RAW / "sn_model_2025_wide.csv", dtype=str, encoding="utf-8-sig")
    kent = sn[sn["old_la_code"] == "886"].iloc[0]
    codes = [kent[f"SN_{k}"] for k in range(1, 11)]
    r = raw[(raw["time_period"] == "2025") & raw["old_la_code"].isin(codes)]
    num = pd.to_numeric(r["rereferral_count"], errors="coerce").dropna()
    den = pd.to_numeric(r.loc[num.index, "referral_count"])
    t = compare("886", "rereferrals")
    got = t[(t["comparator"] == "Statistical neighbours") & (t["year"] == 2025)].iloc[0]
    assert abs(got["value"] - 100 * num.sum() / den.sum()) < 1e-9


def test_la_funnel_unadjusted_flags_match_direct_poisson_tail_probabilities():
    fp = la_funnel("cla_31march", 2025, la="886", overdispersion="none")
    t = fp.summary
    assert len(t) == len(reference.series("cla_31march", level="la", year=2025).dropna(subset=["count"]))
    assert t.loc[t["highlight"], "label"].item() == "886 Kent" and t["neighbour"].sum() == 10
    r0 = 81770 / 12183016
    e = r0 * t["denominator"].to_numpy()
    x = t["numerator"].to_numpy()
    naive = (stats.poisson.sf(x - 1, e) < 0.001) | (stats.poisson.cdf(x, e) < 0.001)
    assert set(fp.outliers_["label"]) == set(t.loc[naive, "label"])
    assert fp.adjusted_ == "none" and len(fp.outliers_) > 90  # most LAs: rates vary far beyond chance


def _naive_tau2(t: pd.DataFrame, r0: float) -> tuple[float, float]:
    e = r0 * t["denominator"].to_numpy()
    z = (np.sqrt(t["numerator"].to_numpy() / e) - 1) * 2 * np.sqrt(e)
    zw = np.clip(z, *np.quantile(z, [0.1, 0.9]))
    phi = float(np.mean(zw**2))
    w = 4 * e
    return phi, (len(z) * phi - (len(z) - 1)) / (w.sum() - (w**2).sum() / w.sum())


def test_la_funnel_default_adjusts_for_overdispersion_and_flags_few_las():
    fp = la_funnel("cla_31march", 2025, la="886")
    t = fp.summary
    phi, tau2 = _naive_tau2(t, 81770 / 12183016)
    assert abs(fp.phi_ - phi) < 1e-9 and abs(fp.tau2_ - tau2) < 1e-12
    assert 40 < fp.phi_ < 55 and fp.adjusted_ == "additive"
    # the limits are the exact Poisson ones widened by sqrt(s^2 + tau^2) on the square-root scale
    e = 81770 / 12183016 * t["denominator"].to_numpy()
    upper = 10_000 * 81770 / 12183016 * (1 + 3.090232 * np.sqrt(1 / (4 * e) + tau2)) ** 2
    assert np.allclose(t["upper998"], upper, rtol=1e-6)
    n998, n95 = len(fp.outliers_), int((t["flag"] != "").sum())
    assert 1 <= n998 <= 10 and n998 <= n95 <= 35, (n998, n95)
    assert "England rate 67.1 per 10,000" in fp.method_ and "additive random effects" in fp.method_
    assert f"{n998} of {len(t)} LAs outside 99.8%" in fp.method_
    assert t.attrs["phi"] == fp.phi_ and t.attrs["method"] == fp.method_
    print(f"cla_31march 2025: phi {fp.phi_:.2f}, tau2 {fp.tau2_:.4g}, {n998} LAs outside 99.8%, {n95} outside 95%")


def test_legal_order_trends_on_a_workspace(workspace):
    rows = pd.DataFrame({
        "proceedings_id": [f"P{i}" for i in range(7)],
        "child_id": list("abcdefg"),
        "application_date": pd.to_datetime(["2022-01-01"] * 7).date,
        "final_order_date": pd.to_datetime(["2022-05-01", "2022-06-01", "2023-02-01", "2023-04-01",
                                            "2023-05-01", None, "2023-09-01"]).date,
        "order": ["care_order", "sgo", "care_order", "sgo", "sgo", None, "placement_order"],
    })
    workspace.write("proceedings", rows)
    t = legal_order_trends(workspace)
    y23 = t[t["year"] == 2023].set_index("order")["proceedings"].to_dict()
    assert y23 == {"care_order": 2, "sgo": 1}
    y24 = t[t["year"] == 2024].set_index("order")["share"].to_dict()
    assert y24 == {"sgo": 2 / 3, "placement_order": 1 / 3}
