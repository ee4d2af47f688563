"""Disclosure control's rules (cscflow.disclosure): primary, secondary, derived, curves, the audit.

References are independent of the module: a brute-force enumeration of every table consistent with
what is shown, a naive Kaplan-Meier in the test, and hand-worked tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscflow.disclosure import disclose, scrub, suppress
from cscflow.disclosure.audit import feasible_ranges
from cscflow.disclosure.curves import coarsen_km
from cscflow.disclosure.registry import SPECS, spec
from cscflow.errors import AnalysisError


def test_cross_table_with_row_totals():
    t = pd.DataFrame(
        {"team": ["North", "South", "East"], "home": [3, 20, 30], "sgo": [10, 8, 6], "adoption": [0, 15, 25]}
    )
    t["total"] = t[["home", "sgo", "adoption"]].sum(axis=1)
    t["pct_home"] = 100 * t["home"] / t["total"]
    out = suppress(t, ["home", "sgo", "adoption"], row_total="total", derived={"pct_home": "home"})
    assert out.loc[0, "home"] == "<5" and out.loc[0, "pct_home"] is None
    # North's total would reveal home=3: another cell of the row is withheld, marked [c] (not "<5":
    # it is not small, and saying so would be false)
    assert (out.loc[0, ["sgo", "adoption", "total"]] == "[c]").sum() >= 1
    assert (out.loc[1:, "home"] == "[c]").sum() >= 1  # the home column's total would reveal it too
    assert out.loc[0, "adoption"] == 0  # zeros are shown


def _consistent_values(shown: np.ndarray, truth: np.ndarray, cap: int) -> list[set[int]]:
    """Brute force: for each body cell of a 2x2 table with row totals and known column totals,
    every value it takes in some table consistent with what is shown ("<5": 1-4, "[c]": 5+). A
    column total of 1-4 is known only as "<5" (it is suppressed wherever it is published)."""
    options = []
    body_shown = shown[:, :2]
    for k in range(4):
        v = body_shown.flat[k]
        options.append(np.array([int(v)]) if not isinstance(v, str)
                       else np.arange(1, 5) if v == "<5" else np.arange(5, cap + 1))
    grid = np.stack([g.ravel() for g in np.meshgrid(*options, indexing="ij")], axis=1)  # rows: a0 b0 a1 b1
    ok = np.ones(len(grid), dtype=bool)
    for j in range(2):
        col, c = grid[:, j] + grid[:, 2 + j], truth[:, j].sum()
        ok &= ((col >= 1) & (col <= 4)) if 1 <= c <= 4 else (col == c)
    grand, g = grid.sum(axis=1), truth[:, 2].sum()  # the total of the totals column is known too
    ok &= ((grand >= 1) & (grand <= 4)) if 1 <= g <= 4 else (grand == g)
    for i in range(2):
        r, s = grid[:, 2 * i] + grid[:, 2 * i + 1], shown[i, 2]
        ok &= (r == int(s)) if not isinstance(s, str) else (((r >= 1) & (r <= 4)) if s == "<5" else (r >= 5))
    return [set(grid[ok, k].tolist()) for k in range(4)]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=4, max_size=4))
def test_no_small_cell_is_pinned_down_brute_force(cells):
    from cscflow.disclosure.cells import protect
    from cscflow.disclosure.registry import RowSum, Spec, Total

    t = pd.DataFrame(np.array(cells).reshape(2, 2), columns=["a", "b"])
    t["total"] = t["a"] + t["b"]
    s = Spec("2x2", counts=("a", "b", "total"),
             relations=(Total("a"), Total("b"), RowSum("total", ("a", "b")), Total("total")))
    res = protect(t, s)
    shown = res.table[["a", "b", "total"]].to_numpy(dtype=object)
    truth = t[["a", "b", "total"]].to_numpy()
    assert not any(isinstance(v, int | np.integer) and 1 <= v <= 4 for v in shown.flat)
    cap = int(truth.sum()) + 1
    seen = _consistent_values(shown, truth, cap)
    # what the known margins alone give away (every non-zero cell hidden): no suppression can help
    worst = np.array([[0 if v == 0 else "<5" if v < 5 else "[c]" for v in row] for row in truth], dtype=object)
    floor = _consistent_values(worst, truth, cap)
    body_shown, body_truth = shown[:, :2], truth[:, :2]
    pinned_anyway = 0
    for k in range(4):
        assert int(body_truth.flat[k]) in seen[k]
        if body_shown.flat[k] == "<5":
            if len(floor[k]) == 1:
                pinned_anyway += 1
            else:
                assert len(seen[k]) >= 2, (t, res.table)  # never pinned down
    assert res.unprotected >= pinned_anyway  # and what cannot be protected is reported


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=3, max_size=7), st.lists(st.sampled_from(["<5", "[c]"]), min_size=7,
                                                                       max_size=7))
def test_closed_form_equals_the_linear_programme(vals, kinds):
    """One equation total = sum(parts): the closed form the audit uses equals scipy's LP."""
    from scipy.optimize import linprog

    values = np.array([float(sum(vals))] + [float(v) for v in vals])
    rel = [[(0, -1.0)] + [(i + 1, 1.0) for i in range(len(vals))]]
    bounds = {i + 1: ((1.0, 4.0) if kinds[i] == "<5" else (5.0, None)) for i in range(len(vals)) if i % 2 == 0}
    got = feasible_ranges(values, bounds, rel, list(bounds))
    order = sorted(bounds)
    b = values[0] - sum(values[i] for i in range(1, len(values)) if i not in bounds)
    for g in order:
        c = np.array([1.0 if v == g else 0.0 for v in order])
        lo = linprog(c, A_eq=[np.ones(len(order))], b_eq=[b], bounds=[bounds[v] for v in order], method="highs")
        if lo.status == 2:  # infeasible bounds (the kinds drawn do not fit the values): nothing to compare
            return
        hi = linprog(-c, A_eq=[np.ones(len(order))], b_eq=[b], bounds=[bounds[v] for v in order], method="highs")
        assert got[g][0] == pytest.approx(lo.fun) and got[g][1] == pytest.approx(-hi.fun)


def test_of_column_and_rate():
    t = pd.DataFrame({"source": ["a", "a", "a", "b"], "target": ["x", "y", "z", "x"], "n": [3, 12, 30, 9],
                      "of": [45, 45, 45, 9]})
    t["rate"] = t["n"] / t["of"]
    out = disclose(t, "conversion").table
    assert out.loc[0, "n"] == "<5" and out.loc[0, "rate"] is None
    assert out.loc[1, "n"] == "[c]" and out.loc[1, "rate"] is None  # 45 - 12 - 30 would give 3
    assert out.loc[2, "n"] == 30 and out.loc[2, "rate"] == pytest.approx(30 / 45)
    assert out.loc[3, "n"] == 9  # b's single target equals its `of`: nothing small there


def test_complement_is_protected():
    """8 referrals, 6 re-referred: the 2 not re-referred would be read off; one count is withheld."""
    t = pd.DataFrame({"year": ["2020-21", "2021-22"], "referrals": [8, 40], "within_12": [6, 10],
                      "rate_12": [0.75, 0.25], "within_36": [6, 20], "rate_36": [0.75, 0.5]})
    out = disclose(t, "rereferrals").table
    assert "[c]" in set(out.loc[0, ["referrals", "within_12", "within_36"]])
    assert out.loc[0, "rate_12"] is None and out.loc[1, "rate_12"] == 0.25


def test_cumulative_differences_are_protected():
    t = pd.DataFrame({"birth_year": [2010] * 3, "age": [1, 5, 10], "children": [6.0, 8.0, 20.0],
                      "cohort_size": [1000.0] * 3})
    t["incidence"] = t["children"] / t["cohort_size"]
    t["per_1000"] = 1000 * t["incidence"]
    out = disclose(t, "incidence").table
    # 8 - 6 = 2 children first entered between 1 and 5: one of the two is withheld
    assert "[c]" in {out.loc[0, "children"], out.loc[1, "children"]}
    assert out["incidence"].isna().sum() >= 1


def test_sankey_node_balance():
    links = pd.DataFrame({"source": ["A: x", "A: y", "B: p", "B: p"], "target": ["B: p", "B: p", "C: u", "C: v"],
                          "children": [20, 3, 10, 13]})
    out = disclose(links, "sankey-legal").table
    # into B: p 20 + 3 = out 10 + 13: with 3 hidden alone it would be 23 - 20
    assert out.loc[1, "children"] == "<5" and (out["children"] == "[c]").sum() >= 1


def test_curves_step_only_after_five_events_and_equal_the_naive_km():
    rng = np.random.default_rng(4)
    t = rng.integers(1, 60, 80).astype(float)
    e = rng.random(80) < 0.7
    times = np.unique(t)
    at_risk = np.array([(t >= u).sum() for u in times], float)
    d = np.array([((t == u) & e).sum() for u in times], float)
    surv = np.cumprod(1 - d / at_risk)
    raw = pd.DataFrame({"time": times, "survival": surv, "lower": surv, "upper": surv, "at_risk": at_risk,
                        "events": d})
    c = coarsen_km(raw)
    assert c["survival"].iloc[0] == 1.0 and (c["events"].iloc[1:] >= 5).all()
    assert c["events"].sum() <= d.sum() and d.sum() - c["events"].sum() < 5  # at most a tail of 1-4 not drawn
    for _, row in c.iloc[1:].iterrows():
        k = np.flatnonzero(times == row["time"])[0]
        assert row["survival"] == pytest.approx(surv[k]) and row["at_risk"] == at_risk[k]


def test_every_output_carries_method_window_and_rule():
    t = pd.DataFrame({"station": ["a", "b"], "entered": [3, 9], "children_entered": [3, 7], "left": [2, 9],
                      "open": [1, 0]})
    d = disclose(t, "stations", method="Stays per station.", window="2020-04-01 to 2021-03-31")
    text = d.csv()
    assert text.splitlines()[:4] == ["# cscflow stations: stays and children per station.",
                                     "# Method: Stays per station.", "# Data: 2020-04-01 to 2021-03-31",
                                     text.splitlines()[3]]
    assert text.splitlines()[3].startswith("# Disclosure control: counts of 1 to 4 shown as <5")
    raw = disclose(t, "stations", suppress=False)
    assert raw.header[-1].startswith("NOT SUPPRESSED: internal use only") and raw.table.equals(t)
    assert scrub("KM: 12 rows, 3 events, 9 censored.") == "KM: about 10 rows, <5 events, about 10 censored."
    assert scrub("KM: 1,234 rows, 2 events.") == "KM: about 1,230 rows, <5 events."
    assert scrub("KM: 12 rows, 7 events, 5 censored.") == "KM: 12 rows, 7 events, 5 censored."


def test_every_declared_count_exists_and_unknown_tables_are_refused():
    assert all(set(s.derived) .isdisjoint(s.counts) for s in SPECS.values())
    with pytest.raises(AnalysisError, match="no disclosure rules"):
        spec("nonsense")
