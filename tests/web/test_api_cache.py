"""The web layer's cache and in-memory answers against the engine's own queries (the naive reference), and a
cached answer served while the engine is busy."""

from __future__ import annotations

import datetime as dt
import threading

import pandas as pd
import pytest

DAYS = ["2021-03-01", "2022-06-01", "2023-01-15"]


def test_child_journeys_equal_the_query_for_that_child(client, engine):
    """Read from every child's stays fetched once: the same stays, in the same order, as one query per child."""
    from cscflow.journeys import timelines, tracks

    ws, pmap = engine
    t = tracks(ws, pmap)
    tl = timelines(ws, pmap)
    labels = {s["id"]: s.get("label", s["id"]) for s in pmap.stations}
    for index in (0, 3, 5, len(t.child_ids) // 2, len(t.child_ids) - 1):
        body = client.get(f"/api/children/{index}").json()
        child = str(t.child_ids[index])
        assert body["child_id"] == child and body["index"] == index
        want = tl.filter(tl.child_id == child).order_by(["start", "seq"]).execute()
        assert [s["station"] for s in body["stays"]] == want["station"].tolist()
        assert [s["label"] for s in body["stays"]] == [labels[s] for s in want["station"]]
        assert [s["repeat"] for s in body["stays"]] == want["repeat"].tolist()
        assert [s["start"] for s in body["stays"]] == [pd.Timestamp(v).date().isoformat() for v in want["start"]]
        ends = [None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in want["end"]]
        assert [s["end"] for s in body["stays"]] == ends


@pytest.mark.parametrize("query, where", [("", None), ("&sex=F", {"sex": "F"}), ("&repeat=2", {"repeat": "2"})])
def test_station_panel_equals_the_engine_for_a_cohort(client, engine, query, where):
    from cscflow.journeys import flow, timelines

    ws, pmap = engine
    tl = timelines(ws, pmap, where=where).execute()
    start = pd.to_datetime(tl["start"]).dt.normalize()
    for day in DAYS:
        on = flow.stations_on(ws, pmap, dt.date.fromisoformat(day), where=where)
        for station in ("referral", "assessment", "cin_plan", "looked_after"):
            body = client.get(f"/api/stations/{station}?date={day}{query}").json()
            here = on.loc[on["station"] == station, "children"]
            assert body["here_now"] == (int(here.iloc[0]) if len(here) else 0), (station, day)
            week = tl[(tl["station"] == station) & (start <= day)
                      & (start >= pd.Timestamp(day) - pd.Timedelta(days=6))]
            assert body["arrived_week"] == week["child_id"].nunique(), (station, day)


def test_a_cached_answer_does_not_wait_for_the_engine(client, app):
    """While one request holds the engine (a long computation), an answer already computed is served."""
    url = f"/api/counts?date={DAYS[1]}&sex=M"
    first = client.get(url)
    assert first.status_code == 200
    st = app.state.cscflow
    held, release = threading.Event(), threading.Event()

    def busy() -> None:
        with st.lock:
            held.set()
            release.wait(30)

    worker = threading.Thread(target=busy)
    worker.start()
    held.wait(10)
    try:
        answer: list = []
        asker = threading.Thread(target=lambda: answer.append(client.get(url)))
        asker.start()
        asker.join(10)
        assert answer and answer[0].content == first.content  # answered while the engine was held
    finally:
        release.set()
        worker.join()


def test_the_cache_forgets_beyond_its_budget(web_workspace):
    from cscflow.web.app import WebState

    st = WebState(web_workspace, cache_bytes=10_000)
    try:
        for i in range(10):
            st.cached(("blob", i), lambda i=i: bytes(3_000) + bytes([i]))
        assert st._held <= 10_000 and len(st._cache) == 3  # the three most recent kept
        calls = []
        st.cached(("blob", 9), lambda: calls.append(1) or b"")
        st.cached(("blob", 0), lambda: calls.append(1) or b"x")
        assert calls == [1]  # 9 was kept, 0 was computed again
    finally:
        st.close()


def test_a_repeated_request_is_answered_from_memory_with_the_security_headers(client, app):
    st = app.state.cscflow
    url = "/api/flow/conversion?sex=F&start=2021-01-01"
    first = client.get(url)
    assert first.status_code == 200
    found, (status, headers, body) = st.peek(("answer", "/api/flow/conversion", b"sex=F&start=2021-01-01"))
    assert found and status == 200 and body == first.content
    st.put(("answer", "/api/flow/conversion", b"sex=F&start=2021-01-01"), (200, headers, b'{"sent":"again"}'))
    again = client.get(url)  # what is held is what is sent: no routing, no recomputation
    assert again.content == b'{"sent":"again"}'
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
    st.put(("answer", "/api/flow/conversion", b"sex=F&start=2021-01-01"), (status, headers, body))
    assert client.get("/api/flow/conversion?sex=%3Cx%3E").status_code == 422
    assert not st.peek(("answer", "/api/flow/conversion", b"sex=%3Cx%3E"))[0]  # only 200s are held


def test_kept_answers_go_out_gzipped_to_clients_that_accept_it(client):
    """A repeated answer of the tracks blob is sent gzip-compressed to a client accepting gzip (as browsers do),
    and decompresses to the very bytes sent plain; a client that does not accept gzip gets them plain."""
    plain = client.get("/api/tracks", headers={"accept-encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    again = client.get("/api/tracks", headers={"accept-encoding": "gzip, deflate, br"})
    assert again.headers["content-encoding"] == "gzip" and again.headers["vary"] == "accept-encoding"
    assert again.content == plain.content  # the client decompressed it
    assert int(again.headers["content-length"]) < len(plain.content) / 2
    raw = client.get("/api/tracks", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers and raw.content == plain.content
