"""``cscflow flow``'s printed table (cscflow.cli.flow.table_text) is pandas' ``to_string(index=False)``, character
for character: pandas itself is the reference, on columns of every kind a disclosed table holds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cscflow.cli.flow import table_text

CELLS = st.one_of(st.integers(0, 10**7), st.sampled_from(["<5", "[c]"]), st.none(), st.just(float("nan")),
                  st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([1, 1.0, True, 0.0, -0.0]))


@settings(max_examples=12, deadline=None)
@given(st.integers(1000, 1100), st.lists(CELLS, min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_printed_table_is_pandas_to_string(n, pool, seed):
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(pool), n)
    words = np.array(["contact", "referral > assessment", "s47", "a_very_long_station_name_indeed", "x"])
    t = pd.DataFrame({
        "rank": np.arange(1, n + 1) * int(rng.integers(1, 1000)),
        "variant": words[rng.integers(0, len(words), n)],
        "cases": pd.Series([pool[i] for i in pick], dtype=object),
        "share": rng.random(n) * float(rng.choice([1e-6, 1.0, 1e7])),
        "date": [dt.date(2020, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 900, n)],
        "day": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        "open": rng.random(n) < 0.5,
        "median": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 400, n) / 7),
    })
    assert table_text(t) == t.to_string(index=False)


def test_small_and_empty_tables_are_printed_by_pandas():
    t = pd.DataFrame({"station": ["contact", "s47"], "children": ["<5", 12]})
    assert table_text(t) == t.to_string(index=False)
    assert table_text(t.iloc[:0]) == "(no rows)"
