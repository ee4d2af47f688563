"""The review clocks are the same on Spark as on DuckDB (the same Ibis expressions)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_review_clocks import REVIEW_RULES, hand_data

from cscflow.practices import evaluate

pytestmark = pytest.mark.spark


def test_review_clocks_identical_on_spark(workspace, spark_workspace):
    stays, reviews = hand_data()
    kids = pd.DataFrame({"child_id": list("ABCDEFGHK"), "la": "886"})
    out = []
    for ws in (workspace, spark_workspace):
        ws.write("episodes", pd.DataFrame(stays), mode="replace")
        ws.write("reviews", pd.DataFrame(reviews), mode="replace")
        ws.write("children", kids, mode="replace")
        out.append(evaluate(ws, [*REVIEW_RULES, "care-order-no-review-6m"], as_of="2024-08-30")
                   .sort_values(["rule", "child_id", "start"]).reset_index(drop=True))
    duck, spark = out
    assert len(duck) == 13  # cla 20wd A B D E, 3m A B, 6m A B; cp 3m G H, 6m G K; care order F
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False)
