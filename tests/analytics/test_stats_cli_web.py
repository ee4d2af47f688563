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
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# cscflow leaving-care") and lines[1].startswith("# Method: Kaplan-Meier")
    assert any(x.startswith("# Data: ") and "2022-01-01" in x for x in lines)
    assert any(x.startswith("# Disclosure control: counts of 1 to 4 shown as <5") for x in lines)
    t = pd.read_csv(out, dtype=str, comment="#")
    assert {"time", "survival", "lower", "upper", "at_risk"} <= set(t.columns)
    # 12 children, 9 leave one by one: the curve steps only where 5 events have accrued (day 45, 5th leaver)
    assert t["time"].astype(float).tolist() == [0.0, 45.0]
    assert t["events"].astype(float).tolist() == [0.0, 5.0]
    assert float(t["survival"].iloc[1]) == pytest.approx(7 / 12)  # the full data's KM at day 45
    raw = tmp_path / "raw.csv"
    r = CliRunner().invoke(cli, ["stats", str(ws_path), "leaving-care", "--as-of", "2022-01-01", "--out", str(raw),
                                 "--no-suppress"])
    assert "NOT SUPPRESSED: internal use only" in r.output
    text = raw.read_text()
    assert "# NOT SUPPRESSED: internal use only" in text
    full = pd.read_csv(raw, dtype=str, comment="#")
    assert "<5" not in set(full["at_risk"]) and len(full) > len(t)


def test_cli_figure_and_summary_carry_the_method(ws_path, tmp_path):
    html = tmp_path / "lc.html"
    r = CliRunner().invoke(cli, ["stats", str(ws_path), "leaving-care", "--as-of", "2022-01-01", "--out", str(html)])
    assert r.exit_code == 0, r.output
    page = html.read_text()
    assert "Method: Kaplan-Meier" in page and "Disclosure control" in page
    printed = CliRunner().invoke(cli, ["stats", str(ws_path), "leaving-care", "--as-of", "2022-01-01"]).output
    assert printed.splitlines()[0].startswith("cscflow km-summary") and "Disclosure control" in printed
    out = tmp_path / "lc.json"
    CliRunner().invoke(cli, ["stats", str(ws_path), "leaving-care", "--as-of", "2022-01-01", "--out", str(out)])
    body = json.loads(out.read_text())
    assert body["header"][-1].startswith("Disclosure control") and body["summary"][0]["children"] == 12


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
        assert all(row["at_risk"] == "<5" or row["at_risk"] >= 5 for row in body["rows"])
        assert all(row["events"] == 0 or row["events"] >= 5 for row in body["rows"])  # coarsened steps
        assert all(s["children"] in ("<5", "[c]") or s["children"] >= 5 for s in body["summary"])
        assert body["suppressed"] and "Disclosure control" in body["caption"]
        assert any("Method: Kaplan-Meier" in a["text"] for a in body["figure"]["layout"]["annotations"])
        csv = client.get("/api/stats/leaving-care", params={"format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("# cscflow leaving-care")
        off = client.get("/api/stats/leaving-care", params={"suppress": "false"}).json()
        assert not off["suppressed"] and "NOT SUPPRESSED" in off["figure"]["layout"]["title"]["text"]
        f = client.get("/api/stats/funnel", params={"measure": "cla_31march", "year": "2025"}).json()
        assert any(row["highlight"] for row in f["rows"])
        assert client.get("/api/stats/leaving-care", params={"by": "colour"}).status_code == 422
        assert client.get("/api/stats/funnel", params={"bogus": "1"}).status_code == 422
        assert client.get("/api/stats/nothing").status_code == 422
        assert client.get("/static/js/stats.js").status_code in (200, 404)


def test_cli_stats_list_names_every_analysis(tmp_path):
    """`cscflow stats WS list` is read from the one registry of analyses (cscflow.analytics.ANALYSES)."""
    from click.testing import CliRunner

    from cscflow.analytics import ANALYSES
    from cscflow.cli import cli

    out = CliRunner().invoke(cli, ["stats", str(tmp_path), "list"]).output
    assert [line.split()[0] for line in out.splitlines()] == list(ANALYSES)
