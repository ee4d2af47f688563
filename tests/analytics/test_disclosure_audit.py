"""The audit's exact shortcuts (cscflow.disclosure.audit) against scipy's linear programme, and scipy left
unimported when no block of equations needs the LP."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscflow.disclosure.audit import disclosed, feasible_ranges


def _lp_ranges(values, bounds, relations, targets):
    """The naive reference: two LPs per target over every hidden variable at once (no blocks, no shortcut)."""
    from scipy.optimize import linprog

    order = sorted(bounds)
    col = {v: i for i, v in enumerate(order)}
    a = np.zeros((len(relations), len(order)))
    b = np.zeros(len(relations))
    for r, rel in enumerate(relations):
        for v, coef in rel:
            if v in bounds:
                a[r, col[v]] += coef
            else:
                b[r] -= coef * values[v]
    out = {}
    for g in targets:
        c = np.zeros(len(order))
        c[col[g]] = 1.0
        lo = linprog(c, A_eq=a, b_eq=b, bounds=[bounds[v] for v in order], method="highs")
        hi = linprog(-c, A_eq=a, b_eq=b, bounds=[bounds[v] for v in order], method="highs")
        assert lo.status == 0
        out[g] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 4), st.integers(2, 4), st.lists(st.integers(0, 12), min_size=16, max_size=16),
       st.lists(st.sampled_from(["shown", "<5", "[c]", "loose"]), min_size=16, max_size=16), st.booleans())
def test_two_way_table_ranges_equal_the_linear_programme(rows, cols, cells, kinds, totals_shown):
    """A rows x cols table with row and column totals (shown or hidden): every block, whatever its degrees of
    freedom (0 and 1 read off exactly, more by LP), gives the LP's ranges over the whole table."""
    grid = np.array(cells[: rows * cols], dtype=float).reshape(rows, cols)
    values = list(grid.ravel()) + list(grid.sum(axis=1)) + list(grid.sum(axis=0)) + [grid.sum()]
    n = rows * cols
    rel = [[(n + r, -1.0)] + [(r * cols + c, 1.0) for c in range(cols)] for r in range(rows)]
    rel += [[(n + rows + c, -1.0)] + [(r * cols + c, 1.0) for r in range(rows)] for c in range(cols)]
    rel += [[(n + rows + cols, -1.0)] + [(n + r, 1.0) for r in range(rows)]]
    bounds = {}
    for i in range(n):
        v, kind = values[i], kinds[i]
        if kind == "<5" and 1 <= v <= 4:
            bounds[i] = (1.0, 4.0)
        elif kind == "[c]" and v >= 5:
            bounds[i] = (5.0, None)
        elif kind == "loose":
            bounds[i] = (0.0, None)
    if not totals_shown:
        bounds[n] = (0.0, None)
    if not bounds:
        return
    vals = np.array(values)
    got = feasible_ranges(vals, bounds, rel, list(bounds))
    want = _lp_ranges(vals, bounds, rel, list(bounds))
    for g in bounds:
        assert got[g][0] == pytest.approx(want[g][0], abs=1e-7), (g, got[g], want[g])
        assert got[g][1] == pytest.approx(want[g][1], abs=1e-7), (g, got[g], want[g])
    assert sorted(disclosed(got)) == sorted(disclosed(want))


def test_a_line_of_solutions_is_cut_by_the_bounds():
    """x0 + x1 = 6 and x1 + x2 = 9 with x0, x1 in 1..4 and x2 >= 5: x1 = 6 - x0 in 2..4 (x1 <= 4),
    x2 = 9 - x1 in 5..7; two equations, one degree of freedom: no LP needed, the segment read off."""
    values = np.array([3.0, 3.0, 6.0, 6.0, 9.0])
    rel = [[(3, -1.0), (0, 1.0), (1, 1.0)], [(4, -1.0), (1, 1.0), (2, 1.0)]]
    got = feasible_ranges(values, {0: (1.0, 4.0), 1: (1.0, 4.0), 2: (5.0, None)}, rel, [0, 1, 2])
    assert got[0] == pytest.approx((2.0, 4.0)) and got[1] == pytest.approx((2.0, 4.0))
    assert got[2] == pytest.approx((5.0, 7.0))
    assert disclosed(got) == []
    # true values 4, 2, 7: a reader told x2 >= 7 has x1 = 9 - x2 <= 2 and x1 = 6 - x0 >= 2: all three known
    pinned = feasible_ranges(np.array([4.0, 2.0, 7.0, 6.0, 9.0]), {0: (1.0, 4.0), 1: (1.0, 4.0), 2: (7.0, None)},
                             rel, [0, 1, 2])
    assert disclosed(pinned) == [0, 1, 2]


def test_scipy_is_imported_only_when_a_block_needs_the_linear_programme():
    code = """
import sys
import pandas as pd
from cscflow.disclosure import disclose
t = pd.DataFrame({"source": ["a", "a", "a", "b"], "target": ["x", "y", "z", "x"], "n": [3, 12, 30, 9],
                  "of": [45, 45, 45, 9]})
t["rate"] = t["n"] / t["of"]
out = disclose(t, "conversion").table
assert out.loc[0, "n"] == "<5" and out.loc[1, "n"] == "[c]", out
print("scipy.optimize" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
