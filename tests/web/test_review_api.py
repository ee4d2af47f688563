"""Breaches marked reviewed from the Timescales page: stored through the same function as ``cscflow practices
--review`` (read back by the CLI and ``practices.reviews``), only from this machine (never another host, even with
the token), notes never in an export and shown only on this machine; the reviewed and unreviewed breaches
counted through disclosure control."""

from __future__ import annotations

import overdue_county
import pytest
from click.testing import CliRunner

NOTE = "Worker <b>off sick</b>; \"rebooked\" & chased"
ACTION = "Cover rota agreed with the team manager"
RULE = "assessment-45wd"


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory):
    return overdue_county.build(tmp_path_factory.mktemp("reviews") / "ws")


def _client(path, host="127.0.0.1", token=None):
    from fastapi.testclient import TestClient

    from cscflow.web import create_app

    app = create_app(path, token=token, allowed_hosts=["*"] if token else None)
    return TestClient(app, base_url="http://127.0.0.1:8765", client=(host, 50000)), app


@pytest.fixture(scope="module")
def near(ws_path):
    client, app = _client(ws_path)
    yield client
    app.state.cscflow.close()


def _one_breach(client, status="breached", as_of=None):
    rows = client.get(f"/api/practices/{RULE}/breaches", params={"as_of": as_of} if as_of else {}).json()["rows"]
    return next(r for r in rows if r["status"] == status and not r["cause"])


def test_a_review_stored_from_the_page_is_read_by_the_cli(near, ws_path):
    from cscflow import Workspace
    from cscflow.cli import cli
    from cscflow.practices import reviews as rev

    row = _one_breach(near)
    r = near.post(f"/api/practices/{RULE}/reviews", json={"child_id": row["child_id"], "start": row["start"],
                                                          "cause": "capacity", "note": NOTE, "action": ACTION})
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == {"rule": RULE, "child_id": row["child_id"], "start": row["start"], "cause": "capacity"}
    with Workspace(ws_path, read_only=True) as ws:
        stored = rev.load(ws)
    mine = stored[(stored["child_id"] == row["child_id"]) & (stored["start"] == row["start"])]
    assert mine[["rule", "cause", "note", "action"]].values.tolist() == [[RULE, "capacity", NOTE, ACTION]]
    out = CliRunner().invoke(cli, ["practices", str(ws_path), "--rule", RULE, "--reviews", "--no-suppress"])
    assert out.exit_code == 0, out.output
    assert "capacity" in out.output and NOTE not in out.output and ACTION not in out.output
    # the page's list shows it reviewed, with its note, to this machine only
    listed = near.get(f"/api/practices/{RULE}/breaches", params={"show": "reviewed"}).json()
    got = [x for x in listed["rows"] if x["child_id"] == row["child_id"] and x["start"] == row["start"]]
    assert listed["notes_shown"] and [(x["cause"], x["note"], x["action"]) for x in got] == [("capacity", NOTE, ACTION)]
    assert all(x["cause"] for x in listed["rows"])
    left = near.get(f"/api/practices/{RULE}/breaches", params={"show": "unreviewed"}).json()["rows"]
    assert left and not any(x["child_id"] == row["child_id"] and x["start"] == row["start"] for x in left)


def test_reviewed_and_unreviewed_counts_are_disclosed(near):
    body = near.get(f"/api/practices/{RULE}").json()
    rows = body["reviews"]["rows"]
    assert "unreviewed" in body["reviews"]["columns"]
    # every month of this small county has under 5 breaches: no bars to draw when suppressed, and the page says why
    assert "under 5" in body["reviews"]["none"] and "figure" not in body["reviews"]
    counts = body["review_counts"]
    assert set(counts) == {"late", "reviewed", "unreviewed"}
    for row in [*rows, counts]:  # a count of 1-4 never leaves as a number
        assert not any(isinstance(v, int) and 1 <= v <= 4 for k, v in row.items() if k not in ("rule", "month"))
    unsuppressed = near.get(f"/api/practices/{RULE}", params={"suppress": "false"}).json()
    names = {t["name"] for t in unsuppressed["reviews"]["figure"]["data"]}
    assert {"not reviewed", "capacity"} <= names  # the stacked bars: not reviewed, and reviewed by cause
    raw = unsuppressed["review_counts"]
    assert raw["reviewed"] >= 1 and raw["late"] == raw["reviewed"] + raw["unreviewed"] >= 5
    assert counts["late"] == raw["late"] and counts["reviewed"] == ("<5" if raw["reviewed"] < 5 else raw["reviewed"])
    assert NOTE not in str(body) and NOTE not in near.get(f"/api/practices/{RULE}/due-soon.csv").text


def test_an_overdue_clock_can_be_reviewed_too(near):
    """A clock still running past its due date on the page's as-of date is a breach to review (by the data's last
    date it has stopped late: the review is kept for it)."""
    row = _one_breach(near, "overdue", as_of="2022-06-01")
    assert row["stop"] is None
    r = near.post(f"/api/practices/{RULE}/reviews", json={"child_id": row["child_id"], "start": row["start"],
                                                          "cause": "family_engagement"})
    assert r.status_code == 200, r.text
    for as_of in ("2022-06-01", None):
        listed = near.get(f"/api/practices/{RULE}/breaches", params={"as_of": as_of} if as_of else {}).json()
        got = [x for x in listed["rows"] if x["child_id"] == row["child_id"] and x["start"] == row["start"]]
        assert [x["cause"] for x in got] == ["family_engagement"]


def test_refused_from_another_host_even_with_the_token(ws_path):
    body = {"child_id": "c0001", "start": "2022-01-01", "cause": "capacity", "note": "x"}
    for token in (None, "s3cret"):
        far, app = _client(ws_path, host="192.168.1.20", token=token)
        headers = {"authorization": f"Bearer {token}"} if token else {}
        try:
            r = far.post(f"/api/practices/{RULE}/reviews", json=body, headers=headers)
            assert r.status_code == 403 and "127.0.0.1" in r.json()["detail"]
            listed = far.get(f"/api/practices/{RULE}/breaches", headers=headers).json()
            assert listed["rows"] and not listed["notes_shown"] and "note" not in listed["columns"]
            assert NOTE not in str(listed)
        finally:
            app.state.cscflow.close()


def test_bad_reviews_say_what_to_do(near):
    rows = near.get(f"/api/practices/{RULE}/breaches").json()["rows"]
    row = rows[0]
    url = f"/api/practices/{RULE}/reviews"
    r = near.post(url, json={"child_id": row["child_id"], "start": row["start"], "cause": "blame"})
    assert r.status_code == 422 and "unknown cause" in r.json()["detail"] and "capacity" in r.json()["detail"]
    r = near.post(url, json={"child_id": "c0000", "start": "2001-01-01", "cause": "capacity"})
    assert r.status_code == 422 and "no breached or overdue" in r.json()["detail"]
    r = near.post("/api/practices/nope/reviews", json={"child_id": "c0", "start": "2022-01-01", "cause": "capacity"})
    assert r.status_code == 422 and "no rule" in r.json()["detail"]
    r = near.post(url, json={"child_id": row["child_id"], "start": row["start"], "cause": "other", "note": "x" * 2001})
    assert r.status_code == 422
    # a form posted from another site (no JSON content type) is not read as a review
    r = near.post(url, content='{"child_id": "c", "start": "2022-01-01", "cause": "other"}',
                  headers={"content-type": "text/plain"})
    assert r.status_code == 422


def test_the_breaches_chart_starts_at_the_datas_window():
    """Months due before the data's window hold only the clocks of stays that lasted: the chart leaves them out (as
    the p-chart's rates do), the table keeps them."""
    import pandas as pd

    from cscflow.practices.reviews import CAUSES
    from cscflow.practices.summary import disclose
    from cscflow.web.api.practices import _reviews_chart

    months = pd.period_range("2010-01", "2012-12", freq="M").strftime("%Y-%m")
    causes = pd.DataFrame({"rule": RULE, "month": months, "late": 20, "reviewed": 0, "unreviewed": 20,
                           **{c: 0 for c in CAUSES}})
    d = disclose(causes, "practices-reviews", suppress=False)
    fig = _reviews_chart(d, RULE, pd.Timestamp("2011-04-01"))["figure"]
    xs = sorted({x for tr in fig["data"] for x in tr["x"]})
    assert xs[0] == "2011-04" and xs[-1] == "2012-12" and len(xs) == 21
    assert "April 2011" in fig["layout"]["title"]["text"]
    assert len(d.table) == 36  # the table keeps every month
    assert sorted({x for tr in _reviews_chart(d, RULE)["figure"]["data"] for x in tr["x"]})[0] == "2010-01"
