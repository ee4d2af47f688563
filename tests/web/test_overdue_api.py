"""``/api/overdue``, the map overlay's data: the dots whose child has a clock overdue at a date are exactly the
overdue clocks of ``cscflow.practices.evaluate`` at that date, numbered as the dots of ``/api/tracks``."""

from __future__ import annotations

import overdue_county
import pytest

DAYS = ["2021-12-09", "2022-06-01", "2023-02-02", "2024-03-31"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from fastapi.testclient import TestClient

    from cscflow.web import create_app

    app = create_app(overdue_county.build(tmp_path_factory.mktemp("overdue") / "ws"))
    yield TestClient(app, base_url="http://127.0.0.1:8765"), app.state.cscflow
    app.state.cscflow.close()


def _expected(st, day, where=None, convention="travel"):
    """(rule, child index) of every overdue clock at ``day``, from evaluate() and the engine's tracks."""
    from cscflow.journeys import tracks
    from cscflow.practices import evaluate

    with st.lock:
        clocks = evaluate(st.ws, as_of=day)
        ids = [str(c) for c in tracks(st.ws, st.pmap, convention=convention, where=where).child_ids]
    late = clocks[clocks["status"] == "overdue"]
    at = {c: i for i, c in enumerate(ids)}
    return {(r, at[c]) for r, c in zip(late["rule"], late["child_id"], strict=True) if c in at}, late


def _answered(body):
    rules = [r["rule"] for r in body["rules"]]
    return {(rules[k], i) for i, ks in zip(body["children"], body["rules_of"], strict=True) for k in ks}


@pytest.mark.parametrize("day", DAYS)
def test_overdue_dots_equal_the_evaluation(served, day):
    client, st = served
    r = client.get("/api/overdue", params={"as_of": day})
    assert r.status_code == 200, r.text
    body = r.json()
    want, late = _expected(st, day)
    assert _answered(body) == want
    assert body["as_of"] == day and body["children"] == sorted(set(body["children"]))
    assert len(want) == len(late)  # every child with an overdue clock has a dot on the map
    n = len({i for _, i in want})
    assert body["any"] == (n if n == 0 or n >= 5 else "<5")  # the count shown passes disclosure control
    assert {r["rule"] for r in body["rules"]} >= {"assessment-45wd", "icpc-15wd"}
    assert "c0001" not in r.text  # dot indices only: no pseudonymised id


def test_some_dates_have_overdue_clocks(served):
    client, _ = served
    counts = [len(client.get("/api/overdue", params={"as_of": d}).json()["children"]) for d in DAYS]
    assert counts[1] >= 3 and counts[-1] == 0, counts  # the late assessments are running in 2022, all done by 2024


def test_indices_follow_the_cohort_and_convention(served):
    client, st = served
    where = {"sex": "F"}
    body = client.get("/api/overdue", params={"as_of": DAYS[1], "convention": "queue", **where}).json()
    want, late = _expected(st, DAYS[1], where, "queue")
    assert _answered(body) == want and 0 < len(want) < len(late)


def test_default_date_and_bad_parameters(served):
    from cscflow.practices.clocks import as_of_default

    client, st = served
    body = client.get("/api/overdue").json()
    with st.lock:
        assert body["as_of"] == as_of_default(st.ws).isoformat()  # the last date of the data, as evaluate()'s
    assert client.get("/api/overdue", params={"as_of": "yesterday"}).status_code == 422
    assert client.get("/api/overdue", params={"as_of": "1850-01-01"}).status_code == 422
    bad = client.get("/api/overdue", params={"convention": "flying"})
    assert bad.status_code == 422 and "convention" in bad.json()["detail"]
    assert client.get("/api/overdue", params={"colour": "red"}).status_code == 422


def test_answers_are_kept(served):
    """A repeated request is answered from the app's answer cache (it depends on the workspace only)."""
    client, st = served
    url = f"/api/overdue?as_of={DAYS[2]}"
    first = client.get(url)
    found, hit = st.peek(("answer", "/api/overdue", f"as_of={DAYS[2]}".encode()))
    assert found and hit[2] == first.content
