"""The forecast's observation start: per stage the earliest full window of a source holding it, then the latest
over the stages (a short source does not cut a long one whose stages cover its own)."""

from __future__ import annotations

import pandas as pd

from cscflow import Workspace
from cscflow.forecast.stays import observation_start


def _rows(source: str, stage: str, first: str, last: str, per_month: int = 40) -> list[dict]:
    rows = []
    for month in pd.date_range(first, last, freq="MS"):
        for i in range(per_month):
            rows.append({"episode_id": f"{source}-{stage}-{month:%Y%m}-{i}", "child_id": f"{source}{stage}{month:%Y%m}{i}",
                         "stage": stage, "start": month, "end": month, "source": source})
    return rows


def test_a_short_source_does_not_cut_a_long_one(tmp_path):
    long = _rows("returns.csv", "referral", "2014-04-01", "2018-03-01")
    short = _rows("annex.csv", "referral", "2017-04-01", "2018-03-01")
    with Workspace(tmp_path / "a", la="886") as ws:
        ws.write("episodes", pd.DataFrame(long + short))
        assert observation_start(ws) == pd.Timestamp("2014-04-01")


def test_a_stage_only_a_short_source_holds_shortens_the_window(tmp_path):
    long = _rows("returns.csv", "referral", "2014-04-01", "2018-03-01")
    contacts = _rows("annex.csv", "contact", "2017-04-01", "2018-03-01")
    with Workspace(tmp_path / "b", la="886") as ws:
        ws.write("episodes", pd.DataFrame(long + contacts))
        assert observation_start(ws) == pd.Timestamp("2017-04-01")
