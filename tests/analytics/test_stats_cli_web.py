"""`cscflow stats` and /api/stats on a real DuckDB workspace: tables, suppression, clear errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from cscflow import Workspace
from cscflow.cli import cli


@pytest.fixture
def ws_path(tmp_path):
    path = tmp_path / "ws"
    rows = []
    for i in range(12):  # 12 children in care; 9 leave home after 10*i+5 days, 3 still in care
        start = pd.Timestamp("2021-01-01") + pd.Timedelta(days=3 * i)
        end = start + pd.Timedelta(days=10 * i + 5) if i < 9 else pd.NaT
        rows.append({"episode_id": f"e{i}", "child_id": f"c{i}", "stage": "looked_after", "start": start,
                     "end": end, "outcome": "returned_home" if i < 9 else None,
                     "attrs": json.dumps({"rne": "S", "legal_status": "C2" if i % 2 else "V2",
                                          "rec": "E4A" if i < 9 else None}), "source": "t"})
    with Workspace(path, la="886") as ws:
        ws.write("episodes", pd.DataFrame(rows))
        ws.write("children", pd.DataFrame({"child_id": [f"c{i}" for i in range(12)], "la": "886",
                                           "birth_month": pd.Timestamp("2015-01-01").date()}))
    return path


def test_cli_leaving_care_csv_is_suppressed(ws_path, tmp_path):
    out = tmp_path / "lc.csv"
    r = CliRunner().invoke(cli, ["stats", str(ws_path), "leaving-care", "--as-of", "2022-01-01", "--out", str(out)])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out, dtype=str)
    assert {"time", "survival", "lower", "upper", "at_risk"} <= set(t.columns)
    assert "<5" in set(t["at_risk"])  # the tail of the curve has fewer than 5 at risk
    raw = tmp_path / "raw.csv"
    CliRunner().invoke(cli, ["stats", str(ws_path), "leaving-care", "--as-of", "2022-01-01", "--out", str(raw),
                             "--no-suppress"])
    assert "<5" not in set(pd.read_csv(raw, dtype=str)["at_risk"])


def test_cli_errors_are_one_line(ws_path, tmp_path):
    r = CliRunner().invoke(cli, ["stats", str(ws_path), "nonsense"])
    assert r.exit_code == 1 and "no analysis 'nonsense'" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["stats", str(ws_path), "rereferral"])
    assert r.exit_code == 1 and "no referrals" in r.output
    r = CliRunner().invoke(cli, ["stats", str(ws_path), "funnel", "--by", "proceedings"])
    assert r.exit_code == 1 and "takes no option 'by'" in r.output
    r = CliRunner().invoke(cli, ["stats", str(tmp_path / "none"), "funnel"])
    assert r.exit_code == 1 and "no workspace" in r.output


def test_web_api_stats(ws_path):
    from cscflow.web import create_app

    app = create_app(ws_path)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        cat = client.get("/api/stats").json()
        assert {a["name"] for a in cat["analyses"]} >= {"leaving-care", "funnel", "routes", "incidence"}
        r = client.get("/api/stats/leaving-care", params={"by": "legal_status", "as_of": "2022-01-01"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["figure"]["data"] and set(body["columns"]) >= {"time", "survival", "group"}
        assert any(row["at_risk"] == "<5" for row in body["rows"])
        assert all(isinstance(s["children"], int | str) for s in body["summary"])
        csv = client.get("/api/stats/leaving-care", params={"format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv") and "<5" in csv.text
        f = client.get("/api/stats/funnel", params={"measure": "cla_31march", "year": "2025"}).json()
        assert any(row["highlight"] for row in f["rows"])
        assert client.get("/api/stats/leaving-care", params={"by": "colour"}).status_code == 422
        assert client.get("/api/stats/funnel", params={"bogus": "1"}).status_code == 422
        assert client.get("/api/stats/nothing").status_code == 422
        assert client.get("/static/js/stats.js").status_code in (200, 404)
