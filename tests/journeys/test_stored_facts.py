"""Facts about the episodes kept in the workspace file (each source's window, the drawn stays' shape): a new
read-only process reads them instead of scanning, gets what it would have computed, and never a stale one."""

from __future__ import annotations

import pandas as pd
from test_windows import _workspace

from cscflow import Workspace
from cscflow.journeys import stored_facts, timeline
from cscflow.journeys import timeline_points as tp
from cscflow.journeys.maps import load_map
from cscflow.journeys.windows import _source_windows, source_windows


def _kept(ws) -> dict[str, str]:
    return {name: value for name, value in ws.sql(f"SELECT name, value FROM {stored_facts.TABLE}")}


def test_a_new_process_reads_the_kept_windows_and_shape(workspace):
    ws = _workspace(workspace)
    timeline.prepare(ws)  # what `cscflow load` does last
    kept = _kept(ws)
    assert "source-windows" in kept and any(k.startswith("shape:") for k in kept)
    path = ws.path
    ws.close()
    with Workspace(path, read_only=True) as ro:
        computed = _source_windows(ro)
        got = source_windows(ro)
        pd.testing.assert_frame_equal(got, computed[got.columns].reset_index(drop=True))
        assert stored_facts.remembered(ro, "source-windows", lambda: 1 / 0, str, lambda t: t) == kept["source-windows"]
        # a stage's sources: those holding a stay of it
        assert set(source_windows(ro, "cp_plan")["source"]) == {"annex.xlsx"}
        assert set(source_windows(ro, "looked_after")["source"]) == {"2020/Episodes.csv", "annex.xlsx"}
        shape = [v for k, v in kept.items() if k.startswith("shape:")][0]
        assert timeline._load_shape(shape) == tp.shape(ro, load_map("england", ro))


def test_a_change_the_kept_fact_did_not_see_is_computed_again(workspace):
    ws = _workspace(workspace)
    timeline.prepare(ws)
    before = source_windows(ws)
    # Annex A's CP plan moved 800 days back, behind the workspace's back (no write generation, no load)
    ws.sql("UPDATE episodes SET start = start - INTERVAL 800 DAY WHERE source = 'annex.xlsx' AND stage = 'cp_plan'")
    path = ws.path
    ws.close()
    with Workspace(path, read_only=True) as ro:
        after = source_windows(ro).set_index("source")
    assert before.set_index("source").loc["annex.xlsx", "first"] == pd.Timestamp("2016-02-01")
    assert after.loc["annex.xlsx", "first"] == pd.Timestamp("2017-08-01") - pd.Timedelta(days=800)
    # and a new load (a row in _sources) is a new key even where the episodes are the same
    with Workspace(path) as rw:
        k = stored_facts.key(rw)
        rw.sql("UPDATE _sources SET loaded_at = loaded_at + INTERVAL 1 DAY WHERE source = 'thin.csv'")
        rw.touch()
        assert stored_facts.key(rw) != k
