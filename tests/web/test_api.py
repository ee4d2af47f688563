"""The web API through FastAPI's in-process client, checked against the engine and naive references."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import struct

import numpy as np
import pandas as pd
import pytest
import small_county

DAY = "2022-06-01"


def decode(blob: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """An independent reader of the contract's binary layout."""
    (n,) = struct.unpack_from("<I", blob, 0)
    header = json.loads(blob[4 : 4 + n])
    arrays = {}
    for spec in header["arrays"]:
        assert spec["offset"] % 8 == 0
        dtype = np.dtype(spec["dtype"]).newbyteorder("<")
        arrays[spec["name"]] = np.frombuffer(blob, dtype=dtype, count=spec["length"], offset=spec["offset"])
    return header, arrays


def naive_counts(stays: dict[str, np.ndarray], ids: list[str], day: dt.date) -> dict[str, int]:
    """Children at each station on ``day`` by the contracts.md rule, one stay at a time."""
    d = (day - dt.date(1970, 1, 1)).days
    seen: dict[str, set] = {}
    for c, s, a, b in zip(stays["child"], stays["station"], stays["start"], stays["end"], strict=True):
        if a == d or (a <= d < b):
            seen.setdefault(ids[s], set()).add(int(c))
    return {k: len(v) for k, v in seen.items()}


def test_map_has_every_station_of_the_map_file(client, engine):
    _, pmap = engine
    body = client.get("/api/map").json()
    assert [(s["id"], s["x"], s["y"], s["zone"]) for s in body["stations"]] == [
        (s["id"], s["x"], s["y"], s["zone"]) for s in pmap.stations
    ]
    assert {line["id"] for line in body["lines"]} == {line["id"] for line in pmap.lines}
    assert "exit" in body["zones"] and "sex" in body["filters"]


def test_every_move_in_the_tracks_has_a_drawn_route(client, engine):
    """/api/map's routes: each (from, to) move of the tracks follows stations joined by a map line or an added
    route; a move no line joins with at least route_share of its station's moves out is an added route
    (counted here one leg at a time)."""
    from cscflow.journeys.tracks import OUTSIDE

    _, pmap = engine
    body = client.get("/api/map").json()
    header, arrays = decode(client.get("/api/tracks").content)
    ids = [s["id"] for s in header["stations"]]
    moves: dict[tuple[str, str], int] = {}
    for a, b in zip(arrays["from"], arrays["to"], strict=True):
        if a != OUTSIDE and b != OUTSIDE:
            moves[(ids[a], ids[b])] = moves.get((ids[a], ids[b]), 0) + 1
    paths = {(p["from"], p["to"]): p["via"] for p in body["routes"]["paths"]}
    assert set(paths) == set(moves)
    joined = {frozenset(pair) for line in pmap.lines for pair in zip(line["stations"], line["stations"][1:], strict=False)}
    added = {frozenset((r["from"], r["to"])) for r in body["routes"]["added"]}
    for (a, b), via in paths.items():
        assert via[0] == a and via[-1] == b
        assert all(frozenset(step) in joined | added for step in zip(via, via[1:], strict=False)), via
    # A move no line joins with at least route_share of its station's moves out and route_min moves: its way is at
    # most route_detour times a straight route (along the lines where they do not go far round, else a new route).
    on_a_line = [set(line["stations"]) for line in pmap.lines]
    xy = {st["id"]: (float(st["x"]), float(st["y"])) for st in pmap.stations}
    heavy = 0
    for (a, b), n in moves.items():
        share = n / sum(m for (x, y), m in moves.items() if x == a and y != x)
        if a != b and share >= body["route_share"] and n >= body["route_min"] and not any({a, b} <= s for s in on_a_line):
            heavy += 1
            way = sum(math.dist(xy[u], xy[v]) for u, v in zip(paths[(a, b)], paths[(a, b)][1:], strict=False))
            assert way <= body["route_detour"] * math.dist(xy[a], xy[b]) + 1e-9, (a, b, paths[(a, b)])
    for r in body["routes"]["added"]:         # a route is added for a heavy move, or where the lines reach no way
        a, b = r["move"]
        share = moves[(a, b)] / sum(m for (x, y), m in moves.items() if x == a and y != x)
        assert r["rare"] or (share >= body["route_share"] and moves[(a, b)] >= body["route_min"]), r
    assert heavy and body["routes"]["added"], "the small county has moves its map lacks"


def test_events_come_from_the_workspace(client):
    assert client.get("/api/events").json() == [{"date": "2022-10-03", "label": "Ofsted inspection", "kind": "inspection"}]


def test_tracks_blob_is_the_engines_and_holds_every_child(client, engine, web_workspace):
    from cscflow.journeys import tracks

    ws, pmap = engine
    res = client.get("/api/tracks?convention=queue")
    assert res.headers["content-type"] == "application/octet-stream"
    assert res.content == tracks(ws, pmap, convention="queue").to_bytes()
    header, arrays = decode(res.content)
    episodes = ws.table("episodes").execute()
    assert header["n_children"] == episodes["child_id"].nunique()  # naive: every child with a stay
    assert arrays["child"].max() + 1 == header["n_children"]
    assert len(arrays["from"]) == header["n_legs"]
    assert np.all(arrays["arrive"] >= arrays["depart"])


def test_cohort_filter_narrows_the_tracks_to_the_cohort(client, engine):
    ws, _ = engine
    header, _ = decode(client.get("/api/tracks?sex=F").content)
    children = ws.table("children").execute()
    episodes = ws.table("episodes").execute()
    girls = set(children.loc[children["sex"] == "F", "child_id"]) & set(episodes["child_id"])
    assert header["n_children"] == len(girls)


def test_stays_blob_counts_equal_stations_on(client, engine):
    from cscflow.journeys.flow import stations_on

    ws, pmap = engine
    header, arrays = decode(client.get("/api/stays").content)
    for day in (dt.date(2021, 11, 25), dt.date(2022, 6, 1), dt.date(2023, 12, 31)):
        expected = stations_on(ws, pmap, day)
        assert naive_counts(arrays, header["stations"], day) == dict(
            zip(expected["station"], expected["children"], strict=True)
        )


COHORTS = [("team=North", {"team": "North"}), ("sex=F", {"sex": "F"}),
           ("sex=M&ethnicity=White", {"sex": "M", "ethnicity": "White"})]


@pytest.mark.parametrize("query, where", COHORTS, ids=[q for q, _ in COHORTS])
def test_stays_blob_keeps_the_timeline_order(client, engine, query, where):
    """Stays come per child in the timeline's ``seq`` order (same-day steps keep their order); children are
    numbered in the cohort (filters on the child alone are masks over everyone's rows)."""
    from cscflow.journeys import timelines

    ws, pmap = engine
    header, arrays = decode(client.get(f"/api/stays?{query}").content)
    tl = ws.execute(timelines(ws, pmap, where=where)).sort_values(["child_id", "seq"])
    assert len(tl) > 10
    ids = header["stations"]
    assert [ids[s] for s in arrays["station"]] == tl["station"].tolist()
    kids = sorted(tl["child_id"].unique())
    assert arrays["child"].tolist() == [kids.index(c) for c in tl["child_id"]]
    unix = pd.Timestamp("1970-01-01")
    assert arrays["start"].tolist() == [(t.normalize() - unix).days for t in tl["start"]]


def test_stays_blob_orders_same_day_steps_by_seq(tmp_path):
    """Same-day contact, referral and strategy discussion stored in reverse: the blob follows seq, not storage."""
    from fastapi.testclient import TestClient

    from cscflow import Workspace
    from cscflow.web import create_app

    n = 400
    stages = ["strategy_discussion", "referral", "contact"]  # stored last step first
    with Workspace(tmp_path, la="999") as ws:
        ws.write("episodes", pd.DataFrame({
            "episode_id": [f"{c}-{k}" for c in range(n) for k in range(3)],
            "child_id": [f"c{c:04d}" for c in range(n) for _ in range(3)],
            "stage": stages * n, "start": pd.Timestamp("2024-01-02"), "end": pd.Timestamp("2024-01-02"),
            "outcome": ["s47", "strategy_discussion", "referral"] * n,
            "need_id": [f"n{c}" if k < 2 else None for c in range(n) for k in range(3)], "source": "x",
            "source_row": [3 * c + 3 - k for c in range(n) for k in range(3)]}))
    app = create_app(tmp_path)
    header, arrays = decode(TestClient(app, base_url="http://127.0.0.1").get("/api/stays").content)
    app.state.cscflow.close()
    got = [header["stations"][s] for s in arrays["station"]]
    assert got == ["contact", "referral", "strategy_discussion"] * n


@pytest.mark.parametrize("query, where", COHORTS, ids=[q for q, _ in COHORTS])
def test_counts_endpoint_is_stations_on_with_filters(client, engine, query, where):
    from cscflow.journeys.flow import stations_on

    ws, pmap = engine
    got = client.get(f"/api/counts?date={DAY}&{query}").json()
    exp = stations_on(ws, pmap, DAY, where=where)
    assert len(exp) >= 2
    assert got == [{"station": s, "children": int(c)} for s, c in zip(exp["station"], exp["children"], strict=True)]


def test_child_journey_by_index_is_pseudonymised(client, engine):
    from cscflow.journeys import timelines, tracks

    ws, pmap = engine
    t = tracks(ws, pmap)
    body = client.get("/api/children/5").json()
    assert body["child_id"] == t.child_ids[5]
    tl = timelines(ws, pmap)
    rows = tl.filter(tl.child_id == body["child_id"]).execute()
    assert len(body["stays"]) == len(rows)
    assert {s["station"] for s in body["stays"]} == set(rows["station"])


def test_no_identifier_leaves_the_api(client, engine):
    ws, _ = engine
    idents = ws.table("identifiers").execute()
    urls = ["/api/map", "/api/events", f"/api/counts?date={DAY}", "/api/children/0", "/api/children/7",
            f"/api/stations/assessment?date={DAY}", "/api/flow/conversion", "/api/flow/variants?format=csv",
            "/api/tracks", "/api/stays"]
    secrets = [small_county.SURNAME, *idents["upn"].head(20), *idents["forenames"].head(20), "2010-05-17",
               *idents["source_child_id"].map(lambda v: f'"{v}"').head(20)]
    for url in urls:
        text = client.get(url).content.decode("latin-1")
        for secret in secrets:
            assert secret not in text, (url, secret)


@pytest.mark.parametrize("table", ["conversion", "durations", "rereferrals"])
def test_flow_json_equals_the_engine_table(client, engine, table):
    from cscflow.disclosure import disclose
    from cscflow.journeys import flow

    ws, pmap = engine
    url = f"/api/flow/{table}?start=2021-06-01&end=2023-06-30&sex=M"
    exp = getattr(flow, table)(ws, pmap, start=dt.date(2021, 6, 1), end=dt.date(2023, 6, 30), where={"sex": "M"})
    body = client.get(url + "&suppress=false").json()  # internal use: the engine's table, marked so
    assert body["columns"] == list(exp.columns) and not body["suppressed"]
    assert "NOT SUPPRESSED: internal use only" in body["caption"]
    assert len(body["rows"]) == len(exp)
    got = pd.DataFrame(body["rows"], columns=body["columns"])
    for col in exp.columns:
        if pd.api.types.is_numeric_dtype(exp[col]) and not pd.api.types.is_bool_dtype(exp[col]):
            np.testing.assert_allclose(got[col].astype(float), exp[col].astype(float), equal_nan=True)
    shown = client.get(url).json()  # what the page reads: the disclosed table, same shape
    assert shown["suppressed"] and shown["columns"] == body["columns"] and len(shown["rows"]) == len(exp)
    want = disclose(exp, table).table
    got = pd.DataFrame(shown["rows"], columns=shown["columns"])
    for col in ("n", "ended", "open", "referrals", "within_12", "within_36", "of"):
        if col in want.columns:
            assert got[col].astype(str).tolist() == want[col].astype(str).tolist(), col


def test_csv_download_suppresses_small_numbers(client, engine):
    from cscflow.journeys import flow

    ws, pmap = engine
    exp = flow.conversion(ws, pmap)
    text = client.get("/api/flow/conversion?format=csv").text
    head = [x for x in text.splitlines() if x.startswith("# ")]
    assert head[0].startswith("# cscflow conversion") and head[-1].startswith("# Disclosure control")
    rows = list(csv.DictReader(io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#")))))
    assert len(rows) == len(exp)
    small_seen = False
    for row, (_, ref) in zip(rows, exp.iterrows(), strict=True):
        for col in ("n", "of"):
            if 1 <= ref[col] <= 4:
                small_seen = True
                assert row[col] == "<5" and row["rate"] == ""
            elif row[col] == "[c]":  # secondary: withheld so that `of` minus the others gives nothing away
                assert ref[col] >= 5 and row["rate"] == ""
            else:
                assert row[col] == str(ref[col])
    assert small_seen  # the small county has small cells, so suppression was exercised
    got = pd.DataFrame(rows)
    for _, g in got.groupby("source"):  # never exactly one hidden n under a shown `of`
        if g["of"].iloc[0] not in ("<5", "[c]"):
            assert g["n"].isin(["<5", "[c]"]).sum() != 1
    raw = client.get("/api/flow/conversion?format=csv&suppress=false").text
    assert "# NOT SUPPRESSED: internal use only" in raw
    raw_rows = list(csv.DictReader(io.StringIO("\n".join(x for x in raw.splitlines() if not x.startswith("#")))))
    assert [r["n"] for r in raw_rows] == [str(v) for v in exp["n"]]


def test_station_panel_numbers(client, engine):
    from cscflow.journeys import flow, timelines

    ws, pmap = engine
    body = client.get(f"/api/stations/cin_plan?date={DAY}").json()
    on = flow.stations_on(ws, pmap, DAY)
    assert body["here_now"] == int(on.loc[on["station"] == "cin_plan", "children"].iloc[0])
    tl = timelines(ws, pmap).execute()
    start = pd.to_datetime(tl["start"]).dt.normalize()
    week = tl[(tl["station"] == "cin_plan") & (start <= DAY) & (start >= pd.Timestamp(DAY) - pd.Timedelta(days=6))]
    assert body["arrived_week"] == week["child_id"].nunique()
    conv = flow.conversion(ws, pmap)
    assert len(body["onward"]) == int((conv["source"] == "cin_plan").sum()) > 0
    assert {r["source"] for r in body["durations"]} == {"cin_plan"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/counts?date=2022-13-45",
        "/api/counts",
        "/api/tracks?convention=sideways",
        "/api/tracks?sex=%3Cscript%3E",
        "/api/tracks?colour=red",
        "/api/tracks?disability=perhaps",
        "/api/tracks?repeat=abc",
        "/api/children/-1",
        "/api/children/999999",
        "/api/children/abc",
        "/api/flow/nonsense",
        "/api/flow/conversion?start=yesterday",
        "/api/flow/conversion?format=xml",
        "/api/stations/nowhere",
        f"/api/counts?date={DAY}&ethnicity={'x' * 200}",
    ],
)
def test_bad_parameters_get_422_with_a_message(client, url):
    res = client.get(url)
    assert res.status_code == 422, (url, res.status_code, res.text[:200])
    assert res.json()["detail"]


def test_security_headers_and_csp(client):
    for url in ("/", "/api/map", "/static/js/main.js"):
        res = client.get(url)
        assert res.status_code == 200
        assert "default-src 'self'" in res.headers["content-security-policy"]
        assert res.headers["x-content-type-options"] == "nosniff"


def test_csp_allows_scripts_and_workers_only_from_the_app(client):
    """The map's density worker (static/js/density-worker.js) is a same-origin file: scripts and workers come only
    from 'self' (no blob:, data:, other hosts or inline code), and the worker's own file gets the same policy."""
    for url in ("/", "/static/js/density-worker.js"):
        res = client.get(url)
        assert res.status_code == 200, url
        policy = dict(part.strip().split(" ", 1) for part in res.headers["content-security-policy"].split(";"))
        assert policy["script-src"] == policy["worker-src"] == policy["default-src"] == "'self'", policy


def test_static_paths_cannot_escape(client):
    for url in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/js/../../app.py",
                "/static/%2e%2e/%2e%2e/web/app.py", "/static//etc/passwd"):
        res = client.get(url)
        assert res.status_code in (400, 404), url
        assert b"create_app" not in res.content and b"root:" not in res.content


def test_foreign_host_is_refused(client):
    assert client.get("/api/map", headers={"host": "evil.example:8765"}).status_code == 400


def test_token_is_required_when_set(web_workspace):
    from fastapi.testclient import TestClient

    from cscflow.web import create_app

    app = create_app(web_workspace, token="s3cret", allowed_hosts=["*"])
    try:
        c = TestClient(app, base_url="http://10.0.0.5:8765")
        first = c.get("/?token=s3cret")
        assert first.status_code == 200 and "cscflow_token" in first.headers["set-cookie"]
        assert c.get("/api/map").status_code == 200  # the cookie now carries it
        c = TestClient(app, base_url="http://10.0.0.5:8765")
        assert c.get("/api/map").status_code == 401
        assert c.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/map", headers={"authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/api/map", headers={"x-cscflow-token": "s3cret"}).status_code == 200
    finally:
        app.state.cscflow.close()


def test_serving_off_loopback_needs_a_token(web_workspace):
    from click.testing import CliRunner

    from cscflow.cli import cli
    from cscflow.errors import CscflowError
    from cscflow.web.security import check_bind

    with pytest.raises(CscflowError):
        check_bind("0.0.0.0", None)
    check_bind("192.168.1.4", "tok")
    result = CliRunner().invoke(cli, ["serve", str(web_workspace), "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "token" in result.output


def test_page_has_no_inline_code_and_nothing_off_the_machine():
    from cscflow.web.app import STATIC

    html = (STATIC / "index.html").read_text()
    assert "<style" not in html and " style=" not in html and " on" + "click=" not in html
    for tag in html.split("<script")[1:]:
        assert "src=" in tag.split(">")[0] and tag.split(">", 1)[1].startswith("</script")
    for path in [STATIC / "index.html", *STATIC.rglob("*.js"), *STATIC.rglob("*.css")]:
        text = path.read_text()
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, path
        assert "@import" not in text and "eval(" not in text, path


def test_plotly_is_served_locally(client):
    res = client.get("/vendor/plotly.min.js")
    assert res.status_code == 200 and len(res.content) > 1_000_000


def test_every_router_module_is_included(app):
    import importlib
    import pkgutil

    from cscflow.web import api

    included = {id(getattr(r, "original_router", None)) for r in app.routes}
    modules = [m.name for m in pkgutil.iter_modules(api.__path__)]
    assert {"map", "tracks", "children", "flow", "stations"} <= set(modules)
    for name in modules:  # stats.py (the analytics helper's) included too when present
        router = getattr(importlib.import_module(f"cscflow.web.api.{name}"), "router", None)
        assert router is None or id(router) in included, name


def test_the_observation_window_is_not_opened_by_a_small_early_source(tmp_path):
    """/api/map's window opens with the sources that hold the stays, not with a handful of early records of
    another source (here 3 stays in 2010 beside 400 from 2020), and closes on the data's last day."""
    from types import SimpleNamespace

    from cscflow import Workspace
    from cscflow.web.api.map import observation_window

    ws = Workspace(tmp_path / "ws", la="999")
    days = pd.date_range("2020-01-06", periods=400, freq="D")
    big = pd.DataFrame({"episode_id": [f"b{i}" for i in range(400)], "child_id": [f"c{i % 90}" for i in range(400)],
                        "stage": "referral", "start": days, "end": days + pd.Timedelta(days=20), "outcome": "nfa",
                        "need_id": [f"n{i}" for i in range(400)], "source": "big.csv", "source_row": range(400)})
    small = pd.DataFrame({"episode_id": ["s1", "s2", "s3"], "child_id": ["d1", "d2", "d3"], "stage": "referral",
                          "start": pd.to_datetime(["2010-03-01", "2010-05-01", "2010-07-01"]),
                          "end": pd.to_datetime(["2010-04-01", "2010-06-01", "2010-08-01"]), "outcome": "nfa",
                          "need_id": ["m1", "m2", "m3"], "source": "old.csv", "source_row": range(3)})
    ws.write("episodes", pd.concat([big, small], ignore_index=True))
    window = observation_window(SimpleNamespace(ws=ws))
    assert window == ["2020-01-01", (days[-1] + pd.Timedelta(days=20)).date().isoformat()]
