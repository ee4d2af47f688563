"""Each source's data window (journeys.windows), the one definition the survival analyses and the
look-backs both read: an SSDA903 return from 1 April of its collection year, Annex A from its
earliest begun stay, an event log from its first month of full coverage (a thin tail before it is
not the start), a thin event log from its first month."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from cscflow.analytics import windows as survival
from cscflow.journeys import lookback
from cscflow.journeys.windows import source_windows


def _ep(i, source, stage, start, end=None, **attrs):
    return {"episode_id": f"e{i}", "child_id": f"c{i}", "stage": stage, "start": pd.Timestamp(start),
            "end": pd.Timestamp(end) if end else pd.NaT, "outcome": None, "attrs": json.dumps(attrs),
            "source": source, "source_row": i}


def _workspace(workspace):
    from cscflow.sources.load import ensure_internal

    rows, i = [], 0
    # an event log: 40 referrals a month from April 2018, and a thin tail of 1 a quarter from 2012
    for month in pd.date_range("2018-04-01", "2020-03-01", freq="MS"):
        for d in range(40):
            rows.append(_ep(i, "log.csv", "referral", month + pd.Timedelta(days=d % 28)))
            i += 1
    for day in pd.date_range("2012-02-10", "2018-01-10", freq="91D"):
        rows.append(_ep(i, "log.csv", "referral", day + pd.Timedelta(days=9), "2018-06-01"))
        i += 1
    # a thin log: a few stays from mid-June 2019
    for d in ("2019-06-17", "2019-08-01", "2020-01-05"):
        rows.append(_ep(i, "thin.csv", "referral", d))
        i += 1
    # an SSDA903 return of 2019-20 holding a period begun in 2015
    rows.append(_ep(i, "2020/Episodes.csv", "looked_after", "2015-05-01", "2019-12-01", return_year=2020))
    rows.append(_ep(i + 1, "2020/Episodes.csv", "looked_after", "2019-07-01", None, return_year=2020))
    # an Annex A: a CLA list reaching back to 2016, referrals from 3 March 2019
    rows.append(_ep(i + 2, "annex.xlsx", "looked_after", "2016-02-01", None))
    rows.append(_ep(i + 3, "annex.xlsx", "referral", "2019-03-03", "2019-03-10"))
    rows.append(_ep(i + 4, "annex.xlsx", "cp_plan", "2017-08-01", None))
    workspace.write("episodes", pd.DataFrame(rows))
    ensure_internal(workspace)
    src = ["log.csv", "thin.csv", "2020/Episodes.csv", "annex.xlsx"]
    workspace.write("_sources", pd.DataFrame({
        "source": src, "format": ["events", "events", "903", "annex-a"], "load_seq": [1, 2, 3, 4],
        "loaded_at": [pd.Timestamp("2024-01-01")] * 4, "rows_read": [1] * 4, "rows_loaded": [1] * 4,
        "rows_quarantined": [0] * 4, "rows_repaired": [0] * 4, "report": ["{}"] * 4}))
    return workspace


def test_each_source_window_and_both_analyses_read_it(workspace):
    ws = _workspace(workspace)
    w = source_windows(ws).set_index("source")
    assert w.loc["log.csv", "first"] == pd.Timestamp("2012-02-19")
    assert w.loc["log.csv", "start"] == pd.Timestamp("2018-04-01")  # full coverage, not the tail
    assert w.loc["thin.csv", "start"] == pd.Timestamp("2019-06-01")  # too thin to tell: its first month
    assert w.loc["2020/Episodes.csv", "start"] == pd.Timestamp("2019-04-01")
    assert w.loc["2020/Episodes.csv", "end"] == pd.Timestamp("2020-03-31")
    assert w.loc["annex.xlsx", "start"] == pd.Timestamp("2019-03-03")  # its earliest referral
    assert w.loc["log.csv", "stays"] == 24 * 40 + len(pd.date_range("2012-02-10", "2018-01-10", freq="91D"))
    # the survival window and the look-backs' data start are the same dates
    surv = survival.source_windows(ws).set_index("source")["start"]
    look = lookback.source_starts(ws).set_index("source")["start"]
    assert surv.to_dict() == look.to_dict() == w["start"].to_dict()
    assert lookback.visible_from(ws, "referral") == pd.Timestamp("2018-04-01")  # the earliest of its sources
    assert lookback.visible_from(ws, "cp_plan") == pd.Timestamp("2019-03-03")  # only Annex A holds CP plans
    assert "full coverage" in survival.describe(survival.source_windows(ws))


def test_coverage_start_against_a_hand_count():
    """The first month opening three months in a row at 60% or more of the latest year's median month."""
    from cscflow.journeys.windows import coverage_start

    idx = pd.date_range("2015-01-01", periods=30, freq="MS")
    counts = np.r_[[5, 70, 3, 2, 65, 70, 10, 62, 61, 60], np.full(20, 100)]
    got = coverage_start(pd.Series(counts, index=idx))
    ok = counts >= 60
    hand = next(k for k in range(len(ok)) if ok[k:k + 3].all())
    assert got == idx[hand] == pd.Timestamp("2015-08-01")


def test_coverage_level_is_the_fullest_year_not_a_thin_latest_one():
    """A log loaded after the returns keeps only the stays they lack: its latest year is thin. Its window must
    still open where its full coverage begins (the demo county's event log opened 20 months early before)."""
    import pandas as pd

    from cscflow.journeys.windows import coverage_start

    counts = [20, 25, 30, 40, 60, 90] * 4 + [7000] * 48 + [600] * 12  # tail, full coverage, thin latest year
    months = pd.Series(counts, index=pd.date_range("2009-04-01", periods=len(counts), freq="MS"))
    assert coverage_start(months) == pd.Timestamp("2011-04-01")
    assert coverage_start(months.iloc[-12:]) == pd.Timestamp("2015-04-01")  # a steady year: its first month
