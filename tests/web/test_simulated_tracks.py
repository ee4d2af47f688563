"""The map's forecast period (``/api/tracks/simulated``): one simulated run as the map's tracks blob."""

from __future__ import annotations

import numpy as np
import pandas as pd
from small_county import SURNAME, UPN

from cscflow.journeys.tracks import OUTSIDE, read_blob

URL = "/api/tracks/simulated"


def _get(client, **params):
    r = client.get(URL, params=params)
    assert r.status_code == 200, r.text
    return r, *read_blob(r.content)


def _open_caseload(ws, pmap, origin: pd.Timestamp) -> dict[str, int]:
    """The known truth: children with a stay at a (non-exit) station of the map begun by the end of the origin
    day and still open after it, counted on the engine's timelines, not on the forecast model."""
    from cscflow.journeys import timelines

    tl = ws.execute(timelines(ws, pmap).select("child_id", "station", "start", "end", "kind"))
    stations = {s["id"] for s in pmap.stations if s.get("zone") != "exit"}
    end = pd.to_datetime(tl["end"])
    on = ((pd.to_datetime(tl["start"]) <= origin) & (end.isna() | (end > origin)) & (tl["kind"] == "stay")
          & tl["station"].isin(stations))
    return {str(k): int(v) for k, v in tl[on].groupby("station")["child_id"].nunique().items()}


def _shown(n: int):
    return "<5" if 0 < n < 5 else n


def test_simulated_legs_start_at_the_origin_on_the_maps_stations(client, engine):
    ws, pmap = engine
    r, h, a = _get(client, horizon=6)
    real = read_blob(client.get("/api/tracks").content)[0]
    assert h["simulated"] is True and h["epoch"] == real["epoch"] and h["stations"] == real["stations"]
    assert h["note"] == (f"Simulated: forecast from {pd.Timestamp(h['origin']):%d %B %Y}, one run of the fitted model, "
                         "not real children")
    origin_day = h["origin_day"]
    assert pd.Timestamp(h["epoch"]) + pd.Timedelta(days=origin_day) == pd.Timestamp(h["origin"])
    assert h["n_legs"] > 0 and a["depart"].min() >= origin_day and a["arrive"].min() >= origin_day
    end_day = (pd.Timestamp(h["end"]) - pd.Timestamp(h["epoch"])).days
    assert a["arrive"].max() <= end_day + 1
    n_st = len(pmap.station_ids)
    for name in ("from", "to"):
        v = a[name]
        assert ((v < n_st) | (v == OUTSIDE)).all()
    # every child enters the map once (simulated children do not come back) and the blob holds indices only
    assert int((a["from"] == OUTSIDE).sum()) == h["n_children"] == len(np.unique(a["child"]))
    assert "child_ids" not in r.content[:4096].decode("latin-1")


def test_no_real_child_id_leaves(client, engine):
    ws, _ = engine
    r, h, _ = _get(client, horizon=3)
    text = r.content.decode("latin-1")
    ids = ws.execute(ws.table("children").select("child_id"))["child_id"]
    assert not any(str(i) in text for i in ids)
    assert SURNAME not in text and UPN[:8] not in text


def test_simulated_children_at_the_origin_are_the_real_open_caseload(client, engine, app):
    ws, pmap = engine
    _, h, a = _get(client, horizon=12)
    origin = pd.Timestamp(h["origin"])
    truth = _open_caseload(ws, pmap, origin)
    assert truth, "the small county has children open at the origin"
    assert h["at_origin"] == {s: _shown(n) for s, n in truth.items()}
    assert h["n_open"] == _shown(sum(truth.values()))
    # the daily counts on the origin day hold at least those children, disclosed (1-4 as "<5")
    c = h["counts"]
    assert c["first_day"] == h["origin_day"] and c["stations"] == pmap.station_ids
    here0 = {s: c["here"][k][0] for k, s in enumerate(c["stations"])}
    for s, n in truth.items():
        assert here0[s] == "<5" or here0[s] >= n
    # in the first week, "arrived in the 7 days" also holds the real children who arrived before the origin
    sh, sa = read_blob(client.get("/api/stays").content)
    o = int((origin - pd.Timestamp("1970-01-01")).days)
    for k, sid in enumerate(c["stations"]):
        real = sa["child"][(sa["station"] == k) & (sa["start"] > o + 1 - 7) & (sa["start"] <= o)]
        n = len(np.unique(real))
        assert c["week"][k][1] == "<5" and n < 5 or c["week"][k][1] >= n, (sid, n, c["week"][k][1])
    values = {v for row in c["here"] + c["week"] for v in row}
    assert values <= {"<5"} | {v for v in values if isinstance(v, int) and (v == 0 or v >= 5)}
    # the children open at the origin are the first n_open simulated children, each waiting from the origin
    from cscflow.web.api.forecast import _prepared

    n_open = len(_prepared(app.state.cscflow).model.open_)
    assert n_open == sum(truth.values())
    first_leg = np.r_[True, a["child"][1:] != a["child"][:-1]]
    opened = a["child"][first_leg] < n_open
    assert (a["depart"][first_leg][opened] == h["origin_day"]).all()


def test_runs_what_ifs_and_the_cache(client, app):
    _, h1, a1 = _get(client, horizon=6, run=1)
    _, h2, a2 = _get(client, horizon=6, run=2)
    assert h1["at_origin"] == h2["at_origin"] and (h1["n_legs"] != h2["n_legs"] or not np.array_equal(a1["to"], a2["to"]))
    _, hw, _ = _get(client, horizon=6, run=1, arrivals=40)
    assert hw["what_if"] == "arrivals +40%" and "what-if: arrivals +40%" in hw["note"]
    _, hq, aq = _get(client, horizon=6, run=1, convention="queue")
    assert hq["convention"] == "queue" and aq["depart"].min() >= hq["origin_day"] and hq["n_children"] == h1["n_children"]
    st = app.state.cscflow
    found, _ = st.peek(("simulated-tracks", "travel", 6, 1, "", "", 0.0, 0.0))
    assert found


def test_bad_parameters_are_422(client):
    assert client.get(URL, params={"sex": "F"}).status_code == 422
    assert client.get(URL, params={"horizon": 0}).status_code == 422
    assert client.get(URL, params={"run": 99}).status_code == 422
    assert client.get(URL, params={"source": "nowhere", "target": "nfa", "change": -10}).status_code == 422
