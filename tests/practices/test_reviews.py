"""Learning without harm: reviewed breaches stored in the workspace, counted by cause, notes never exported."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from test_clocks import _s47

from cscflow import Workspace
from cscflow.cli import cli
from cscflow.practices import evaluate
from cscflow.practices import reviews as rev
from cscflow.practices.rules import RulesError

NOTE = "Chair on leave; conference rebooked"


@pytest.fixture
def ws_path(tmp_path):
    rows = []
    for i in range(8):  # Fri 20 Dec 2024: the 15th working day is 15 Jan 2025; 16 Jan is late
        rows += _s47(f"c{i}", "2024-12-20", "2025-01-16" if i < 6 else "2025-01-15")
    path = tmp_path / "ws"
    with Workspace(path, la="886") as ws:
        ws.write("episodes", pd.DataFrame(rows))
    return path


def test_reviews_counted_by_cause(ws_path):
    run = CliRunner().invoke
    for child, cause in (("c0", "scheduling"), ("c1", "capacity"), ("c1", "scheduling"), ("c2", "scheduling")):
        r = run(cli, ["practices", str(ws_path), "--review", f"icpc-15wd,{child},2024-12-20", "--cause", cause,
                      "--note", NOTE])
        assert r.exit_code == 0, r.output
    r = run(cli, ["practices", str(ws_path), "--review", "icpc-15wd,c7,2024-12-20", "--cause", "other"])
    assert r.exit_code == 1 and "no breached or overdue" in r.output  # c7 was on time
    with Workspace(ws_path, read_only=True) as ws:
        stored = rev.load(ws)
        t = rev.causes_by_month(rev.with_reviews(evaluate(ws, ["icpc-15wd"]), stored))
    assert len(stored) == 3  # c1's second review replaced its first
    row = t.iloc[0]
    assert (row["month"], row["late"], row["reviewed"], row["scheduling"], row["capacity"]) == ("2025-01", 6, 3, 3, 0)
    r = run(cli, ["practices", str(ws_path), "--reviews", "--no-suppress"])
    assert r.exit_code == 0 and NOTE not in r.output and "scheduling" in r.output
    r = run(cli, ["practices", str(ws_path), "--reviews"])
    assert "<5" in r.output  # 3 reviewed: suppressed when shared


def test_unknown_cause_is_refused(ws_path):
    with Workspace(ws_path, read_only=True) as ws, pytest.raises(RulesError, match="unknown cause"):
        rev.record(ws, "icpc-15wd", "c0", "2024-12-20", "blame")
