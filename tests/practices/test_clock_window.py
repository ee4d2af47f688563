"""Rates count the clocks started in the data's window: a return holds an earlier referral only while its need was
still open (the tail of stays that lasted), so early months would show a biased, falsely 'improving' rate."""

from __future__ import annotations

import pandas as pd

from cscflow import Workspace
from cscflow.journeys.windows import source_windows
from cscflow.practices import evaluate
from cscflow.practices.summary import by_period, window_text


def test_rates_leave_out_clocks_started_before_the_window():
    c = pd.DataFrame({"rule": ["r"] * 3, "child_id": list("abc"), "team": ["N"] * 3,
                      "start": pd.to_datetime(["2010-01-04", "2012-01-02", "2012-01-03"]),
                      "due": pd.to_datetime(["2010-03-01", "2012-03-01", "2012-03-01"]),
                      "stop": pd.to_datetime(["2010-04-01", "2012-02-01", "2012-04-01"]),
                      "working_days": [60, 22, 65], "status": ["breached", "met", "breached"]})
    assert by_period(c)["due"].sum() == 3  # no window known: every clock counts
    c.attrs.update(as_of=pd.Timestamp("2012-06-01").date(), window_start=pd.Timestamp("2011-04-01"))
    m = by_period(c)
    assert m["month"].tolist() == ["2012-03"] and m["due"].tolist() == [2] and m["late"].tolist() == [1]
    assert "from 2011-04-01" in window_text(c) and "left out of the rates" in window_text(c)


def test_evaluate_takes_the_window_from_the_sources(tmp_path):
    # an event log whose months before 2021 are a thin tail (1 stay a month), then full (40 a month)
    rows, k = [], 0
    for month in pd.date_range("2019-01-01", "2022-12-01", freq="MS"):
        for _ in range(1 if month.year < 2021 else 40):
            k += 1
            rows.append({"episode_id": f"e{k}", "child_id": f"c{k}", "stage": "referral", "start": month,
                         "end": month, "source": "log.csv"})
    with Workspace(tmp_path / "ws", la="886") as ws:
        ws.write("episodes", pd.DataFrame(rows))
        start = source_windows(ws)["start"].min()
        assert start == pd.Timestamp("2021-01-01")
        assert evaluate(ws, ["assessment-45wd"]).attrs["window_start"] == start


def test_a_clock_due_after_the_as_of_date_is_not_counted_even_if_met():
    c = pd.DataFrame({"rule": ["r"] * 3, "child_id": list("abc"), "team": ["N"] * 3,
                      "start": pd.to_datetime(["2012-01-02", "2012-03-01", "2012-03-02"]),
                      "due": pd.to_datetime(["2012-03-01", "2012-05-01", "2012-05-02"]),
                      "stop": pd.to_datetime(["2012-04-01", "2012-03-20", None]),
                      "working_days": [65, 13, 20], "status": ["breached", "met", "open"]})
    c.attrs.update(as_of=pd.Timestamp("2012-04-02").date())
    m = by_period(c)
    assert m["month"].tolist() == ["2012-03"] and m["late"].tolist() == [1]  # May's early finisher waits
