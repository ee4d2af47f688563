"""The Linkage page's API: summary and report for anyone allowed in; review and decisions on this machine only;
decisions re-applied on the next run and imported from a file."""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import pandas as pd
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from cscflow import Workspace
from cscflow.cli import cli
from cscflow.linkage import link_proceedings, write_links
from cscflow.linkage.decisions import import_decisions
from cscflow.web.app import create_app


@pytest.fixture(scope="module")
def served(small_county, tmp_path_factory):
    ws, truth, result, people, out = small_county
    write_links(ws, result)
    ws.close()
    copy = tmp_path_factory.mktemp("web") / "ws"
    shutil.copytree(out / "ws", copy)
    ws.__init__(out / "ws")  # the shared fixture's workspace, open again for the other tests
    return copy, truth, people


@contextmanager
def _client(path, host="127.0.0.1"):
    """A test client from ``host``; the app's read-only workspace is closed afterwards."""
    app = create_app(path)
    try:
        yield TestClient(app, base_url="http://127.0.0.1:8765", client=(host, 50000))
    finally:
        app.state.cscflow.close()


def test_summary_and_report_carry_no_identifiers(served):
    path, _, people = served
    with _client(path) as c:
        _summary_and_report(c, people)


def _summary_and_report(c, people):
    s = c.get("/api/linkage/summary").json()
    assert sum(v for v in s["counts"].values() if isinstance(v, int)) > 200 and s["threshold"] == 0.95
    assert not any(isinstance(v, int) and 1 <= v <= 4 for v in s["counts"].values())  # 1-4 as "<5"
    rep = c.get("/api/linkage/report")
    assert rep.status_code == 200
    body = rep.text
    names = pd.read_csv(people, dtype=str)
    assert not any(f'"{n}"' in body for n in names["Surname"].dropna().unique())
    assert {"rates", "compare", "sensitivity"} <= set(rep.json())
    page = c.get("/linkage")
    assert page.status_code == 200 and "linkage.js" in page.text


def test_review_only_for_this_machine(served):
    path, _, _ = served
    with _client(path, host="192.168.1.20") as far:
        assert far.get("/api/linkage/review").status_code == 403
        assert far.post("/api/linkage/decisions", json={"proceedings_id": "P", "child_id": "c",
                                                        "decision": "accept"}).status_code == 403
    with _client(path) as near:
        rows = near.get("/api/linkage/review").json()["rows"]
    assert rows, "the small county has an ambiguous row for review"
    r = rows[0]
    assert r["legal"]["surname"] and r["child"]["surname"] and any(k.startswith("mw_") for k in r["evidence"])


def test_decisions_reapplied_on_rerun(served, tmp_path):
    path, truth, _ = served
    with _client(path) as near:
        row = near.get("/api/linkage/review").json()["rows"][0]
        true_child = truth.set_index("row").loc[row["source_row"], "true_child"]
        decision = "accept" if row["child_id"] == true_child else "reject"
        stored = near.post("/api/linkage/decisions", json={"proceedings_id": row["proceedings_id"],
                                                           "child_id": row["child_id"], "decision": decision})
        assert stored.json() == {"stored": 1}
    with Workspace(path) as ws:
        again = link_proceedings(ws).rows.set_index("proceedings_id").loc[row["proceedings_id"]]
    if decision == "accept":
        assert again["status"] == "linked" and again["method"] == "clerical" and again["child_id"] == true_child
    else:
        assert again["candidate_child_id"] != row["child_id"]


def test_import_decisions(served, tmp_path):
    path, _, _ = served
    with Workspace(path) as ws:
        first = link_proceedings(ws)
        linked = first.rows[first.rows["status"] == "linked"].iloc[0]
        f = tmp_path / "decisions.csv"
        pd.DataFrame({"source": [linked["source"]], "source_row": [linked["source_row"]],
                      "child_id": [linked["child_id"]], "decision": ["reject"]}).to_csv(f, index=False)
    res = CliRunner().invoke(cli, ["link", str(path), "--import-decisions", str(f)])
    assert res.exit_code == 0, res.output
    with Workspace(path) as ws:
        links = ws.execute(ws.table("links"))
        assert not ((links["proceedings_id"] == linked["proceedings_id"])
                    & (links["child_id"] == linked["child_id"])).any()
        with pytest.raises(Exception, match="unknown decision"):
            bad = tmp_path / "bad.csv"
            bad.write_text("proceedings_id,child_id,decision\nP1,c1,maybe\n")
            import_decisions(ws, bad)
