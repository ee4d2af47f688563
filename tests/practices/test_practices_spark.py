"""The clocks are the same on Spark as on DuckDB (the same Ibis expressions)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from test_clocks import _s47, _stay

from cscflow.practices import evaluate

pytestmark = pytest.mark.spark


def test_clocks_identical_on_spark(workspace, spark_workspace):
    rows = (_s47("A", "2024-12-20", "2025-01-15") + _s47("B", "2024-12-20", "2025-01-16")
            + _s47("C", "2024-02-03") + _s47("I", "2024-02-05", "2024-02-09", outcome="nfa")
            + [_stay("E", "referral", "2024-03-06", "2024-03-08", "assessment"),
               _stay("E", "assessment", "2024-03-08", None),
               _stay("E", "assessment", "2024-03-08", "2024-05-13", "nfa"),
               _stay("L", "looked_after", "2022-01-10", "2022-03-01", placement="H5")])
    kids = pd.DataFrame({"child_id": ["L"], "la": ["886"], "birth_month": [dt.date(2010, 5, 1)]})
    procs = pd.DataFrame({"proceedings_id": ["P1"], "child_id": ["J"], "application_date": [dt.date(2024, 1, 1)],
                          "final_order_date": [dt.date(2024, 7, 2)]})
    out = []
    for ws in (workspace, spark_workspace):
        ws.write("episodes", pd.DataFrame(rows), mode="replace")
        ws.write("children", kids, mode="replace")
        ws.write("proceedings", procs, mode="replace")
        out.append(evaluate(ws, ["assessment-45wd", "icpc-15wd", "proceedings-26wk", "under16-unregistered"],
                            as_of="2025-02-28").sort_values(["rule", "child_id"]).reset_index(drop=True))
    duck, spark = out
    assert len(duck) == 6  # E; A, B, C (I ended without an ICPC); J; L
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False)
