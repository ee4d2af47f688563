"""Known answer: the directly-follows graph and variants of the BPI Challenge 2012 log (262,200 events,
13,087 cases, 24 activities; ../shared/data/pm4py-core-event-logs, see PROVENANCE.md) equal a plain
pandas computation. The log is loaded as a user loads it: `cscflow.sources.load` (what `cscflow load`
calls) with its pm4py column names recognised and ``open_stages`` (it is not a CSC log)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cscflow.journeys import flow, load_map
from cscflow.sources import load


@pytest.fixture
def bpic_frame(shared_data):
    df = pd.read_csv(shared_data / "pm4py-core-event-logs" / "bpic2012.csv.gz")
    df["ts"] = pd.to_datetime(df["time:timestamp"], utc=True, format="ISO8601").dt.tz_convert(None)
    df["case"] = df["case:concept:name"].astype(str)
    df["row"] = np.arange(len(df))
    # events of a case in time order, ties in file order
    return df.sort_values(["case", "ts", "row"], kind="stable").reset_index(drop=True)


@pytest.mark.slow
def test_bpic2012_dfg_and_variants_equal_pandas(workspace, bpic_frame, shared_data):
    rep = load(workspace, [shared_data / "pm4py-core-event-logs" / "bpic2012.csv.gz"], format="events",
               open_stages=True)[0]
    df = bpic_frame
    assert rep.rows_read == rep.rows_loaded == len(df) == 262_200 and df.case.nunique() == 13_087
    assert workspace.count("children") == 13_087
    pmap = load_map("auto", workspace)
    assert len(pmap.station_ids) == df["concept:name"].nunique() == 24
    got = flow.dfg(workspace, pmap)
    nxt = df.groupby("case")["concept:name"].shift(-1)
    days = (df.groupby("case")["ts"].shift(-1) - df["ts"]) / pd.Timedelta(days=1)
    pairs = pd.DataFrame({"source": df["concept:name"], "target": nxt, "days": days, "case": df.case})
    pairs = pairs[pairs.target.notna()]
    want = pairs.groupby(["source", "target"]).agg(
        transitions=("days", "size"), cases=("case", "nunique"), mean_days=("days", "mean"),
        median_days=("days", "median")).reset_index()
    m = got.merge(want, on=["source", "target"], how="outer", suffixes=("", "_w"), indicator=True)
    assert (m["_merge"] == "both").all() and len(got) == len(want)
    assert (m.transitions == m.transitions_w).all() and (m.cases == m.cases_w).all()
    assert got.transitions.sum() == 262_200 - 13_087
    assert np.allclose(m.mean_days, m.mean_days_w, rtol=1e-9, atol=1e-9)
    assert np.allclose(m.median_days, m.median_days_w, rtol=1e-9, atol=1e-9)
    var = flow.variants(workspace, pmap)
    want_v = df.groupby("case")["concept:name"].agg(" > ".join).value_counts()
    assert len(var) == len(want_v) and var.cases.sum() == 13_087
    assert dict(zip(var.variant, var.cases, strict=True)) == want_v.to_dict()


@pytest.mark.slow
def test_event_log_source_row_is_the_row_in_the_file(workspace, tmp_path, shared_data):
    """DuckDB parses a large CSV on both threads; each event's source_row must still be its row in the file
    (ties in time keep the file's order), its case the pseudonym of the file's case id, its other columns
    its attrs (the case: columns its child's). The log twice over (~60 MB) spans several of the reader's buffers."""
    df = pd.read_csv(shared_data / "pm4py-core-event-logs" / "bpic2012.csv.gz", dtype=str)
    df2 = pd.concat([df, df.assign(**{"case:concept:name": df["case:concept:name"] + "b"})], ignore_index=True)
    path = tmp_path / "log.csv"
    df2.to_csv(path, index=False)
    rep = load(workspace, [path], format="events", open_stages=True)[0]
    assert rep.rows_loaded == len(df2) and rep.accounted
    got = workspace.con.raw_sql("SELECT source_row, child_id, stage, attrs FROM episodes ORDER BY source_row").df()
    assert got.source_row.tolist() == list(range(1, len(df2) + 1))
    assert got.child_id.tolist() == list(workspace.pseudonymise(df2["case:concept:name"].tolist()))
    assert got.stage.tolist() == df2["concept:name"].tolist()
    last = df2.iloc[-1]
    want = {c: None if pd.isna(last[c]) else last[c] for c in ("org:resource", "lifecycle:transition")}
    attrs = got["attrs"].iloc[-1]
    assert (json.loads(attrs) if isinstance(attrs, str) else attrs) == want
    # the case attributes are the child's: once, in children.attrs
    [[case]] = workspace.con.raw_sql("SELECT attrs FROM children WHERE child_id = ?",
                                     parameters=[got.child_id.iloc[-1]]).fetchall()
    first = df2[df2["case:concept:name"] == last["case:concept:name"]].iloc[0]
    assert json.loads(case) == {c: first[c] for c in ("case:REG_DATE", "case:AMOUNT_REQ")}
