"""Timelines, tracks, the directly-follows graph and variants are identical on Spark and DuckDB."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from jdata import random_episodes

from cscflow.journeys import flow, timelines, tracks


def write_both(workspaces, seed: int, n_children: int) -> None:
    """The same random episodes and children in each workspace."""
    df = random_episodes(seed, n_children)
    ids = sorted(df.child_id.unique())
    kids = pd.DataFrame({"child_id": ids, "sex": ["F" if i % 2 else "M" for i in range(len(ids))],
                         "ethnicity": "WBRI", "birth_month": pd.Timestamp("2012-06-01"), "disability": False,
                         "uasc": False})
    for ws in workspaces:
        ws.write("episodes", df, mode="replace")
        ws.write("children", kids, mode="replace")


@pytest.mark.spark
@pytest.mark.slow
def test_spark_matches_duckdb(spark_workspace, workspace):
    write_both((spark_workspace, workspace), 31, 25)
    results = []
    for ws in (spark_workspace, workspace):
        tl = ws.execute(timelines(ws, "england")).sort_values(["child_id", "seq"]).reset_index(drop=True)
        tl["start"] = pd.to_datetime(tl["start"])
        tl["end"] = pd.to_datetime(tl["end"])
        results.append((tl, tracks(ws, "england", "travel"), flow.dfg(ws, "england"),
                        ws.execute(timelines(ws, "england", where={"sex": "F"})).shape[0],
                        flow.variants(ws, "england", start="2024-02-10", where={"sex": "M"})))
    (tl_s, tr_s, dfg_s, f_s, v_s), (tl_d, tr_d, dfg_d, f_d, v_d) = results
    assert len(v_d) > 3
    pd.testing.assert_frame_equal(v_s, v_d, check_dtype=False)
    assert len(tl_d) > 100
    pd.testing.assert_frame_equal(tl_s, tl_d, check_dtype=False)
    for name, a in tr_d.arrays():
        assert np.array_equal(dict(tr_s.arrays())[name], a), name
    assert tr_s.to_bytes() == tr_d.to_bytes()
    pd.testing.assert_frame_equal(dfg_s, dfg_d, check_dtype=False)
    assert f_s == f_d


@pytest.mark.spark
@pytest.mark.slow
def test_every_flow_table_matches_on_spark(spark_workspace, workspace):
    """Every flow table of `cscflow flow` gives the same table on Spark as on DuckDB (national analysts' path)."""
    write_both((spark_workspace, workspace), 32, 30)
    nonempty = 0
    for name, fn in flow.TABLES.items():
        kw = {"at": "2024-03-01"} if name == "before-after" else {}
        got, want = fn(spark_workspace, "england", **kw), fn(workspace, "england", **kw)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False,
                                      obj=name)
        nonempty += len(want) > 0
    assert nonempty >= len(flow.TABLES) - 1
