"""The Timescales page and ``/api/practices``: p-chart, team funnel and due-soon list, disclosed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from test_clocks import _s47

from cscflow import Workspace

SURNAME = "Quibblethwaite"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from fastapi.testclient import TestClient

    from cscflow.web import create_app

    path = tmp_path_factory.mktemp("web") / "ws"
    rng = np.random.default_rng(3)
    rows = []
    days = pd.bdate_range("2023-01-02", "2024-10-31")
    for i in range(400):
        start = days[int(rng.integers(len(days)))]
        late = rng.random() < (0.4 if i % 4 == 0 else 0.15)
        icpc = start + pd.Timedelta(days=int(rng.integers(24, 40) if late else rng.integers(5, 19)))
        rows += _s47(f"k{i:04d}", str(start.date()), str(icpc.date()) if icpc <= pd.Timestamp("2024-12-31") else None,
                     team=["North", "South", "East", "West"][i % 4])
    rows += _s47("soon1", "2024-12-20")  # due 15 Jan 2025
    with Workspace(path, la="886") as ws:
        ws.write("episodes", pd.DataFrame(rows))
        ws.write("identifiers", pd.DataFrame({"child_id": ["k0001"], "source": ["t"], "surname": [SURNAME],
                                              "birth_date": [dt.date(2010, 1, 1)]}))
    app = create_app(path)
    yield TestClient(app, base_url="http://127.0.0.1:8765")
    app.state.cscflow.close()


def test_rules_and_page(client):
    r = client.get("/api/practices")
    assert r.status_code == 200
    body = r.json()
    assert body["as_of"] == "2024-12-20"
    ev = {x["rule"]: x["evaluable"] for x in body["rules"]}
    assert ev["icpc-15wd"] and not ev["cla-review-20wd"]
    page = client.get("/timescales")
    assert page.status_code == 200 and "timescales.js" in page.text


def test_rule_charts_and_due_soon(client):
    r = client.get("/api/practices/icpc-15wd", params={"as_of": "2025-01-09"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["spc"]["figure"]["data"] and len(body["spc"]["rows"]) >= 20
    teams = {row["label"]: row for row in body["funnel"]["rows"]}
    assert set(teams) == {"North", "South", "East", "West"}
    assert teams["North"]["value"] > teams["South"]["value"]  # North breaches more often (by construction)
    due = body["due_soon"]["rows"]
    assert [d["child_id"] for d in due] == ["soon1"] and due[0]["working_days_left"] == 4
    assert SURNAME not in r.text
    assert body["reviews"]["rows"] and body["reviews"]["rows"][0]["reviewed"] == 0
    csv = client.get("/api/practices/icpc-15wd/due-soon.csv", params={"as_of": "2025-01-09"})
    assert csv.status_code == 200 and "soon1" in csv.text and "pseudonymised" in csv.text
    # small monthly counts never leave unsuppressed
    for row in body["spc"]["rows"]:
        assert not (isinstance(row["late"], int) and 1 <= row["late"] <= 4)


def test_rule_without_clocks(client):
    body = client.get("/api/practices/assessment-45wd").json()  # no assessments in this workspace
    assert body["counts"]["clocks"] == 0 and "none" in body["spc"] and body["due_soon"]["rows"] == []


def test_bad_requests(client):
    assert client.get("/api/practices/nope").status_code == 422
    assert client.get("/api/practices/cla-review-20wd").status_code == 422
    assert client.get("/api/practices/icpc-15wd", params={"as_of": "yesterday"}).status_code == 422
