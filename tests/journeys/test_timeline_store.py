"""Timelines stored in the workspace file: reused by a new (read-only) process, never stale."""

from __future__ import annotations

import pandas as pd
from jdata import random_episodes

from cscflow import Workspace
from cscflow.journeys import timeline, timelines
from cscflow.journeys import timeline_store as store


def rows(ws) -> pd.DataFrame:
    return ws.execute(timelines(ws, "england")).sort_values(["child_id", "seq"]).reset_index(drop=True)


def fresh(path) -> Workspace:
    """A new read-only process on the workspace: nothing of this process's cache is reused."""
    return Workspace(path, read_only=True)


def test_a_new_process_reads_the_stored_timeline(write_episodes):
    ws = write_episodes(random_episodes(3, 30))
    assert timeline.prepare(ws) == ("england", len(rows(ws)))
    built = rows(ws)
    [name] = store.stored_names(ws)
    path = ws.path
    ws.close()
    with fresh(path) as ro:
        got = rows(ro)
        assert timeline.cached_tables(ro) == [name]   # the stored table, no temporary one
        assert store.stored_names(ro) == [name]
    pd.testing.assert_frame_equal(got, built)


def test_changed_episodes_get_a_new_timeline_and_the_stale_one_goes(write_episodes):
    ws = write_episodes(random_episodes(4, 30))
    timeline.prepare(ws)
    [old] = store.stored_names(ws)
    before = rows(ws)
    # A change the in-process fingerprint (counts, spans, sums) cannot see: one stay's stage.
    ws.sql("UPDATE episodes SET stage = 'cin_plan' WHERE rowid = (SELECT min(rowid) FROM episodes "
                   "WHERE stage = 'assessment')")
    path = ws.path
    ws.close()
    with fresh(path) as ro:     # read-only: builds a temporary timeline, does not trust the stored one
        changed = rows(ro)
        assert store.stored_names(ro) == [old]
        assert not changed.equals(before)
    with Workspace(path) as rw:
        again = rows(rw)
        [new] = store.stored_names(rw)
        assert new != old
        bare = rw.execute(timelines(rw, "england", cache=False)).sort_values(["child_id", "seq"])
    pd.testing.assert_frame_equal(again, changed)
    pd.testing.assert_frame_equal(again, bare.reset_index(drop=True)[again.columns])


def test_a_write_through_the_workspace_is_seen_by_the_same_process(workspace):
    """Replacing the episodes with the same counts, dates and source rows but one stage changed (the quick
    fingerprint cannot tell) gives the new timeline in the same process: every write bumps the generation."""
    df = pd.DataFrame({"child_id": ["c", "c"], "stage": ["referral", "assessment"],
                       "start": pd.to_datetime(["2024-01-02", "2024-01-05"]),
                       "end": pd.to_datetime(["2024-01-04", "2024-01-09"]), "source_row": [1, 2]})
    workspace.write("episodes", df, mode="replace")
    assert workspace.execute(timelines(workspace, "england")).station.tolist() == ["referral", "assessment"]
    workspace.write("episodes", df.assign(stage=["referral", "cin_plan"]), mode="replace")
    assert workspace.execute(timelines(workspace, "england")).station.tolist() == ["referral", "cin_plan"]


def test_an_event_log_of_instants_is_stored_only_by_prepare(workspace):
    """A process log (every stay an instant) is one sort to build: building it in a process writes nothing to
    the file; `cscflow load` (prepare) stores it, and each later process reads it (the same rows)."""
    df = pd.DataFrame({"child_id": ["a", "a", "b"], "stage": ["submitted", "approved", "submitted"],
                       "start": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-01-03"]), "source_row": [1, 2, 3]})
    workspace.write("episodes", df.assign(end=df.start), mode="replace")

    def auto_rows(ws):
        tl = timelines(ws, timeline.load_map("auto", ws))
        return ws.execute(tl).sort_values(["child_id", "seq"]).reset_index(drop=True)

    built = auto_rows(workspace)
    assert store.stored_names(workspace) == []
    assert timeline.prepare(workspace) == ("auto", 3)
    [name] = store.stored_names(workspace)
    path = workspace.path
    workspace.close()
    with fresh(path) as ro:
        got = auto_rows(ro)
        assert timeline.cached_tables(ro) == [name]   # the stored table, no temporary one
    pd.testing.assert_frame_equal(got, built)
    assert got.station.tolist() == ["submitted", "approved", "submitted"]


def test_a_redrawn_map_keeps_its_timeline_a_changed_rule_does_not(write_episodes):
    """Labels, colours and places do not change a timeline: a map relabelled or moved reads the stored one; a
    change of precedence (which stage wins a day) is another timeline."""
    from dataclasses import replace

    from cscflow.journeys.maps import load_map

    ws = write_episodes(random_episodes(5, 30))
    timeline.prepare(ws)
    [name] = store.stored_names(ws)
    england = load_map("england")
    redrawn = replace(england, stations=[{**s, "label": s["label"].upper(), "x": s["x"] + 1} for s in england.stations],
                      lines=[{**ln, "colour": "#000000"} for ln in england.lines])
    swapped = list(england.precedence)
    i, j = swapped.index("cp_plan"), swapped.index("cin_plan")
    swapped[i], swapped[j] = swapped[j], swapped[i]
    path = ws.path
    ws.close()
    with fresh(path) as ro:
        ro.execute(timelines(ro, redrawn).count())
        assert timeline.cached_tables(ro) == [name]   # the stored table
        ro.execute(timelines(ro, replace(england, precedence=swapped)).count())
        assert timeline.cached_tables(ro)[-1] != name  # built again, in a temporary table


def test_only_the_timelines_stored_last_are_kept(write_episodes):
    """A timeline is stored per map and end date: six end dates keep the last MAX_STORED (4) of them, not six
    tables growing the file; a dropped one is built again, the same, when asked for."""
    ws = write_episodes(random_episodes(5, 30))
    ends = [pd.Timestamp("2020-01-31") + pd.DateOffset(months=i) for i in range(6)]
    names: list[str] = []
    for end in ends:
        before = set(store.stored_names(ws))
        ws.execute(timelines(ws, "england", end=end))
        [new] = set(store.stored_names(ws)) - before
        names.append(new)
    assert store.stored_names(ws) == sorted(names[-store.MAX_STORED:])
    first = ws.execute(timelines(ws, "england", end=ends[0])).sort_values(["child_id", "seq"]).reset_index(drop=True)
    bare = ws.execute(timelines(ws, "england", end=ends[0], cache=False)).sort_values(["child_id", "seq"])
    pd.testing.assert_frame_equal(first, bare.reset_index(drop=True)[first.columns])
    assert len(store.stored_names(ws)) == store.MAX_STORED and names[0] in store.stored_names(ws)
