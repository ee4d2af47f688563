"""Small-number suppression: primary (1-4), secondary (no total reveals a cell), derived columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cscflow.analytics.suppression import suppress


def test_cross_table_with_row_totals():
    t = pd.DataFrame(
        {"team": ["North", "South", "East"], "home": [3, 20, 30], "sgo": [10, 8, 6], "adoption": [0, 15, 25]}
    )
    t["total"] = t[["home", "sgo", "adoption"]].sum(axis=1)
    t["pct_home"] = 100 * t["home"] / t["total"]
    out = suppress(t, ["home", "sgo", "adoption"], row_total="total", derived={"pct_home": "home"})
    assert out.loc[0, "home"] == "<5" and out.loc[0, "pct_home"] == "<5"
    # North's total would reveal home=3: the smallest other non-zero cell in the row (sgo=10) goes too
    assert out.loc[0, "sgo"] == "<5"
    # the home column total would reveal it: South's home=20 (smallest other) goes too ...
    assert out.loc[1, "home"] == "<5"
    # ... and then South's row has one suppressed cell -> its smallest other (sgo=8) goes
    assert out.loc[1, "sgo"] == "<5"
    assert out.loc[2, "adoption"] == 25 and out.loc[0, "adoption"] == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), min_size=3, max_size=3), min_size=2, max_size=6))
def test_no_small_count_shown_and_no_group_with_exactly_one_hidden(rows):
    t = pd.DataFrame(rows, columns=["a", "b", "c"])
    t["total"] = t.sum(axis=1)
    out = suppress(t, ["a", "b", "c"], row_total="total")
    cols = ["a", "b", "c", "total"]
    hidden = out[cols].to_numpy() == "<5"
    vals = t[cols].to_numpy()
    shown = vals[~hidden]
    assert not ((shown > 0) & (shown < 5)).any()
    for j in range(4):  # columns: one hidden cell is only allowed if nothing else could be hidden
        col = hidden[:, j]
        if col.sum() == 1:
            assert not ((vals[:, j] > 0) & ~col).any()
    for i in range(len(t)):
        row = hidden[i]
        if row.sum() == 1:
            assert not ((vals[i] > 0) & ~row).any()
    assert np.array_equal(out.loc[~hidden[:, 0], "a"].astype(int), t.loc[~hidden[:, 0], "a"])
