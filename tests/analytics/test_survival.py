"""Kaplan-Meier and log-rank against statsmodels (oracle with late entry and weights), lifelines
(oracle for the log(-log) Greenwood intervals, medians and the log-rank test) and a naive loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from cscflow.analytics.survival import KaplanMeier, KaplanMeierGroups, logrank_test
from cscflow.errors import AnalysisError

TOL = 1e-9


def _data(seed: int, n: int = 400, days: bool = True):
    rng = np.random.default_rng(seed)
    t = rng.exponential(300, n)
    t = np.floor(t) if days else t
    e = rng.random(n) < 0.7
    return t, e, rng


def naive_km(t, e, entry=None):
    """Product-limit by a plain loop over distinct event times (at risk: entry < u <= t)."""
    entry = np.full(len(t), -np.inf) if entry is None else entry
    s, out = 1.0, {}
    for u in sorted(set(t[e.astype(bool)])):
        n = sum(1 for i in range(len(t)) if entry[i] < u <= t[i])
        d = sum(1 for i in range(len(t)) if t[i] == u and e[i] and entry[i] < u)
        s *= 1 - d / n
        out[u] = s
    return out


@pytest.mark.parametrize("days", [True, False])
def test_km_equals_statsmodels_with_ties_and_censoring(days):
    t, e, _ = _data(1, days=days)
    km = KaplanMeier().fit(t, e)
    sm = SurvfuncRight(t, e.astype(float))
    assert np.max(np.abs(km.survival_at(sm.surv_times) - sm.surv_prob)) < TOL
    se = np.sqrt(km.variance_.to_numpy())
    ours = se[np.searchsorted(km.timeline_, sm.surv_times)]
    ok = np.isfinite(sm.surv_prob_se)
    assert np.max(np.abs(ours[ok] - sm.surv_prob_se[ok])) < TOL
    if days:
        assert len(set(t)) < len(t)  # the data really has ties


def test_km_equals_lifelines_curve_intervals_and_median():
    t, e, _ = _data(2)
    km = KaplanMeier(label="x").fit(t, e)
    lf = KaplanMeierFitter().fit(t, e)
    grid = lf.survival_function_.index.to_numpy()
    assert np.max(np.abs(km.survival_at(grid) - lf.survival_function_.iloc[:, 0].to_numpy())) < TOL
    lo, hi = km.confidence_at(grid)
    ci = lf.confidence_interval_
    ok = ci.notna().all(axis=1).to_numpy()
    assert np.max(np.abs(lo[ok] - ci.iloc[:, 0].to_numpy()[ok])) < TOL
    assert np.max(np.abs(hi[ok] - ci.iloc[:, 1].to_numpy()[ok])) < TOL
    assert km.median_ == lf.median_survival_time_


def test_km_late_entry_equals_statsmodels_and_naive():
    t, e, rng = _data(3)
    entry = np.floor(rng.uniform(0, 1, len(t)) * t * 0.8)
    keep = entry < t  # statsmodels refuses entry >= exit
    t, e, entry = t[keep], e[keep], entry[keep]
    km = KaplanMeier().fit(t, e, entry=entry)
    sm = SurvfuncRight(t, e.astype(float), entry=entry)
    assert np.max(np.abs(km.survival_at(sm.surv_times) - sm.surv_prob)) < TOL
    se = np.sqrt(km.variance_.to_numpy())[np.searchsorted(km.timeline_, sm.surv_times)]
    ok = np.isfinite(sm.surv_prob_se)
    assert np.max(np.abs(se[ok] - sm.surv_prob_se[ok])) < TOL
    naive = naive_km(t[:150], e[:150], entry[:150])
    small = KaplanMeier().fit(t[:150], e[:150], entry=entry[:150])
    for u, s in naive.items():
        assert abs(small.survival_at(u)[0] - s) < 1e-12


def test_km_late_entry_equals_lifelines_when_entries_do_not_tie_exits():
    t, e, rng = _data(4, days=False)
    entry = rng.uniform(0, 1, len(t)) * t * 0.5
    km = KaplanMeier().fit(t, e, entry=entry)
    lf = KaplanMeierFitter().fit(t, e, entry=entry)
    grid = np.unique(t)
    assert np.max(np.abs(km.survival_at(grid) - lf.survival_function_at_times(grid).to_numpy())) < TOL


def test_km_weights_equal_statsmodels_frequency_weights_and_repeated_rows():
    t, e, rng = _data(5, n=200)
    w = rng.integers(1, 4, len(t)).astype(float)
    km = KaplanMeier().fit(t, e, weights=w)
    sm = SurvfuncRight(t, e.astype(float), freq_weights=w)
    assert np.max(np.abs(km.survival_at(sm.surv_times) - sm.surv_prob)) < TOL
    rep = KaplanMeier().fit(np.repeat(t, w.astype(int)), np.repeat(e, w.astype(int)))
    assert np.max(np.abs(km.survival_at(sm.surv_times) - rep.survival_at(sm.surv_times))) < TOL


def test_day_zero_events_and_hand_values():
    # 5 children: two leave on day 0, one on day 2, one censored day 2, one leaves day 4
    km = KaplanMeier().fit([0, 0, 2, 2, 4], [1, 1, 1, 0, 1])
    assert km.survival_at([0, 1, 2, 3, 4]).tolist() == pytest.approx([3 / 5, 3 / 5, 2 / 5, 2 / 5, 0.0], abs=1e-15)
    assert km.median_ == 2.0
    tab = km.at_risk_table([0, 1, 3])
    assert tab["at_risk"].tolist() == [5, 3, 1]
    assert tab["events"].tolist() == [2, 2, 3]
    assert tab["censored"].tolist() == [0, 0, 1]


def test_at_risk_table_matches_naive_count_with_entry():
    t, e, rng = _data(6, n=300)
    entry = np.floor(rng.uniform(0, 0.5, len(t)) * t)
    km = KaplanMeier().fit(t, e, entry=entry)
    grid = np.array([0.5, 10, 100, 250.5, 1000])
    naive = [sum(1 for i in range(len(t)) if entry[i] < u <= t[i] and entry[i] < t[i]) for u in grid]
    assert km.at_risk_table(grid)["at_risk"].tolist() == naive


def test_logrank_equals_lifelines_and_statsmodels():
    t, e, rng = _data(7, n=600)
    g = rng.choice(["a", "b", "c"], len(t))
    t = np.where(g == "b", np.floor(t * 1.3), t)
    ours = logrank_test(t, e, g)
    lf = multivariate_logrank_test(t, g, e)
    assert abs(ours.test_statistic - lf.test_statistic) < 1e-8
    assert abs(ours.p_value - lf.p_value) < 1e-9
    stat, p = survdiff(t, e.astype(float), g)
    assert abs(ours.test_statistic - stat) < 1e-8


def test_logrank_with_late_entry_equals_statsmodels():
    t, e, rng = _data(8, n=500)
    g = rng.choice(["x", "y"], len(t))
    entry = np.floor(rng.uniform(0, 0.5, len(t)) * t)
    keep = entry < t
    t, e, g, entry = t[keep], e[keep], g[keep], entry[keep]
    ours = logrank_test(t, e, g, entry=entry)
    stat, p = survdiff(t, e.astype(float), g, entry=entry)
    assert abs(ours.test_statistic - stat) < 1e-8
    assert abs(ours.p_value - p) < 1e-9


def test_groups_fit_each_curve_and_the_test():
    t, e, rng = _data(9, n=300)
    g = rng.choice(["with proceedings", "without"], len(t))
    kg = KaplanMeierGroups().fit(t, e, g)
    for label, f in kg.fitters_.items():
        m = g == label
        assert f.median_ == KaplanMeierFitter().fit(t[m], e[m]).median_survival_time_
    assert set(kg.curves()["group"]) == set(g)
    assert kg.logrank_.p_value == pytest.approx(logrank_test(t, e, g).p_value)
    fig = kg.plot(title="Leaving care")
    assert "log-rank" in fig.layout.title.text


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"durations": [1, -2], "event_observed": [1, 1]}, "negative"),
        ({"durations": [1, np.nan], "event_observed": [1, 1]}, "missing"),
        ({"durations": [1, 2], "event_observed": [1, 1], "entry": [0, 3]}, "after the exit"),
        ({"durations": [1, 2], "event_observed": [1]}, "1 values for 2"),
        ({"durations": [], "event_observed": []}, "no durations"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, word):
    with pytest.raises(AnalysisError, match=word):
        KaplanMeier().fit(**kwargs)


def test_summary_and_curve_tables():
    km = KaplanMeier(label="all").fit([3, 5, 5, 8, 10], [1, 1, 0, 1, 0])
    s = km.summary
    assert s.loc[0, "children"] == 5 and s.loc[0, "events"] == 3 and s.loc[0, "censored"] == 2
    curve = km.curve()
    assert isinstance(curve, pd.DataFrame) and curve["time"].iloc[0] == 0
    assert (curve["lower"] <= curve["survival"] + 1e-15).all() and (curve["survival"] <= curve["upper"] + 1e-15).all()


def test_method_says_estimator_rows_and_late_entry():
    km = KaplanMeier(label="time in care").fit([3, 5, 5, 8, 10], [1, 1, 0, 1, 0], entry=[-1, 2, -1, 4, -1])
    assert km.method_.startswith("Kaplan-Meier (product-limit) estimate of time in care: 5 rows, 3 events")
    assert "2 entered the risk set late" in km.method_
    assert "no late entry" in KaplanMeier().fit([1, 2], [1, 1]).method_
    kg = KaplanMeierGroups().fit([5, 8, 12, 20], [1, 1, 1, 0], ["a", "a", "b", "b"])
    assert "one per group (2)" in kg.method_ and "log-rank" in kg.method_


def test_left_truncated_cohort_equals_lifelines_entry():
    """A cohort seen only from a window start: periods begun before it enter late (the leaving-care
    default); lifelines' KaplanMeierFitter(entry=) is the oracle, times continuous (no ties)."""
    rng = np.random.default_rng(5)
    start = rng.uniform(-2000, 1000, 3000)  # days relative to the window start (0)
    length = rng.gamma(0.7, 600, 3000)
    seen = start + length > 0  # periods that ended before the window are not in the data
    start, length = start[seen], length[seen]
    end_obs = np.minimum(start + length, 1460.0)
    dur, event = end_obs - start, start + length <= 1460.0
    entry = np.maximum(-start, 0.0)
    keep = dur > entry
    dur, event, entry = dur[keep], event[keep], entry[keep]
    km = KaplanMeier().fit(dur, event, entry=entry)
    lf = KaplanMeierFitter().fit(dur, event, entry=entry)
    grid = np.quantile(dur, [0.05, 0.25, 0.5, 0.75, 0.95])
    assert np.allclose(km.survival_at(grid), lf.survival_function_at_times(grid).to_numpy(), atol=1e-12)
    assert km.median_ == pytest.approx(lf.median_survival_time_, rel=1e-12)
    true_median = float(np.median(rng.gamma(0.7, 600, 400_000)))
    biased = KaplanMeier().fit(dur, event).median_  # no late entry: length-biased upwards
    assert abs(km.median_ - true_median) < 0.1 * true_median < biased - true_median
