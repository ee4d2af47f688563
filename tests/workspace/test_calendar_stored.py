"""The working-day calendar is stored by every load, so read-only processes (`cscflow flow`) read it instead of
building it; a read-only workspace without it gets the same days in memory."""

from __future__ import annotations

from cscflow import Workspace
from cscflow.model.calendar import calendar_frame
from cscflow.sources import load
from cscflow.workspace.workspace import CALENDAR_TABLE


def test_load_stores_the_calendar_and_read_only_reads_it(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("child_id,stage,start\nC1,referral,2020-01-02\n")
    with Workspace(tmp_path / "ws", la="886") as ws:
        load(ws, [log])
    with Workspace(tmp_path / "ws", read_only=True) as ro:
        assert CALENDAR_TABLE in ro.tables()
        got = ro.execute(ro.calendar().order_by("date"))
    want = calendar_frame()
    assert got["is_working_day"].tolist() == want["is_working_day"].tolist()
    assert got["wd_index"].tolist() == want["wd_index"].tolist()


def test_read_only_without_a_stored_calendar_builds_it_once(tmp_path):
    Workspace(tmp_path / "ws", la="886").close()
    with Workspace(tmp_path / "ws", read_only=True) as ro:
        first, again = ro.calendar(), ro.calendar()
        assert first is again  # built once per process
        assert int(ro.execute(first.count())) == len(calendar_frame())
