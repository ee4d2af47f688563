"""``cscflow practices``: the clocks file equals the Python API; the summary is suppressed."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner
from test_clocks import _s47

from cscflow import Workspace
from cscflow.cli import cli
from cscflow.practices import evaluate


def _ws(path):
    rows = []
    for i in range(12):  # Fri 20 Dec 2024: the 15th working day is 15 Jan 2025
        rows += _s47(f"c{i}", "2024-12-20", "2025-01-15" if i < 9 else "2025-01-20", team="North" if i % 2 else "South")
    rows += _s47("open1", "2025-01-10")
    with Workspace(path, la="886") as ws:
        ws.write("episodes", pd.DataFrame(rows))


def test_cli_clocks_and_summary(tmp_path):
    _ws(tmp_path / "ws")
    run = CliRunner().invoke
    r = run(cli, ["practices", str(tmp_path / "ws"), "--rule", "icpc-15wd", "--as-of", "2025-01-27",
                  "--out", str(tmp_path / "c.csv")])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(tmp_path / "c.csv", comment="#")
    with Workspace(tmp_path / "ws", read_only=True) as ws:
        want = evaluate(ws, ["icpc-15wd"], as_of="2025-01-27")
    assert got["status"].tolist() == want["status"].tolist()
    assert got["status"].value_counts().to_dict() == {"met": 9, "breached": 3, "open": 1}
    r = run(cli, ["practices", str(tmp_path / "ws"), "--rule", "icpc-15wd", "--as-of", "2025-01-27", "--summary",
                  "--by", "team", "--out", str(tmp_path / "s.json")])
    assert r.exit_code == 0, r.output
    body = json.loads((tmp_path / "s.json").read_text())
    rows = {row["team"]: row for row in body["rows"]}
    assert rows["North"]["late"] in ("<5", "[c]")  # 1 or 2 late: hidden
    shown = [v for row in body["rows"] for k, v in row.items() if k in ("due", "met", "late", "overdue")]
    assert not [v for v in shown if isinstance(v, int) and 1 <= v <= 4]
    r = run(cli, ["practices", str(tmp_path / "ws"), "--as-of", "2025-01-27", "--due-soon"])
    assert r.exit_code == 0 and "open1" in r.output  # due Fri 31 Jan, within 5 working days
    r = run(cli, ["practices", str(tmp_path / "ws"), "--rule", "nope"])
    assert r.exit_code == 1 and "no rule 'nope'" in r.output
