"""One child per child: the same synthetic files loaded in any order, with or without --la, give exactly the
truth's children; files of two LAs are refused in a single-LA workspace and kept apart in a multi-LA one; a
workspace split by an older cscflow is refused with what to do."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cscflow import Workspace
from cscflow.errors import SourceError, WorkspaceError
from cscflow.sources import load


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    from cscflow.synth import synthesise

    out = tmp_path_factory.mktemp("identity")
    synthesise("tiny", seed=3, out_dir=out, formats=["annex-a", "cin", "903", "events"])
    truth = pd.read_parquet(out / "truth" / "journeys.parquet")
    groups = {"annex-a": [out / "annex_a.xlsx"], "cin": sorted(out.glob("cin_census_*.xml")),
              "903": [out / "ssda903"], "events": [out / "events.parquet"]}
    return out, groups, sorted(truth["child_id"].unique())


ORDERS = [
    ("annex-a", "903", "events", "cin"),   # the LA is stated only by the last files loaded
    ("cin", "annex-a", "903", "events"),   # stated by the first
    ("events", "cin", "903", "annex-a"),
    ("903", "events", "annex-a", "cin"),
]


@pytest.mark.parametrize("given_la", [None, "886"])
@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_any_order_with_or_without_la_gives_the_truths_children(county, tmp_path, order, given_la):
    _, groups, truth_ids = county
    ws = Workspace(tmp_path / "ws", la=given_la)
    for fmt in order:
        load(ws, groups[fmt], la=given_la)
    kids = ws.table("children").execute()
    assert len(kids) == len(truth_ids) == 895
    assert set(kids["child_id"]) == set(ws.pseudonymise(truth_ids))
    assert ws.la == "886" and set(kids["la"]) == {"886"}  # learnt from the CIN census when not given
    ws.close()


def test_one_batch_equals_file_by_file(county, tmp_path):
    _, groups, _ = county
    a = Workspace(tmp_path / "a")
    load(a, [p for fmt in ("events", "903", "annex-a", "cin") for p in groups[fmt]])
    b = Workspace(tmp_path / "b", la="886")
    b.key = a.key
    for fmt in ("cin", "annex-a", "903", "events"):
        load(b, groups[fmt])
    assert set(a.table("children").child_id.execute()) == set(b.table("children").child_id.execute())


def _other_la(src, dst, la: str) -> None:
    text = src.read_text()
    dst.write_text(re.sub(r"<LEA>\d{3}</LEA>", f"<LEA>{la}</LEA>", text))


def test_files_of_two_las_are_refused_then_kept_apart_in_a_multi_la_workspace(county, tmp_path):
    _, groups, truth_ids = county
    cin = groups["cin"][-1]
    other = tmp_path / "other" / f"la887_{cin.name}"  # a source is named by its file: names must differ
    other.parent.mkdir()
    _other_la(cin, other, "887")
    ws = Workspace(tmp_path / "single", la="886")
    with pytest.raises(SourceError, match=r"more than one LA.*887") as err:
        load(ws, [other])
    assert "--multi-la" in err.value.hint
    assert ws.count("episodes") == 0  # refused before anything was written
    mixed = Workspace(tmp_path / "mixed")  # no --la: the LA is learnt from the first file stating one
    load(mixed, [cin])
    with pytest.raises(SourceError, match="886, 887"):
        load(mixed, [other])

    multi = Workspace(tmp_path / "multi", multi_la=True)
    load(multi, [cin])
    load(multi, [other])
    kids = multi.table("children").execute()
    per_la = kids.groupby("la").size()
    assert per_la["886"] == per_la["887"] > 0  # the same LA child ids in two LAs are two children
    assert set(kids.child_id[kids.la == "886"]).isdisjoint(kids.child_id[kids.la == "887"])
    with pytest.raises(SourceError, match="does not state its LA"):
        load(multi, groups["events"])
    load(multi, groups["events"], la="886")  # --la names the LA of files that do not state one
    n886 = multi.table("children").execute().query("la == '886'")
    assert set(multi.pseudonymise(truth_ids, la="886")) >= set(n886.child_id)
    from cscflow.journeys import flow, load_map

    pmap = load_map("england", multi)
    both = flow.stations(multi, pmap)
    only = flow.stations(multi, pmap, where={"la": "887"})
    assert 0 < only["entered"].sum() < both["entered"].sum()


def test_single_and_multi_la_are_fixed_at_the_first_load(county, tmp_path):
    _, groups, _ = county
    ws = Workspace(tmp_path / "ws")
    load(ws, groups["events"])
    ws.close()
    with pytest.raises(WorkspaceError, match="single-LA"):
        Workspace(tmp_path / "ws", multi_la=True)


def test_a_workspace_split_by_an_older_cscflow_is_refused(county, tmp_path):
    _, groups, _ = county
    ws = Workspace(tmp_path / "old")
    load(ws, groups["events"])
    ws.con.raw_sql("UPDATE _source_children SET la = '886' WHERE source LIKE 'cin%' OR random() < 0.5")
    ws.close()
    settings = json.loads((tmp_path / "old" / "workspace.json").read_text())
    settings.pop("pseudonym_la")
    (tmp_path / "old" / "workspace.json").write_text(json.dumps(settings))
    with pytest.raises(WorkspaceError, match="older cscflow") as err:
        Workspace(tmp_path / "old", read_only=True)
    assert "new workspace" in err.value.hint
    # an older workspace loaded with --la hashed every source alike: its pseudonym LA is recorded
    settings["la"] = "886"
    (tmp_path / "old" / "workspace.json").write_text(json.dumps(settings))
    with Workspace(tmp_path / "old") as ws2:
        assert ws2.pseudonym_la == "886"


def test_cli_refuses_another_la_without_a_traceback(county, tmp_path):
    _, groups, _ = county
    other = tmp_path / "x" / groups["cin"][0].name
    other.parent.mkdir()
    _other_la(groups["cin"][0], other, "887")
    cscflow = Path(sys.executable).with_name("cscflow")  # the installed command, as a user runs it
    run = subprocess.run([str(cscflow), "load", str(tmp_path / "ws"), "--la", "886", "--quiet", str(other)],
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr and "887" in run.stderr and "--multi-la" in run.stderr
