"""The Forecast page's API through the app's in-process client: fan chart, what-if, spend, cache, errors."""

from __future__ import annotations

import yaml
from small_county import SURNAME, UPN

from cscflow.web.api.forecast import WEB_SIMULATIONS


def test_the_page_and_its_options(client, app):
    assert client.get("/forecast").status_code == 200
    o = client.get("/api/forecast/options").json()
    assert o["available"] and o["simulations"] == WEB_SIMULATIONS
    assert "looked_after" in [m["id"] for m in o["measures"]]
    j = {x["source"]: x for x in o["junctions"]}
    assert "assessment" in j and len(j["assessment"]["targets"]) >= 2
    assert abs(sum(t["share"] for t in j["assessment"]["targets"]) - 1) < 0.02
    assert o["costs"]["workspace"] is False and "costs.yaml" in o["costs"]["why"]
    moves = app.state.cscflow.ws.cached_values("web-forecast-fit")[0].moves  # no share of fewer than 5 stays
    assert all(moves[(x["source"], t["target"])] >= 5 for x in o["junctions"] for t in x["targets"])


def test_a_forecast_with_a_what_if_side_by_side(client):
    r = client.get("/api/forecast", params={"measure": "cp_plan", "horizon": 6, "source": "s47", "target": "icpc",
                                            "change": -50})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["what_if"] == "s47->icpc -50%"
    assert [row["scenario"] for row in d["rows"]].count("baseline") == 6 and len(d["rows"]) == 12
    assert any(f"{WEB_SIMULATIONS} times" in h for h in d["header"])
    names = [t.get("name") for t in d["figure"]["data"]]
    assert "observed" in names and any("what-if" in str(n) for n in names)
    assert d["spend"] is None
    assert SURNAME not in r.text and UPN[:8] not in r.text


def test_the_fit_is_made_once_per_workspace_generation(client, app):
    ws = app.state.cscflow.ws
    client.get("/api/forecast/options")
    first = ws.cached_values("web-forecast-fit")
    client.get("/api/forecast", params={"measure": "referrals", "horizon": 3})
    client.get("/api/forecast", params={"measure": "assessments", "horizon": 3})
    assert ws.cached_values("web-forecast-fit") == first and len(first) == 1
    # one simulation of a scenario serves every measure
    assert sum(1 for s in ws.cached_values("web-forecast-sims") if s["referral:starts"].shape[1] == 3) == 1


def test_example_costs_are_labelled(client):
    d = client.get("/api/forecast", params={"horizon": 3, "costs": "example"}).json()
    sp = d["spend"]
    assert sp["example"] and sp["label"] == "example costs, not published figures"
    assert any("NOT PUBLISHED FIGURES" in h for h in sp["header"])
    assert "example costs" in sp["figure"]["layout"]["title"]["text"]
    assert {r["item"] for r in sp["rows"]} >= {"all", "assessment"}


def test_the_workspaces_own_costs_file(tmp_path):
    import small_county
    from fastapi.testclient import TestClient

    from cscflow.web import create_app

    ws = small_county.build(tmp_path / "ws")
    (ws / "costs.yaml").write_text(yaml.safe_dump({"status": "local", "price_year": "2024-25", "unit_costs": {
        "assessment": 2000, "s47": 3000, "cp_plan_month": 500, "looked_after_day": 150, "proceedings": 20000}}))
    app = create_app(ws)
    try:
        c = TestClient(app, base_url="http://127.0.0.1:8765")
        o = c.get("/api/forecast/options").json()
        assert o["costs"]["workspace"] and "local unit costs" in o["costs"]["label"]
        sp = c.get("/api/forecast", params={"horizon": 3, "costs": "workspace"}).json()["spend"]
        assert not sp["example"] and "GBP" in sp["figure"]["layout"]["title"]["text"]
        row = {r["item"]: r for r in sp["rows"]}["assessment"]
        assert row["forecast"] == row["activity"] * 2000
    finally:
        app.state.cscflow.close()


def test_bad_parameters_are_422_with_a_message(client):
    for params, words in [({"measure": "nope"}, "no measure"), ({"horizon": 99}, "horizon"),
                          ({"source": "nowhere", "target": "nfa", "change": 10}, "no station"),
                          ({"costs": "mine"}, "costs")]:
        r = client.get("/api/forecast", params=params)
        assert r.status_code == 422 and words in r.json()["detail"], (params, r.text)


def test_a_workspace_too_short_to_fit_says_why(tmp_path):
    import pandas as pd
    from fastapi.testclient import TestClient

    from cscflow import Workspace
    from cscflow.web import create_app

    with Workspace(tmp_path / "short", la="999") as ws:
        ws.write("episodes", pd.DataFrame({
            "episode_id": ["1", "2"], "child_id": ["c", "c"], "stage": ["contact", "referral"],
            "start": pd.to_datetime(["2024-01-02", "2024-01-03"]), "end": pd.to_datetime(["2024-01-02", None]),
            "outcome": ["referral", None], "need_id": [None, "n1"], "source": "x", "source_row": [1, 2]}))
    app = create_app(tmp_path / "short")
    try:
        c = TestClient(app, base_url="http://127.0.0.1:8765")
        o = c.get("/api/forecast/options")
        assert o.status_code == 200 and o.json()["available"] is False and o.json()["why"]
        r = c.get("/api/forecast")
        assert r.status_code == 422 and r.json()["detail"].startswith("no forecast:")
    finally:
        app.state.cscflow.close()
