"""One load path: `cscflow load` (a separate process, as users run it) and the Python API
(`cscflow.sources.load`) give identical workspaces for an event log, table by table and row by row.

The log has what makes loading non-trivial: referrals that give stays their episode of need, workers to
hash, attributes, rows to quarantine (unknown stage, bad date, an exact duplicate) and a malformed line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cscflow import Workspace
from cscflow.journeys import stored_facts, timeline_store
from cscflow.sources import load

CSC_LOG = """child_id,stage,start,end,outcome,team,worker,priority
C1,Referral,2020-01-02,2020-01-02,,Front Door,W1,high
C1,assessment,2020-01-03,2020-02-10,nfa,Front Door,W1,high
C2,contact,2020-01-05,,,MASH,W2,
C2,Referral,2020-01-06,2020-01-06,,MASH,W2,low
C2,s47,2020-01-07,2020-01-20,cp_plan,North,W3,low
C2,cp_plan,2020-02-01,,,North,W3,low
C3,tea break,2020-01-08,,,North,W3,
C3,contact,yesterday,,,North,W3,
C1,Referral,2020-01-02,2020-01-02,,Front Door,W1,high
C4,contact,2020-03-01,,,,,,,extra
C4,referral,2020-03-02,,,MASH,,
C1,cin_plan,2020-03-01,,,Front Door,W1,
"""
PROCESS_LOG = """case:concept:name,concept:name,time:timestamp,org:resource
173688,A_SUBMITTED,2011-09-30 22:38:44.546000+00:00,112
173688,A_PARTLYSUBMITTED,2011-09-30 22:38:44.880000+00:00,112
173691,A_SUBMITTED,2011-10-01 06:08:58.256000+00:00,112
173688,W_Afhandelen leads,2011-10-01 09:45:13.917000+00:00,10912
173691,A_DECLINED,2011-10-01 06:09:10.000000+00:00,
"""


def _cli() -> list[str]:
    exe = Path(sys.executable).parent / "cscflow"
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from cscflow.cli import main; main()"]


def _tables(ws: Workspace) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ws.tables():
        if name.startswith(timeline_store.PREFIX) or name == stored_facts.TABLE:  # `cscflow load` also stores the
            continue                                                                # map's timeline and its facts
        df = ws.table(name).execute()
        df = df.drop(columns=[c for c in ("loaded_at",) if c in df.columns])  # the load's clock time
        df = df.astype(str)
        out[name] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


@pytest.mark.parametrize(("text", "options"), [(CSC_LOG, []), (PROCESS_LOG, ["--open-stages"])],
                         ids=["csc-log", "process-log"])
def test_cscflow_load_and_python_api_give_identical_workspaces(tmp_path, text, options):
    log = tmp_path / "log.csv"
    log.write_text(text)
    Workspace(tmp_path / "cli", la="886").close()  # the key first, so both workspaces share it
    (tmp_path / "api").mkdir()
    shutil.copy(tmp_path / "cli" / "key", tmp_path / "api" / "key")
    run = subprocess.run([*_cli(), "load", str(tmp_path / "cli"), str(log), "--format", "events", "--la", "886",
                          "--quiet", *options], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    with Workspace(tmp_path / "api", la="886") as ws:
        reports = load(ws, [log], format="events", open_stages=bool(options))
    with Workspace(tmp_path / "api", read_only=True) as ws:  # what was stored, as the other process sees it
        api = _tables(ws)
    with Workspace(tmp_path / "cli", read_only=True) as ws:
        cli = _tables(ws)
    assert sorted(cli) == sorted(api)
    for name in api:
        pd.testing.assert_frame_equal(cli[name], api[name], obj=name)
    rep = reports[0]
    assert rep.accounted and f"read {rep.rows_read:,}, loaded {rep.rows_loaded:,}" in run.stdout
    if not options:  # the CSC log: what the load must have done, so that "identical" is not "both empty"
        assert (rep.rows_read, rep.rows_loaded, rep.rows_quarantined) == (12, 8, 4)
        ep = api["episodes"]
        c2 = Workspace(tmp_path / "api", read_only=True)
        kid = c2.pseudonymise(["C2"])[0]
        c2.close()
        assert set(ep[ep.child_id == kid].need_id) == {"None", f"{kid}-20200106"}  # the contact precedes it
        assert not ep.worker.isin(["W1", "W2", "W3"]).any()
    else:
        assert (rep.rows_read, rep.rows_loaded) == (5, 5)
        assert set(api["episodes"].stage) == {"A_SUBMITTED", "A_PARTLYSUBMITTED", "W_Afhandelen leads", "A_DECLINED"}


def test_a_load_leaves_nothing_behind_in_the_engine(tmp_path, workspace):
    """The reader's temporary tables live in the workspace's connection: gone after a load, after a file
    that cannot be read (with a file read before it), and after a file without the needed columns."""
    from cscflow.errors import SourceError

    def temp() -> list[str]:
        con = workspace.con.con
        views = con.execute("SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall()
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        return sorted(n for (n,) in views + tables if n.startswith("_cscflow_ev"))

    good = tmp_path / "a.csv"
    good.write_text(CSC_LOG)
    assert load(workspace, [good], format="events")[0].rows_loaded == 8
    assert temp() == []
    bad = tmp_path / "b.csv"
    bad.write_text("person,when\nC1,2020-01-01\n")
    with pytest.raises(SourceError, match="missing required column"):
        load(workspace, [good, bad], format="events")
    assert temp() == []
    assert workspace.count("episodes") == 8  # the earlier load stands


def test_partitioned_files_are_sources_apart_and_same_names_in_one_load_refused(tmp_path):
    """Hive-partitioned files share a name (part-0.parquet): the partition folder is part of the source name,
    so loading them one by one keeps them all; two files named alike in one load are refused, not merged."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cscflow.errors import SourceError

    for la, kid in (("E1", "A"), ("E2", "B")):
        (tmp_path / "events" / f"la={la}").mkdir(parents=True)
        pq.write_table(pa.table({"child_id": [kid], "stage": ["referral"], "start": ["2020-01-02"]}),
                       tmp_path / "events" / f"la={la}" / "part-0.parquet")
    with Workspace(tmp_path / "ws", la="886") as ws:
        for la in ("E1", "E2"):
            load(ws, [tmp_path / "events" / f"la={la}" / "part-0.parquet"])
        assert ws.count("episodes") == 2
        assert sorted(ws.execute(ws.table("_sources"))["source"]) == ["la=E1/part-0.parquet", "la=E2/part-0.parquet"]
    for d in ("p", "q"):  # named by folder (p/... and q/... would be told apart by it), but the folders match
        (tmp_path / d / "a").mkdir(parents=True)
        (tmp_path / d / "a" / "log.csv").write_text("child_id,stage,start\nC1,referral,2020-01-02\n")
    with Workspace(tmp_path / "ws2", la="886") as ws, pytest.raises(SourceError, match="more than once in one load"):
        load(ws, [tmp_path / "p" / "a" / "log.csv", tmp_path / "q" / "a" / "log.csv"])
