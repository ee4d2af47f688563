"""The p-chart's Making Data Count rules: a known injected shift is found; stable series signal no more
often than the rules' nominal rate; the flags equal a naive point-by-point reference written here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cscflow.errors import AnalysisError
from cscflow.practices.spc import PChart


def naive_flags(p, z, shift=7, trend=7, near=2.0, sigma=3.0):
    """Each rule checked point by point over every window that could contain the point."""
    n = len(p)
    out = {r: [False] * n for r in ("outside", "shift", "trend", "two_in_three")}
    for i in range(n):
        out["outside"][i] = abs(z[i]) > sigma
        for s in range(max(0, i - shift + 1), i + 1):  # windows of `shift` points holding i
            w = z[s:s + shift]
            if len(w) == shift and (all(v > 0 for v in w) or all(v < 0 for v in w)):
                out["shift"][i] = True
        for s in range(max(0, i - trend + 1), i + 1):
            w = p[s:s + trend]
            if len(w) == trend and (all(b > a for a, b in zip(w, w[1:], strict=False))
                                    or all(b < a for a, b in zip(w, w[1:], strict=False))):
                out["trend"][i] = True
        for s in range(max(0, i - 2), i + 1):
            w = z[s:s + 3]
            if len(w) < 3:
                continue
            for sign in (1, -1):
                if sum(sign * v > near for v in w) >= 2 and sign * z[i] > near:
                    out["two_in_three"][i] = True
    return {k: np.array(v) for k, v in out.items()}


def test_injected_shift_is_found():
    rng = np.random.default_rng(11)
    n = rng.integers(60, 120, size=30)
    p_true = np.r_[np.full(18, 0.15), np.full(12, 0.30)]  # the breach rate doubles at month 18
    late = rng.binomial(n, p_true)
    pc = PChart(baseline=18).fit(late, n, labels=[f"m{i}" for i in range(30)])
    t = pc.summary
    assert t.loc[18:, "signal"].mean() >= 0.75  # most months after the shift are flagged
    assert t.loc[18:, ["outside", "shift"]].any(axis=None)
    assert set(t.loc[18:][t.loc[18:, "signal"]]["variation"]) == {"concern"}
    assert not t.loc[:17, "outside"].any()
    assert abs(pc.centre_ - late[:18].sum() / n[:18].sum()) < 1e-12
    assert "p-chart of 30 periods" in pc.method_


def test_flags_equal_the_naive_reference():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = rng.integers(20, 200, size=24)
        p_true = 0.2 + 0.1 * (rng.random() < 0.5) * (np.arange(24) >= rng.integers(5, 20))
        pc = PChart().fit(rng.binomial(n, p_true), n)
        t = pc.summary
        ref = naive_flags(t["p"].to_numpy(), t["z"].to_numpy())
        for rule, flags in ref.items():
            assert np.array_equal(t[rule].to_numpy(), flags), rule


def test_stable_series_signal_no_more_than_nominal():
    """Nominal rate: the share of series of 24 independent standard normal points (the model the
    rules assume) with any signal, from the naive reference. Stable binomial series with limits from
    their own data must signal no more often (within sampling error)."""
    rng = np.random.default_rng(2024)
    k, months = 4000, 24
    zs = rng.standard_normal((k, months))
    nominal = np.mean([any(f.any() for f in naive_flags(z, z).values()) for z in zs])
    assert 0.05 < nominal < 0.5  # the four rules together: a false alarm in a sizeable share of series
    m = 400
    hits = 0
    for _ in range(m):
        n = rng.integers(80, 160, size=months)
        hits += PChart().fit(rng.binomial(n, 0.2), n).summary["signal"].any()
    rate = hits / m
    se = np.sqrt(nominal * (1 - nominal) / m)
    assert rate <= nominal + 3 * se, (rate, nominal)
    # and per rule: outside the 3-sigma limits is rare
    outside = np.mean([PChart().fit(rng.binomial(np.full(months, 120), 0.2), np.full(months, 120)).summary[
        "outside"].mean() for _ in range(200)])
    assert outside < 0.01


def test_bad_input_is_refused():
    with pytest.raises(AnalysisError, match="late of"):
        PChart().fit([5, 12], [10, 10])
    with pytest.raises(AnalysisError, match="baseline"):
        PChart(baseline=5).fit([1, 2], [10, 10])


def test_summary_is_disclosed_with_its_rule():
    from cscflow import disclosure

    pc = PChart().fit([3, 10, 12, 9], [40, 50, 60, 45], labels=["2024-01", "2024-02", "2024-03", "2024-04"])
    t = pc.summary.rename(columns={"label": "month"})[["month", "n", "late", "p", "lower", "upper", "signal"]]
    d = disclosure.disclose(t, "practices-spc")
    assert d.table.loc[0, "late"] == "<5" and pd.isna(d.table.loc[0, "p"])
